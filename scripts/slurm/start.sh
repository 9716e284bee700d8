#!/usr/bin/env bash
# Start a private single-node SLURM cluster on this machine, for testing the slurm profile.
#
# Installs Debian's `slurm-wlm` and `munge` if they are missing (needs root and apt-get), writes
# a slurm.conf for this host into $DSB_SLURM_DIR, starts munged, slurmctld and slurmd from there
# (no systemd needed: plain daemons with pid files), and waits until the node is idle.
# Idempotent: daemons that are already running from $DSB_SLURM_DIR are left alone.
#
# Everything lives in $DSB_SLURM_DIR (own munge key and socket, state, logs) except two symbolic
# links, /etc/slurm/{slurm,gres}.conf -> $DSB_SLURM_DIR/, which stop.sh removes again. SLURM_CONF
# alone would not do: the executor plugin's job step drops every SLURM_* variable before it calls
# srun, so srun inside a job must find the configuration at its default place.
#     scripts/slurm/start.sh
#     sinfo; snakemake --profile workflow/profiles/slurm ...
#     scripts/slurm/stop.sh                 # stops every daemon started here
#
# Choices that a single container needs (a real cluster sets these by its own needs):
#   * no slurmdbd: AccountingStorageType=accounting_storage/none. The executor plugin then asks
#     `squeue` for job states (--slurm-status-command squeue), which sees finished jobs for
#     MinJobAge seconds; jobcomp/filetxt keeps a record of every finished job in jobcomp.txt.
#   * ProctrackType=proctrack/linuxproc and TaskPlugin=task/none: cgroups are often unavailable
#     or read-only inside containers.
#   * SelectType=select/cons_tres with CR_Core_Memory: cores and memory are consumable, so jobs'
#     `mem_mb` requests are scheduled against RealMemory just as on a cluster.
#   * SlurmUser=root: the daemons run as the (root) user who started them.
#   * DSB_SLURM_GPUS=N (default 0) declares N scheduling-only GPUs of type `fake` (gres.conf points
#     at character devices made here), so that jobs asking for `gpu`/`gpu_model` are scheduled,
#     counted and given CUDA_VISIBLE_DEVICES as on a GPU cluster, while their code runs on the CPU.
set -euo pipefail

DIR=${DSB_SLURM_DIR:-/var/lib/dsb-slurm}
PORT=${DSB_SLURM_PORT:-6817}
PARTITION=${DSB_SLURM_PARTITION:-debug}
GPUS=${DSB_SLURM_GPUS:-0}
NODE=$(hostname -s)
CPUS=$(nproc)
# Leave ~15% of memory to the operating system and to the daemons themselves.
MEM_MB=$(awk '/MemTotal/ {print int($2 / 1024 * 0.85)}' /proc/meminfo)

log() { echo "[slurm] $*" >&2; }

if [[ $(id -u) -ne 0 ]]; then
    log "error: must run as root (it installs packages and starts the SLURM daemons)"
    exit 1
fi

if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null ||
    ! command -v sbatch >/dev/null || ! command -v munged >/dev/null; then
    if ! command -v apt-get >/dev/null; then
        log "error: slurmctld/slurmd/munged missing and no apt-get to install slurm-wlm and munge"
        exit 1
    fi
    log "installing slurm-wlm and munge from Debian"
    export DEBIAN_FRONTEND=noninteractive
    # The packages' own services (a system munged, slurmctld, slurmd) must not start: only the
    # daemons below, which stop.sh stops, may run. policy-rc.d answers "not allowed" to them.
    if [[ ! -e /usr/sbin/policy-rc.d ]]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
        chmod +x /usr/sbin/policy-rc.d
        trap 'rm -f /usr/sbin/policy-rc.d' EXIT
    fi
    apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null 2>&1 ||
        { apt-get update -qq >/dev/null &&
            apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null; }
fi

mkdir -p "$DIR"/{munge,ctld,spool,log}
# munged insists that its socket directory is searchable by all and its key readable by it only.
chmod 755 "$DIR" "$DIR/munge"
[[ -f "$DIR/munge/munge.key" ]] || mungekey --create --keyfile="$DIR/munge/munge.key"
chmod 600 "$DIR/munge/munge.key"

