#!/usr/bin/env bash
# Stop the private SLURM cluster that scripts/slurm/start.sh started: cancel its jobs, then stop
# slurmd, slurmctld and munged by the pids in their pid files. Leaves no daemon running;
# the links in /etc/slurm are removed, state and logs stay in $DSB_SLURM_DIR for inspection.
# Safe to run when nothing is running.
set -euo pipefail

DIR=${DSB_SLURM_DIR:-/var/lib/dsb-slurm}

log() { echo "[slurm] $*" >&2; }

alive() { [[ -f "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

# Jobs run in slurmstepd processes that outlive slurmd, and jobs left in slurmctld's saved state
# would start again at the next start: every job of this private cluster is cancelled first.
if alive "$DIR/slurmctld.pid"; then
    for _ in $(seq 30); do
        jobs=$(squeue --noheader --format=%i 2>/dev/null || true)
        [[ -z "$jobs" ]] && break
        # shellcheck disable=SC2086 # one argument per job id
        scancel --full $jobs 2>/dev/null || true
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

for conf in slurm.conf gres.conf; do
    if [[ "$(readlink "/etc/slurm/$conf" 2>/dev/null)" == "$DIR/$conf" ]]; then
        rm -f "/etc/slurm/$conf"
    fi
done
