#!/usr/bin/env bash
# Configure and start a single-node SLURM cluster on this machine (Debian's slurmctld, slurmd, slurm-client,
# munge), as root: munged, then slurmctld and slurmd; wait until the node is idle. Idempotent: exits 0 at
# once when `sinfo` already shows an idle node. Exit status non-zero (with a one-line reason) when it cannot
# start. The tests call it; .ci/run calls it and fails when it fails.
set -uo pipefail
up() { sinfo -h -o '%t' 2>/dev/null | grep -qE '^(idle|mix|alloc)'; }
up && exit 0
[ "$(id -u)" = 0 ] || { echo "start_slurm: needs root (slurmd runs jobs as any user)"; exit 1; }
# one starter at a time (test files start it concurrently); the others then find the node up
exec 9>/tmp/sae-start-slurm.lock
flock -w 120 9 || { echo "start_slurm: another start has held /tmp/sae-start-slurm.lock for 120 s"; exit 1; }
up && exit 0
for b in munged slurmctld slurmd sinfo; do
  command -v "$b" >/dev/null 2>&1 || [ -x "/usr/sbin/$b" ] || { echo "start_slurm: $b is not installed"; exit 1; }
done
export PATH="$PATH:/usr/sbin"
host=$(hostname -s)
cpus=$(nproc)
mem=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 - 512 ))

mkdir -p /etc/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm /run/munge /var/lib/munge /var/log/munge
cat > /etc/slurm/slurm.conf <<CONF
ClusterName=sae
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ReturnToService=2
SchedulerType=sched/backfill
# start a job whose dependency was just satisfied within about a second (defaults: up to 3 s per job, 30 s backfill)
SchedulerParameters=bf_interval=1,sched_min_interval=0,batch_sched_delay=0
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
MinJobAge=3600
KillWait=10
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
NodeName=$host CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=main Nodes=$host Default=YES MaxTime=INFINITE State=UP OverSubscribe=YES
CONF

if ! pgrep -x munged >/dev/null; then
  if [ ! -s /etc/munge/munge.key ]; then
    mkdir -p /etc/munge
    dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
  fi
  chown -R munge:munge /etc/munge /run/munge /var/lib/munge /var/log/munge 2>/dev/null
  chmod 700 /etc/munge; chmod 400 /etc/munge/munge.key
  # 9>&-: a daemon must not inherit the lock, or it holds it for its whole life and the next start waits
  su -s /bin/sh munge -c "/usr/sbin/munged" 9>&- || { echo "start_slurm: munged did not start"; exit 1; }
fi
pgrep -x slurmctld >/dev/null || /usr/sbin/slurmctld 9>&- || { echo "start_slurm: slurmctld did not start (see /var/log/slurm/slurmctld.log)"; exit 1; }
pgrep -x slurmd >/dev/null || /usr/sbin/slurmd 9>&- || { echo "start_slurm: slurmd did not start (see /var/log/slurm/slurmd.log)"; exit 1; }
for _ in $(seq 1 60); do
  up && exit 0
  scontrol update nodename="$host" state=resume >/dev/null 2>&1
  sleep 0.5
done
echo "start_slurm: the node did not become idle within 30 s: $(sinfo -h -o '%t %E' 2>&1 | head -1)"
exit 1
