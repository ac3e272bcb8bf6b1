#!/bin/bash
# scan, rank and freq under mpirun (docs/cluster.md): -np 1, 2 and 3 give the
# one-process results (counts bit for bit, sums to 1e-12) with a prompt
# count that 2 and 3 do not divide; a run with one rank killed mid-way,
# resumed with another number of ranks, ends with the same numbers; a
# failing rank is named and the job exits non-zero with its checkpoint
# intact. Skipped (exit 77) when the build has no MPI or mpirun is absent.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/mpi_lib.sh" cli_mpi

MODEL=$SHARED/fixtures/mistral_mha/hf
SRC=(--ood 7 --seed 9 --len 64 --threads 1 --quiet)   # 7 prompts: not divisible by 2 or 3
SCAN=("${SRC[@]}" --maps L0H1,L1H3 --map-size 16)
FREQ=("${SRC[@]}" --heads L0H1,L1H3)

# an srun step of several tasks without PMI: the commands that spread refuse it, the others run
err=$(SLURM_STEP_NUM_TASKS=3 "$BIN" scan "$MODEL" "${SRC[@]}" --out "$T/srun" 2>&1)
[ $? -eq 1 ] && grep -q "without PMI" <<<"$err" && [ ! -e "$T/srun" ] &&
    ok "srun without PMI: scan refused" || fail "srun without PMI, scan: $err"
SLURM_STEP_NUM_TASKS=3 "$BIN" info "$MODEL" >/dev/null 2>&1 &&
    ok "srun without PMI: info runs" || fail "srun without PMI: info refused"

"$BIN" scan "$MODEL" "${SCAN[@]}" --out "$T/scan.ref" >/dev/null || fail "plain scan"
"$BIN" rank "$MODEL" "${SRC[@]}" --out "$T/rank.ref" >/dev/null || fail "plain rank"
"$BIN" freq "$MODEL" "${FREQ[@]}" --out "$T/freq.ref" >/dev/null || fail "plain freq"
[ -e "$T/scan.ref.partial" ] && fail "a plain run left its work folder"

# the comparison can fail: other prompts are told apart
"$BIN" scan "$MODEL" --ood 7 --seed 10 --len 64 --threads 1 --quiet --maps L0H1,L1H3 \
    --map-size 16 --out "$T/scan.other" >/dev/null
"$PY" "$HERE/mpi_compare.py" "$T/scan.ref" "$T/scan.other" >/dev/null &&
    fail "the comparison did not tell other prompts apart"

for k in 1 2 3; do
    mpi "$k" "$BIN" scan "$MODEL" "${SCAN[@]}" --out "$T/scan.$k" >/dev/null || fail "scan -np $k"
    same "scan -np $k = one process" "$T/scan.ref" "$T/scan.$k"
    mpi "$k" "$BIN" rank "$MODEL" "${SRC[@]}" --out "$T/rank.$k" >/dev/null || fail "rank -np $k"
    same "rank -np $k = one process" "$T/rank.ref" "$T/rank.$k"
    mpi "$k" "$BIN" freq "$MODEL" "${FREQ[@]}" --out "$T/freq.$k" >/dev/null || fail "freq -np $k"
    same "freq -np $k = one process" "$T/freq.ref" "$T/freq.$k"
    [ -e "$T/scan.$k.partial" ] && fail "scan -np $k left its work folder (checkpoints)"
    [ -e "$T/scan.$k.lock" ] && fail "scan -np $k left its lock"
    (cd "$T/scan.$k" && sha256sum --quiet -c SHA256SUMS) || fail "scan -np $k: SHA256SUMS does not check"
done
cmp -s "$T/scan.ref/slash_count.npy" "$T/scan.3/slash_count.npy" &&
    ok "scan -np 3: slash_count.npy byte for byte" || fail "scan -np 3: counts not byte for byte"

