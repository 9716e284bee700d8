#!/usr/bin/env bash
# Stop the private SLURM cluster that scripts/slurm/start.sh started: cancel its jobs, then stop
# slurmd, slurmctld and munged by the pids in their pid files. Leaves no daemon running;
# the link /etc/slurm/slurm.conf is removed, state and logs stay in $DSB_SLURM_DIR for inspection.
# Safe to run when nothing is running.
set -euo pipefail

DIR=${DSB_SLURM_DIR:-/var/lib/dsb-slurm}

log() { echo "[slurm] $*" >&2; }

alive() { [[ -f "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

# Jobs run in slurmstepd processes that outlive slurmd, so they are cancelled first.
if alive "$DIR/slurmctld.pid"; then
    scancel --full --cluster=dsb --state=PENDING 2>/dev/null || true
    scancel --full --cluster=dsb --state=RUNNING 2>/dev/null || true
    for _ in $(seq 30); do
        [[ -z $(squeue --noheader --states=RUNNING,COMPLETING 2>/dev/null) ]] && break
        sleep 1
    done
fi

stop() {
    local name=$1 pidfile=$2
    alive "$pidfile" || return 0
    local pid
    pid=$(cat "$pidfile")
    log "stopping $name (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 40); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.25
    done
    if kill -0 "$pid" 2>/dev/null; then
        log "$name did not stop in 10 s: killing it"
        kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$pidfile"
}

stop slurmd "$DIR/slurmd.pid"
stop slurmctld "$DIR/slurmctld.pid"
stop munged "$DIR/munge/munged.pid"

if [[ "$(readlink /etc/slurm/slurm.conf 2>/dev/null)" == "$DIR/slurm.conf" ]]; then
    rm -f /etc/slurm/slurm.conf
fi
