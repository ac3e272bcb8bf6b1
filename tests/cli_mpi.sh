#!/bin/bash
# scan, rank and freq under mpirun (docs/cluster.md): -np 1, 2 and 3 give the
# one-process results (counts bit for bit, sums to 1e-12) with a prompt
# count that 2 and 3 do not divide; a run with one rank killed mid-way,
# resumed with another number of ranks, ends with the same numbers; a
# failing rank is named and the job exits non-zero with its checkpoint
# intact. Skipped (exit 77) when the build has no MPI or mpirun is absent.
set -u
BIN=${SS_BIN:?} SHARED=${SS_SHARED:?}
HERE=$(cd "$(dirname "$0")" && pwd)
if [ "${SS_MPI:-OFF}" != "ON" ] && [ "${SS_MPI:-OFF}" != "1" ]; then
    echo "SKIP: slashscope was built without MPI (SS_MPI=OFF: libopenmpi-dev not found)"
    exit 77
fi
if ! command -v mpirun >/dev/null; then
    echo "SKIP: mpirun not found (Debian: openmpi-bin)"
    exit 77
fi
T=${SS_TMP:-/tmp}/cli_mpi.$$
rm -rf "$T" && mkdir -p "$T"
fails=0
trap '[ "$fails" -eq 0 ] && rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }
PY=/usr/bin/python3
# Open MPI refuses root without these; --oversubscribe lets 3 ranks share 2 cores
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_btl=self,vader OMPI_MCA_rmaps_base_oversubscribe=1
# under the sanitizers: Open MPI's own allocations live until exit
[ "${SS_SANITIZE:-OFF}" = "ON" ] && export ASAN_OPTIONS=${ASAN_OPTIONS:-}:detect_leaks=0
mpi() { mpirun --oversubscribe -np "$@"; }
same() { # WHAT REF OTHER
    if out=$("$PY" "$HERE/mpi_compare.py" "$2" "$3"); then ok "$1 ($(tail -1 <<<"$out"))"
    else fail "$1: $out"; fi
}

MODEL=$SHARED/fixtures/mistral_mha/hf
SRC=(--ood 7 --seed 9 --len 64 --threads 1 --quiet)   # 7 prompts: not divisible by 2 or 3
SCAN=("${SRC[@]}" --maps L0H1,L1H3 --map-size 16)
FREQ=("${SRC[@]}" --heads L0H1,L1H3)

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
    # the other ranks may outlive mpirun for a moment; rank 0 holds OUT.lock until it is gone
    for ((i = 0; i < 2000; i++)); do
        local alive=0 p
        for p in $kids; do kill -0 "$p" 2>/dev/null && alive=1; done
        [ "$alive" -eq 0 ] && break
        sleep 0.01
    done
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

# other commands are refused under mpirun, not run K times over
mpi 2 "$BIN" info "$MODEL" >/dev/null 2>&1 && fail "info under mpirun ran"

[ "$fails" -eq 0 ] && echo "cli_mpi: all passed"
exit $((fails > 0))