# kill one rank of three mid-run, resume with two ranks, then with one
# long enough to kill mid-way (fewer prompts under the slower sanitizer build)
N_LONG=150
[ "${SS_SANITIZE:-OFF}" = "ON" ] && N_LONG=60
LONG=(--ood $N_LONG --seed 9 --len 256 --threads 1 --quiet --maps L0H1,L1H3 --map-size 16)
"$BIN" scan "$MODEL" "${LONG[@]}" --out "$T/long.ref" >/dev/null || fail "plain long scan"
killed_run() { # NP DIR: start, kill rank 1 once every rank has checkpointed
    mpirun --oversubscribe -np "$1" "$BIN" scan "$MODEL" "${LONG[@]}" --checkpoint-every 1 \
        --out "$2" >/dev/null 2>&1 &
    local mp=$! i
    for ((i = 0; i < 1000; i++)); do
        [ "$(find "$2.partial/checkpoint" -name state.json 2>/dev/null | wc -l)" -ge "$1" ] && break
        sleep 0.01
    done
    sleep 0.2
    local victim kids
    kids=$(pgrep -P "$mp")
    victim=$(sed -n 2p <<<"$kids")
    [ -n "$victim" ] && kill -9 "$victim"
    wait "$mp"
    local rc=$?
    wait_gone $kids
    [ "$rc" -ne 0 ] && ok "a killed rank fails the job (mpirun exit $rc)" ||
        fail "the job with a killed rank exited 0"
    [ -f "$2/scan.json" ] && fail "the scan finished before the kill: make it longer"
    [ -f "$2.partial/checkpoint/state.json" ] || fail "no checkpoint after the kill"
    [ -e "$2" ] && fail "the killed run left a result folder"
}
killed_run 3 "$T/long.k"
err=$("$BIN" scan "$MODEL" "${LONG[@]}" --out "$T/long.k" 2>&1 >/dev/null)
[ $? -eq 2 ] && grep -q "add --resume" <<<"$err" && ok "without --resume the checkpoints are kept" ||
    fail "a run without --resume over checkpoints: $err"
mpi 2 "$BIN" scan "$MODEL" "${LONG[@]}" --resume --out "$T/long.k" >/dev/null || fail "resume -np 2"
same "killed at -np 3, resumed at -np 2 = one process" "$T/long.ref" "$T/long.k"
[ -e "$T/long.k.partial" ] && fail "the resumed scan left its checkpoints"

# a kill, then two resumes: the second (-np 1, no mpirun) continues the first's epoch
killed_run 2 "$T/long.k2"
# and a rank killed before its first save leaves an empty folder: it held nothing
mkdir -p "$T/long.k2.partial/checkpoint/rank7"
"$BIN" scan "$MODEL" "${LONG[@]}" --resume --out "$T/long.k2" >/dev/null || fail "plain resume"
same "killed at -np 2, resumed by a plain run = one process" "$T/long.ref" "$T/long.k2"

# a failing rank: a bad prompt in the source (line 4 = prompt 3)
"$PY" - "$T/bad.ids" <<'PYEOF'
import random, sys
r = random.Random(1)
with open(sys.argv[1], "w") as f:
    for i in range(5):
        ids = [r.randrange(0, 100) for _ in range(64)]
        if i == 3:
            ids[10] = 10**6
        f.write(" ".join(map(str, ids)) + "\n")
PYEOF
err=$(mpi 2 "$BIN" scan "$MODEL" --ids-file "$T/bad.ids" --len 64 --threads 1 --quiet \
    --out "$T/bad" 2>&1)
rc=$?
if [ $rc -ne 0 ] && grep -Eq "rank [01] of 2.*bad.ids:4.*outside the model's vocabulary" <<<"$err"; then
    ok "a bad prompt fails the job, naming the rank and the prompt (exit $rc)"
else
    fail "bad prompt: exit $rc, $err"
fi
[ -f "$T/bad/scan.json" ] && fail "a failed job wrote results"
[ -f "$T/bad.partial/checkpoint/state.json" ] && ok "the failed job's checkpoint is intact" ||
    fail "the failed job left no checkpoint"

