#!/bin/bash
# A one-node Slurm cluster on this machine, to check slashscope under srun/sbatch by hand
# (docs/cluster.md, "Slurm on one machine"). A manual check, NOT part of CI: it needs root,
# Debian 12's slurm-wlm and munge (installed here if absent) and starts three daemons.
#
#   scripts/slurm_local.sh start    # munged, slurmctld, slurmd; waits until the node is idle
#   eval "$(scripts/slurm_local.sh env)"   # SLURM_CONF for srun/sbatch/sinfo in this shell
#   srun -n 2 --mpi=pmix ./build/slashscope scan ...
#   scripts/slurm_local.sh stop     # stops the three daemons (by their pid files)
#   scripts/slurm_local.sh status
#   scripts/slurm_local.sh check [BIN]   # start, then srun/sbatch runs compared with one process
#
# Everything lives in one directory, SS_SLURM_DIR (default /var/tmp/slashscope-slurm): the
# slurm.conf, a private munge key and socket, spool, state, logs and pid files, so nothing in
# /etc/slurm or /run/munge is touched and a real installation is not disturbed. Idempotent:
# `start` leaves running daemons alone and rewrites the config only when it changed; `stop`
# ends only the daemons whose pid files are in SS_SLURM_DIR. The node is this host with all its
# CPUs (slurmd -C); the ports are SS_SLURM_PORT and SS_SLURM_PORT+1 (default 6817, 6818).
set -euo pipefail
D=${SS_SLURM_DIR:-/var/tmp/slashscope-slurm}
PORT=${SS_SLURM_PORT:-6817}
CONF=$D/slurm.conf
die() { echo "slurm_local.sh: $*" >&2; exit 1; }

