#!/usr/bin/env bash
# Start a private single-node SLURM cluster on this machine, for testing the slurm profile.
#
# Installs Debian's `slurm-wlm` and `munge` if they are missing (needs root and apt-get), writes
# a slurm.conf for this host into $DSB_SLURM_DIR, starts munged, slurmctld and slurmd from there
# (no systemd needed: plain daemons with pid files), and waits until the node is idle.
# Idempotent: daemons that are already running from $DSB_SLURM_DIR are left alone.
#
# Everything lives in $DSB_SLURM_DIR (own munge key and socket, state, logs) except one symbolic
# link, /etc/slurm/slurm.conf -> $DSB_SLURM_DIR/slurm.conf, which stop.sh removes again. SLURM_CONF
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
set -euo pipefail

DIR=${DSB_SLURM_DIR:-/var/lib/dsb-slurm}
PORT=${DSB_SLURM_PORT:-6817}
PARTITION=${DSB_SLURM_PARTITION:-debug}
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
    apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null 2>&1 ||
        { apt-get update -qq >/dev/null &&
            apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null; }
fi

mkdir -p "$DIR"/{munge,ctld,spool,log}
# munged insists that its socket directory is searchable by all and its key readable by it only.
chmod 755 "$DIR" "$DIR/munge"
[[ -f "$DIR/munge/munge.key" ]] || mungekey --create --keyfile="$DIR/munge/munge.key"
chmod 600 "$DIR/munge/munge.key"

CONF="$DIR/slurm.conf"
cat >"$CONF" <<EOF
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
NodeName=$NODE NodeAddr=127.0.0.1 CPUs=$CPUS RealMemory=$MEM_MB State=UNKNOWN
PartitionName=$PARTITION Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
EOF
# A configuration of someone else's SLURM is never replaced.
LINK=/etc/slurm/slurm.conf
if [[ -e "$LINK" || -L "$LINK" ]] && [[ "$(readlink "$LINK")" != "$CONF" ]]; then
    log "error: $LINK exists and is not ours; this machine has its own SLURM configuration"
    exit 1
fi
mkdir -p /etc/slurm
ln -sfn "$CONF" "$LINK"

running() { [[ -f "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

if ! running "$DIR/munge/munged.pid"; then
    log "starting munged"
    munged --socket="$DIR/munge/munge.socket" --key-file="$DIR/munge/munge.key" \
        --pid-file="$DIR/munge/munged.pid" --log-file="$DIR/log/munged.log" \
        --seed-file="$DIR/munge/munged.seed"
fi
if ! running "$DIR/slurmctld.pid"; then
    log "starting slurmctld"
    slurmctld -f "$CONF"
fi
if ! running "$DIR/slurmd.pid"; then
    log "starting slurmd"
    slurmd -f "$CONF"
fi

# slurmd registers within seconds; a node left down or drained by an earlier run is resumed.
state=""
for _ in $(seq 60); do
    state=$(sinfo --noheader --nodes="$NODE" --format=%T 2>/dev/null || true)
    case "$state" in
    idle | mixed | allocated) break ;;
    down* | drain* | fail*) scontrol update NodeName="$NODE" State=RESUME 2>/dev/null || true ;;
    esac
    sleep 1
done
if [[ ! "$state" =~ ^(idle|mixed|allocated)$ ]]; then
    log "error: node $NODE did not become idle (state '$state'); see $DIR/log/"
    exit 1
fi
log "node $NODE is $state: $CPUS CPUs, $MEM_MB MB, partition $PARTITION"