# the kept checkpoint is checked on resume: flipped bytes in an array, a hand-edited state
BADCK=(--ids-file "$T/bad.ids" --len 64 --threads 1 --quiet --resume --out "$T/bad")
cp -r "$T/bad.partial" "$T/bad.keep"
arr=$(ls "$T/bad.partial/checkpoint"/*.npy | head -1)
printf '\x7f' | dd of="$arr" bs=1 seek=200 conv=notrunc status=none
err=$(mpi 2 "$BIN" scan "$MODEL" "${BADCK[@]}" 2>&1)
[ $? -ne 0 ] && grep -q "SHA-256 is not the one" <<<"$err" && ok "resume refuses a flipped byte" ||
    fail "resume over a flipped byte: $err"
rm -rf "$T/bad.partial" && cp -r "$T/bad.keep" "$T/bad.partial"
sed -i 's/"epoch":\s*0/"epoch": 5/' "$T/bad.partial/checkpoint/state.json"
err=$(mpi 2 "$BIN" scan "$MODEL" "${BADCK[@]}" 2>&1)
[ $? -ne 0 ] && grep -q "does not match its own" <<<"$err" && ok "resume refuses an edited state" ||
    fail "resume over an edited state: $err"
rm -rf "$T/bad.partial" && cp -r "$T/bad.keep" "$T/bad.partial"
# another command line is named as such, before any array fails to match its shape
err=$(mpi 2 "$BIN" scan "$MODEL" "${BADCK[@]}" --len 32 2>&1)
[ $? -ne 0 ] && grep -q "made by another command line" <<<"$err" &&
    ok "resume with another --len: 'another command line'" || fail "resume with another --len: $err"
err=$(mpi 2 "$BIN" scan "$MODEL" "${BADCK[@]}" --maps L0H1 2>&1)
[ $? -ne 0 ] && grep -q "made by another command line" <<<"$err" &&
    ok "resume with --maps added: 'another command line'" || fail "resume with --maps added: $err"

# a rank with nothing to do waits asleep, not polling: one long prompt for two
# ranks (rank 1 gets none); rank 1's CPU seconds stay far below its wall
# seconds and rank 0's (a spinning rank's CPU grows with its wait, under load too)
IDLE_LEN=8192
[ "${SS_SANITIZE:-OFF}" = "ON" ] && IDLE_LEN=6144
mpi 2 sh -c 'exec /usr/bin/time -o "$0.$OMPI_COMM_WORLD_RANK" -f "%e %U %S" "$@"' "$T/idle" \
    "$BIN" scan "$MODEL" --ood 1 --len $IDLE_LEN --allow-long --threads 1 --quiet \
    --kappa-large 0.01 --out "$T/idle" >/dev/null 2>&1 || fail "the idle-rank scan failed"
if msg=$(awk 'FNR == 1 {w[NR] = $1; c[NR] = $2 + $3}
    END {printf "rank 1: %.2f CPU s in %.2f s; rank 0: %.2f CPU s", c[2], w[2], c[1];
         exit !(c[2] < 0.3 * w[2] && c[2] < 0.3 * c[1])}' "$T/idle.0" "$T/idle.1"); then
    ok "a waiting rank sleeps ($msg)"
else fail "a waiting rank uses CPU ($msg)"; fi

# SIGTERM (Slurm's time limit, scancel) saves every finished prompt and stops;
# --resume ends with the one-process result. --checkpoint-every 1000: the
# periodic checkpoint would hold none. The signal goes once the run has used
# a third of the reference's CPU time (load does not change that point).
TERMS=(--ood 24 --seed 5 --len 1024 --allow-long --threads 1 --quiet --kappa-large 0.01)
/usr/bin/time -o "$T/term.cpu" -f "%U %S" "$BIN" scan "$MODEL" "${TERMS[@]}" \
    --out "$T/term.ref" >/dev/null || fail "plain scan (SIGTERM reference)"
third=$(awk '{print ($1 + $2) / 3}' "$T/term.cpu")
held() { # CHECKPOINT_DIR: the prompts its state holds
    "$PY" -c 'import json, sys; s = json.load(open(sys.argv[1] + "/state.json"))["state"]
print(len(s["held"]) if "held" in s else s["prompts"])' "$1" 2>/dev/null || echo 0
}
stopped_well() { # WHAT RC ERRFILE DIR
    if [ "$2" -eq 1 ] && grep -q "stopped by SIGTERM.*--resume" "$3" &&
        ! grep -q "MPI_ABORT\|rank [0-9]* of [0-9]*:" "$3"; then ok "$1: exit 1, says to --resume"
    else fail "$1: exit $2, $(cat "$3")"; fi
    [ -e "$4" ] && fail "$1: a stopped run left a result folder"
}
"$BIN" scan "$MODEL" "${TERMS[@]}" --checkpoint-every 1000 --out "$T/term1" >/dev/null \
    2>"$T/term1.err" &
pid=$!
term_when "$third" $pid $pid
wait $pid
stopped_well "SIGTERM, one process" $? "$T/term1.err" "$T/term1"
n=$(held "$T/term1.partial/checkpoint")
[ "$n" -gt 0 ] && [ "$n" -lt 24 ] && ok "SIGTERM mid-way: the checkpoint holds the $n prompts finished" ||
    fail "SIGTERM, one process: the checkpoint holds $n of 24 prompts"
"$BIN" scan "$MODEL" "${TERMS[@]}" --resume --out "$T/term1" >/dev/null || fail "resume after SIGTERM"
same "SIGTERM, then --resume = uninterrupted" "$T/term.ref" "$T/term1"

term_job() { # NAME RANKS_TO_SIGNAL(all|1) CPU_SECONDS: mpirun -np 2, SIGTERM once rank 0 used them
    mpirun --oversubscribe -np 2 "$BIN" scan "$MODEL" "${TERMS[@]}" --checkpoint-every 1000 \
        --out "$T/$1" >/dev/null \
        2>"$T/$1.err" &
    local mp=$! pids
    pids=($(rank_pids $mp 2))
    if [ "$2" = all ]; then term_when "$3" ${pids[0]} "${pids[@]}"
    else term_when "$3" ${pids[0]} ${pids[1]}; fi
    wait $mp
    local rc=$?
    wait_gone "${pids[@]}"
    stopped_well "SIGTERM to $2 of 2 ranks" $rc "$T/$1.err" "$T/$1"
    local n0 n1
    n0=$(held "$T/$1.partial/checkpoint") n1=$(held "$T/$1.partial/checkpoint/rank1")
    [ "$n0" -gt 0 ] && [ "$n1" -gt 0 ] && [ $((n0 + n1)) -lt 24 ] &&
        ok "SIGTERM to $2 of 2 ranks: each rank saved its finished prompts ($n0 + $n1)" ||
        fail "SIGTERM to $2 of 2 ranks: checkpoints hold $n0 + $n1 of 24 prompts"
}
half=$(awk -v t="$third" 'BEGIN {print t / 2}')
term_job term2 all "$half"
mpi 3 "$BIN" scan "$MODEL" "${TERMS[@]}" --resume --out "$T/term2" >/dev/null || fail "resume -np 3"
same "SIGTERM at -np 2, resumed at -np 3 = uninterrupted" "$T/term.ref" "$T/term2"
# only rank 1 signalled: it tells rank 0, which saves and stops too
term_job term3 1 "$half"
"$BIN" scan "$MODEL" "${TERMS[@]}" --resume --out "$T/term3" >/dev/null || fail "plain resume"
same "SIGTERM to rank 1 at -np 2, resumed by a plain run = uninterrupted" "$T/term.ref" "$T/term3"
# as soon as both catch it (before their first prompt): each saves one, and rank 0 keeps the
# folder until rank 1's save is in (its abort would remove a save's temporary files)
term_job term4 all 0

# other commands are refused under mpirun, not run K times over
mpi 2 "$BIN" info "$MODEL" >/dev/null 2>&1 && fail "info under mpirun ran"

[ "$fails" -eq 0 ] && echo "cli_mpi: all passed"
exit $((fails > 0))