alive() { # PIDFILE: is the daemon it names running? (the pid, and its name, so a reused pid
    # of another program is never taken for it, nor stopped)
    local pid
    [ -s "$1" ] || return 1
    pid=$(cat "$1")
    [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$(basename "$1" .pid)" ]
}

need_packages() {
    command -v slurmctld >/dev/null && command -v slurmd >/dev/null &&
        command -v munged >/dev/null && command -v srun >/dev/null && return 0
    [ "$(id -u)" -eq 0 ] || die "slurmctld/slurmd/munged/srun missing; as root: apt-get install slurm-wlm munge"
    DEBIAN_FRONTEND=noninteractive apt-get install -y slurm-wlm munge >/dev/null ||
        die "apt-get install slurm-wlm munge failed"
}

write_conf() {
    local host node tmp
    host=$(hostname -s)
    # this host as slurmd sees it (CPUs, sockets, cores, memory): Slurm drains a node whose
    # config claims more than it has
    node=$(slurmd -C | head -1) || die "slurmd -C failed"
    [[ $node == NodeName=$host* ]] || die "slurmd -C printed '$node', expected NodeName=$host ..."
    tmp=$CONF.tmp
    cat >"$tmp" <<EOF
# written by slashscope scripts/slurm_local.sh: a one-node cluster for manual checks
ClusterName=slashscope-local
SlurmctldHost=$host
SlurmctldPort=$PORT
SlurmdPort=$((PORT + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$D/munge/munge.socket
StateSaveLocation=$D/state
SlurmdSpoolDir=$D/spool
SlurmctldPidFile=$D/run/slurmctld.pid
SlurmdPidFile=$D/run/slurmd.pid
SlurmctldLogFile=$D/log/slurmctld.log
SlurmdLogFile=$D/log/slurmd.log
# no systemd/cgroup delegation in a container: track processes by their parent links
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
MpiDefault=none
$node State=UNKNOWN
PartitionName=local Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
    if [ -f "$CONF" ] && cmp -s "$tmp" "$CONF"; then rm -f "$tmp"; else mv "$tmp" "$CONF"; fi
}

start_munge() {
    alive "$D/run/munged.pid" && return 0
    if [ ! -s "$D/munge/munge.key" ]; then
        # a private key: this cluster's credentials are valid only for its own daemons
        dd if=/dev/urandom of="$D/munge/munge.key.tmp" bs=1 count=1024 status=none
        chmod 600 "$D/munge/munge.key.tmp"
        mv "$D/munge/munge.key.tmp" "$D/munge/munge.key"
    fi
    # --force: munged refuses root and a non-default layout without it
    munged --force --socket="$D/munge/munge.socket" --key-file="$D/munge/munge.key" \
        --pid-file="$D/run/munged.pid" --log-file="$D/log/munged.log" \
        --seed-file="$D/munge/munged.seed" ||
        die "munged did not start; see $D/log/munged.log"
}

start() {
    need_packages
    mkdir -p "$D"/{munge,state,spool,run,log}
    chmod 700 "$D/munge"
    write_conf
    start_munge
    alive "$D/run/slurmctld.pid" || slurmctld -f "$CONF" ||
        die "slurmctld did not start; see $D/log/slurmctld.log"
    alive "$D/run/slurmd.pid" || slurmd -f "$CONF" ||
        die "slurmd did not start; see $D/log/slurmd.log"
    local i state=""
    for ((i = 0; i < 60; i++)); do
        state=$(SLURM_CONF=$CONF sinfo -h -o %T 2>/dev/null || true)
        [ "$state" = idle ] && break
        # a node left down/drained by an earlier run: put it back
        [[ $state == down* || $state == drain* ]] &&
            SLURM_CONF=$CONF scontrol update nodename="$(hostname -s)" state=resume 2>/dev/null || true
        sleep 1
    done
    [ "$state" = idle ] || die "the node is '$state', not idle, after 60 s; see $D/log/"
    echo "slurm_local.sh: one-node cluster up ($CONF); run: export SLURM_CONF=$CONF" >&2
}

stop_one() { # NAME PIDFILE
    alive "$2" || { rm -f "$2"; return 0; }
    local pid i
    pid=$(cat "$2")
    kill "$pid"
    for ((i = 0; i < 100; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && die "$1 (pid $pid) did not stop"
    rm -f "$2"
}

stop() {
    stop_one slurmd "$D/run/slurmd.pid"
    stop_one slurmctld "$D/run/slurmctld.pid"
    stop_one munged "$D/run/munged.pid"
    echo "slurm_local.sh: stopped (state kept in $D; rm -rf it to start afresh)" >&2
}

status() {
    local n
    for n in munged slurmctld slurmd; do
        if alive "$D/run/$n.pid"; then echo "$n: running (pid $(cat "$D/run/$n.pid"))"
        else echo "$n: stopped"; fi
    done
    alive "$D/run/slurmctld.pid" && SLURM_CONF=$CONF sinfo || true
}

# check [BIN]: scan, rank and freq under srun -n 1, 2, 3 (--overcommit: 3 tasks on 2 CPUs)
# against one plain process (tests/mpi_compare.py: counts bit for bit, sums to 1e-12), with 7
# prompts (divisible by neither 2 nor 3); mpirun inside salloc; an sbatch of docs/cluster.md's
# script shape (a first run with --resume); its array-job alternative with merge; a job
# cancelled mid-scan and resumed under srun with another number of tasks; a bad prompt failing
# the job with its rank named; and whether srun --mpi=pmi2 can start Debian's Open MPI
# (informational: it cannot, see docs/cluster.md).
check() {
    local here bin model py t fails=0
    here=$(cd "$(dirname "$0")/.." && pwd)
    bin=$(realpath "${1:-$here/build/slashscope}")
    model=${SS_SHARED:-$here/../shared}/fixtures/mistral_mha/hf
    py=/usr/bin/python3
    [ -x "$bin" ] || die "check: $bin is not an executable slashscope"
    [ -d "$model" ] || die "check: no test model at $model (set SS_SHARED)"
    start
    # from here on failures are counted, not fatal
    set +e +o pipefail
    export SLURM_CONF=$CONF
    t=$(mktemp -d /tmp/slurm_check.XXXXXX)
    ok() { echo "ok: $*"; }
    bad() { echo "FAIL: $*"; fails=$((fails + 1)); }
    same() { # WHAT REF OTHER
        local out
        if out=$("$py" "$here/tests/mpi_compare.py" "$2" "$3" 2>&1); then ok "$1 ($(tail -1 <<<"$out"))"
        else bad "$1: $out"; fi
    }
    folder() { # WHAT DIR: committed whole (SHA256SUMS checks), no work folder or lock left
        [ -e "$2.partial" ] && bad "$1 left $2.partial"
        [ -e "$2.lock" ] && bad "$1 left $2.lock"
        (cd "$2" && sha256sum --quiet -c SHA256SUMS) >/dev/null 2>&1 || bad "$1: SHA256SUMS does not check"
    }
    local src=(--ood 7 --seed 9 --len 64 --threads 1 --quiet)
    local -A extra=([scan]="--maps L0H1,L1H3 --map-size 16" [rank]="" [freq]="--heads L0H1,L1H3")
    local c k
    for c in scan rank freq; do
        # shellcheck disable=SC2086 # extra holds separate words
        "$bin" $c "$model" "${src[@]}" ${extra[$c]} --out "$t/$c.ref" >/dev/null 2>"$t/err" ||
            bad "plain $c: $(cat "$t/err")"
        for k in 1 2 3; do
            # shellcheck disable=SC2086
            if srun -n $k --overcommit --mpi=pmix "$bin" $c "$model" "${src[@]}" ${extra[$c]} \
                --out "$t/$c.$k" >/dev/null 2>"$t/err"; then
                same "srun -n $k --mpi=pmix $c = one process" "$t/$c.ref" "$t/$c.$k"
                folder "srun -n $k $c" "$t/$c.$k"
            else
                bad "srun -n $k $c: $(tail -3 "$t/err")"
            fi
        done
    done

    # Open MPI's own launcher inside an allocation (its plm/ras slurm components start the ranks)
    if salloc -Q -n 2 env OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 mpirun "$bin" \
        scan "$model" "${src[@]}" ${extra[scan]} --out "$t/salloc" >/dev/null 2>"$t/err"; then
        same "salloc -n 2 mpirun scan = one process" "$t/scan.ref" "$t/salloc"
        folder "salloc mpirun" "$t/salloc"
    else
        bad "salloc -n 2 mpirun: $(tail -3 "$t/err")"
    fi

    # the batch script of docs/cluster.md on one node: 2 tasks x 1 CPU, --resume on a first run
    cat >"$t/job.sh" <<JOBEOF
#!/bin/bash
#SBATCH --job-name=sdh-scan
#SBATCH --nodes=1
#SBATCH --ntasks-per-node=2
#SBATCH --cpus-per-task=1
#SBATCH --output=$t/batch.%j.log
export OMP_NUM_THREADS=\$SLURM_CPUS_PER_TASK OMP_WAIT_POLICY=passive
srun --mpi=pmix "$bin" scan "$model" ${src[*]} ${extra[scan]} \\
    --out "$t/batch" --resume --checkpoint-every 4 --quiet
JOBEOF
    if sbatch --wait -Q "$t/job.sh" >/dev/null; then
        same "sbatch (2 tasks, --resume on a first run) = one process" "$t/scan.ref" "$t/batch"
        folder "sbatch" "$t/batch"
    else
        bad "sbatch: $(cat "$t"/batch.*.log)"
    fi

    # the array-job alternative of docs/cluster.md: 3 shards by awk, then merge after them
    local stories=${SS_SHARED:-$here/../shared}/models/stories260K/stories260K.bin
    local jsonl=${SS_SHARED:-$here/../shared}/prompts/stories260K-samples.jsonl jid
    "$bin" scan "$stories" --prompts "$jsonl" --len 64 --threads 1 --quiet --out "$t/arr.ref" \
        >/dev/null 2>"$t/err" || bad "plain scan of $jsonl: $(cat "$t/err")"
    cat >"$t/shard.sh" <<JOBEOF
#!/bin/bash
#SBATCH --job-name=sdh-shard
#SBATCH --array=0-2
#SBATCH --cpus-per-task=1
#SBATCH --output=$t/shard.%A_%a.log
export OMP_NUM_THREADS=\$SLURM_CPUS_PER_TASK OMP_WAIT_POLICY=passive
cd "$t"
awk -v n=3 -v i=\$SLURM_ARRAY_TASK_ID 'NR % n == i' "$jsonl" > shard.\$SLURM_ARRAY_TASK_ID.jsonl
"$bin" scan "$stories" --prompts shard.\$SLURM_ARRAY_TASK_ID.jsonl --len 64 \\
    --out shards/\$SLURM_ARRAY_TASK_ID --resume --quiet
JOBEOF
    if jid=$(sbatch --parsable "$t/shard.sh") &&
        sbatch -Q --wait --dependency=afterok:"$jid" --output="$t/merge.log" \
            --wrap "'$bin' merge '$t/shards/0' '$t/shards/1' '$t/shards/2' --out '$t/merged'"; then
        same "sbatch --array=0-2 shards, then merge = one process" "$t/arr.ref" "$t/merged"
        folder "merge" "$t/merged"
    else
        bad "array + merge: $(cat "$t"/shard.*.log "$t/merge.log" 2>/dev/null | tail -5)"
    fi

    # cancel a 3-task scan once every task has checkpointed; resume with 2 tasks
    local long=(--ood 150 --seed 9 --len 256 --threads 1 --quiet --maps L0H1,L1H3 --map-size 16) i
    "$bin" scan "$model" "${long[@]}" --out "$t/long.ref" >/dev/null 2>&1 || bad "plain long scan"
    srun -n 3 --overcommit --mpi=pmix -J ss-cancel "$bin" scan "$model" "${long[@]}" \
        --checkpoint-every 1 --out "$t/long" >/dev/null 2>&1 &
    local sp=$!
    for ((i = 0; i < 3000; i++)); do
        [ "$(find "$t/long.partial/checkpoint" -name state.json 2>/dev/null | wc -l)" -ge 3 ] && break
        sleep 0.01
    done
    sleep 0.5
    scancel -n ss-cancel
    if wait $sp; then bad "the cancelled job exited 0"; else ok "scancel mid-scan: the job failed"; fi
    [ -e "$t/long" ] && bad "the scan ended before scancel: make it longer"
    [ -f "$t/long.partial/checkpoint/state.json" ] || bad "no checkpoint after scancel"
    if srun -n 2 --mpi=pmix "$bin" scan "$model" "${long[@]}" --resume --out "$t/long" \
        >/dev/null 2>"$t/err"; then
        same "cancelled at -n 3, resumed at -n 2 = one process" "$t/long.ref" "$t/long"
        folder "the resumed job" "$t/long"
    else
        bad "resume under srun -n 2: $(tail -3 "$t/err")"
    fi

    # SIGTERM, from scancel and from the time limit (--signal=TERM@60): every task saves the
    # prompts it finished (--checkpoint-every 1000: the periodic checkpoint would hold none)
    held() { # CHECKPOINT_DIR: the prompts its state holds
        "$py" -c 'import json, sys; print(len(json.load(open(sys.argv[1] + "/state.json"))["state"]["held"]))' \
            "$1" 2>/dev/null || echo 0
    }
    saved() { # WHAT OUT: both tasks' checkpoints hold prompts, the message says --resume
        local n0 n1
        n0=$(held "$2.partial/checkpoint") n1=$(held "$2.partial/checkpoint/rank1")
        [ "$n0" -gt 0 ] && [ "$n1" -gt 0 ] && ok "$1: each task saved its finished prompts ($n0 + $n1)" ||
            bad "$1: the checkpoints hold $n0 + $n1 prompts"
        grep -q "stopped by SIGTERM.*--resume" "$2.err" || bad "$1: no SIGTERM message: $(tail -3 "$2.err")"
        [ -e "$2" ] && bad "$1: a result folder"
    }
    local terms=(--ood 400 --seed 5 --len 1024 --allow-long --threads 1 --quiet --kappa-large 0.01)
    "$bin" scan "$model" "${terms[@]}" --out "$t/term.ref" >/dev/null 2>&1 || bad "plain scan (SIGTERM)"
    srun -n 2 --mpi=pmix -J ss-term "$bin" scan "$model" "${terms[@]}" --checkpoint-every 1000 \
        --out "$t/term" >/dev/null 2>"$t/term.err" &
    sp=$!
    for ((i = 0; i < 3000; i++)); do
        [ -f "$t/term.partial/checkpoint/state.json" ] && break
        sleep 0.01
    done
    sleep 1
    scancel -n ss-term
    if wait $sp; then bad "the cancelled job exited 0"; else ok "scancel: the job failed"; fi
    saved "scancel (SIGTERM)" "$t/term"
    if srun -n 3 --overcommit --mpi=pmix "$bin" scan "$model" "${terms[@]}" --resume \
        --out "$t/term" >/dev/null 2>"$t/err"; then
        same "SIGTERM by scancel at -n 2, resumed at -n 3 = one process" "$t/term.ref" "$t/term"
    else
        bad "resume after scancel: $(tail -3 "$t/err")"
    fi
    cat >"$t/limit.sh" <<JOBEOF
#!/bin/bash
#SBATCH --ntasks=2
#SBATCH --time=2
#SBATCH --signal=TERM@60
#SBATCH --output=$t/limit.log
srun --mpi=pmix "$bin" scan "$model" --ood 20000 --seed 5 --len 1024 --allow-long --threads 1 \
    --quiet --kappa-large 0.01 --checkpoint-every 1000 --out "$t/limit" 2>"$t/limit.err"
JOBEOF
    local t0=$SECONDS
    sbatch --wait -Q "$t/limit.sh" >/dev/null && bad "the time-limited job exited 0"
    ok "time limit with --signal=TERM@60: the job ended after $((SECONDS - t0)) s"
    saved "time limit (SIGTERM 60 s before)" "$t/limit"

    # a bad prompt (line 4) fails the whole job, naming the rank and the line
    # 5 prompts of 64 ids in [0, 100), token 11 of line 4 outside the vocabulary
    awk 'BEGIN { for (i = 0; i < 5; i++) { s = ""
        for (j = 0; j < 64; j++) s = s (j ? " " : "") (i == 3 && j == 10 ? 1000000 : (7 * j + 13 * i) % 100)
        print s } }' >"$t/bad.ids"
    local err rc
    err=$(srun -n 2 --mpi=pmix "$bin" scan "$model" --ids-file "$t/bad.ids" --len 64 --threads 1 \
        --quiet --out "$t/bad" 2>&1)
    rc=$?
    if [ $rc -ne 0 ] && grep -Eq "rank [01] of 2.*bad.ids:4.*outside the model's vocabulary" <<<"$err"
    then ok "a bad prompt fails the srun job (exit $rc), naming the rank and the line"
    else bad "bad prompt under srun: exit $rc, $err"; fi
    [ -e "$t/bad" ] && bad "the failed job wrote a result folder"
    [ -f "$t/bad.partial/checkpoint/state.json" ] || bad "the failed job left no checkpoint"

    # PMI2: Debian's Open MPI 4.1 has no PMI-1/PMI-2 client (built --with-pmix only)
    if srun -n 2 --mpi=pmi2 "$bin" scan "$model" "${src[@]}" --out "$t/pmi2" >/dev/null 2>"$t/err"
    then echo "note: srun --mpi=pmi2 works with this Open MPI"
    else echo "note: srun --mpi=pmi2 fails as expected: $(grep -m1 'not built with' "$t/err" || tail -1 "$t/err")"
    fi

    if [ $fails -eq 0 ]; then echo "slurm check: all passed"; rm -rf "$t"
    else echo "slurm check: $fails failed (files in $t)"; fi
    return $((fails > 0))
}

case "${1:-}" in
start) start ;;
stop) stop ;;
status) status ;;
env) echo "export SLURM_CONF=$CONF" ;;
check) shift; check "$@" ;;
*) die "usage: $0 start|stop|status|env|check [BIN]" ;;
esac