# Fake GPUs: character devices with /dev/null's numbers; slurmd only checks that they exist
# (a plain file also works where mknod is not allowed, with a complaint in slurmd's log).
GRES=""
GRES_CONF=""
if ((GPUS > 0)); then
    for ((i = 0; i < GPUS; i++)); do
        [[ -e "$DIR/fake-gpu$i" ]] || mknod "$DIR/fake-gpu$i" c 1 3 2>/dev/null ||
            touch "$DIR/fake-gpu$i"
    done
    GRES="Gres=gpu:fake:$GPUS"
    GRES_CONF="NodeName=$NODE Name=gpu Type=fake File=$DIR/fake-gpu[0-$((GPUS - 1))]"
fi

new_conf=$(
    cat <<EOF
# Written by dsb scripts/slurm/start.sh; rewritten at every start.
ClusterName=dsb
SlurmctldHost=$NODE(127.0.0.1)
SlurmctldPort=$PORT
SlurmdPort=$((PORT + 1))
AuthType=auth/munge
AuthInfo=socket=$DIR/munge/munge.socket
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$DIR/ctld
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SchedulerType=sched/backfill
ReturnToService=2
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$DIR/log/jobcomp.txt
MinJobAge=600
GresTypes=gpu
NodeName=$NODE NodeAddr=127.0.0.1 $GRES CPUs=$CPUS RealMemory=$MEM_MB State=UNKNOWN
PartitionName=$PARTITION Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
EOF
)

# A running cluster whose configuration changed (say, another DSB_SLURM_GPUS) is restarted.
if [[ -f "$DIR/slurm.conf" && ("$new_conf" != "$(cat "$DIR/slurm.conf")" ||
    "$GRES_CONF" != "$(cat "$DIR/gres.conf" 2>/dev/null)") ]]; then
    log "configuration changed: restarting"
    DSB_SLURM_DIR="$DIR" "$(dirname "$0")/stop.sh"
fi
echo "$new_conf" >"$DIR/slurm.conf"
echo "$GRES_CONF" >"$DIR/gres.conf"

# slurmd reads gres.conf from the directory of the slurm.conf it was given, and the executor
# plugin's job steps need slurm.conf at its default place: both are linked from /etc/slurm.
# Someone else's configuration there is never replaced.
mkdir -p /etc/slurm
for conf in slurm.conf gres.conf; do
    link=/etc/slurm/$conf
    if [[ (-e "$link" || -L "$link") && "$(readlink "$link")" != "$DIR/$conf" ]]; then
        log "error: $link exists and is not ours; this machine has its own SLURM configuration"
        exit 1
    fi
    ln -sfn "$DIR/$conf" "$link"
done

running() { [[ -f "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

if ! running "$DIR/munge/munged.pid"; then
    log "starting munged"
    munged --socket="$DIR/munge/munge.socket" --key-file="$DIR/munge/munge.key" \
        --pid-file="$DIR/munge/munged.pid" --log-file="$DIR/log/munged.log" \
        --seed-file="$DIR/munge/munged.seed"
fi
if ! running "$DIR/slurmctld.pid"; then
    log "starting slurmctld"
    slurmctld
fi
if ! running "$DIR/slurmd.pid"; then
    log "starting slurmd"
    slurmd
fi

# slurmd registers within seconds; a node left down or drained by an earlier run is resumed.
state=""
for _ in $(seq 60); do
    state=$(sinfo --noheader --nodes="$NODE" --format=%T 2>/dev/null || true)
    case "$state" in
    idle | mixed | allocated) break ;;
    down* | drain* | fail* | inval*) scontrol update NodeName="$NODE" State=RESUME 2>/dev/null || true ;;
    esac
    sleep 1
done
if [[ ! "$state" =~ ^(idle|mixed|allocated)$ ]]; then
    log "error: node $NODE did not become idle (state '$state'); see $DIR/log/"
    exit 1
fi
log "node $NODE is $state: $CPUS CPUs, $MEM_MB MB, $GPUS fake GPUs, partition $PARTITION"
