#!/bin/bash
# `slashscope rank` and `freq` as one plain process keep checkpoints as a
# plain scan does (docs/results.md): SIGTERM mid-way saves every finished
# prompt and exits 1 naming --resume; a SIGKILL after --checkpoint-every 1
# saves loses at most the prompt under way; the resumed run's folder is
# byte for byte the uninterrupted run's (every file, rank.json / freq.json,
# the CSVs and SHA256SUMS included); a run without --resume over the
# checkpoint, a resume with another option, and one over a prompt file,
# weights, a --lowrank plan (rank, and a plain scan) or a --sdh scan
# changed in place, are refused naming why; the weights' fingerprint is
# computed once per run; a
# finished folder needs --force; a run that fails before its first save
# leaves no checkpoint; under mpirun (when built with MPI) a plain run's
# checkpoint resumes with 2 ranks, and an MPI scan's refuses a prompt file
# changed in place.
set -u
BIN=${SS_BIN:?} SHARED=${SS_SHARED:?}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/term_lib.sh"
T=${SS_TMP:-/tmp}/cli_explain_resume.$$
rm -rf "$T" && mkdir -p "$T"
fails=0
trap '[ "$fails" -eq 0 ] && rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }

MODEL=$SHARED/fixtures/mistral_mha/hf
# enough prompts (~7 ms of CPU each) that SIGTERM, sent after a third of a
# whole run's CPU time and polled every 10 ms, lands mid-way under load
N=64
args_of() { # CMD SEED: the command line of the runs
    local src=(--ood $N --seed "$2" --len 512 --threads 1 --quiet)
    if [ "$1" = rank ]; then ARGS=(rank "$MODEL" "${src[@]}")
    else ARGS=(freq "$MODEL" "${src[@]}" --heads L0H1,L1H3); fi
}

held() { # DIR: the prompts its checkpoint holds
    { tr -d ' \n\t' <"$1.partial/checkpoint/state.json"; } 2>/dev/null |
        sed -n 's/.*"held":\[\([0-9,]*\)\].*/\1/p' | tr ',' '\n' | grep -c .
}
same_bytes() { # WHAT REF DIR: every file of REF in DIR with the same bytes, and no other
    local f bad=0
    [ "$(cd "$2" && find . -type f | sort)" = "$(cd "$3" && find . -type f | sort)" ] ||
        { fail "$1: other files than the uninterrupted run's"; return; }
    while read -r f; do
        cmp -s "$2/$f" "$3/$f" || { fail "$1: $f differs"; bad=1; }
    done < <(cd "$2" && find . -type f)
    [ -e "$3.partial" ] || [ -e "$3.lock" ] && { fail "$1: left its work folder or lock"; bad=1; }
    [ "$bad" -eq 0 ] && ok "$1: byte for byte the uninterrupted run ($(cd "$2" && find . -type f | wc -l) files)"
}

for cmd in rank freq; do
    args_of $cmd 6
    SEED6=("${ARGS[@]}")
    args_of $cmd 5
    /usr/bin/time -o "$T/$cmd.cpu" -f "%U %S" "$BIN" "${ARGS[@]}" --checkpoint-every 1000 \
        --out "$T/$cmd.ref" >/dev/null || fail "$cmd: uninterrupted run"
    ref_cpu=$(awk '{print $1 + $2}' "$T/$cmd.cpu")

    # SIGTERM once a third of the reference's CPU time is used; no periodic
    # save (--checkpoint-every 1000): whatever is kept, the stop saved
    "$BIN" "${ARGS[@]}" --checkpoint-every 1000 --out "$T/$cmd.term" >/dev/null 2>"$T/$cmd.err" &
    pid=$!
    term_when "$(awk -v c="$ref_cpu" 'BEGIN {print c / 3}')" $pid $pid
    wait $pid
    rc=$?
    n=$(held "$T/$cmd.term")
    if [ $rc -eq 1 ] && grep -q "stopped by SIGTERM.*--resume" "$T/$cmd.err" && [ ! -e "$T/$cmd.term" ] &&
        [ "$n" -gt 0 ] && [ "$n" -lt $N ]; then
        ok "$cmd: SIGTERM mid-way exits 1, says to --resume, the checkpoint holds the $n prompts finished"
    else
        fail "$cmd: SIGTERM: exit $rc, $n of $N prompts held, $(cat "$T/$cmd.err")"
    fi
    # without --resume the checkpoint is kept, not overwritten
    err=$("$BIN" "${ARGS[@]}" --out "$T/$cmd.term" 2>&1 >/dev/null)
    [ $? -eq 2 ] && grep -q "add --resume" <<<"$err" && ok "$cmd: a run without --resume is refused" ||
        fail "$cmd: a run without --resume over the checkpoint: $err"
    # a resume with another option is refused, naming it; the checkpoint stays
    if [ $cmd = rank ]; then extra=(--tau 0.9); else extra=(--skip 3); fi
    err=$("$BIN" "${ARGS[@]}" "${extra[@]}" --resume --out "$T/$cmd.term" 2>&1 >/dev/null)
    [ $? -ne 0 ] && grep -q "made by another command line: \"${extra[*]}\" now, not then" <<<"$err" &&
        [ "$(held "$T/$cmd.term")" = "$n" ] && ok "$cmd: a resume with ${extra[0]} added is refused, naming it" ||
        fail "$cmd: resume with ${extra[*]}: $err"
    err=$("$BIN" "${SEED6[@]}" --resume --out "$T/$cmd.term" 2>&1 >/dev/null)
    [ $? -ne 0 ] && grep -q 'made by another command line: "--seed 5" then, "--seed 6" now' <<<"$err" &&
        ok "$cmd: a resume with another --seed is refused, naming it" ||
        fail "$cmd: resume with --seed 6: $err"
    # --force and --checkpoint-every may differ (and --threads, --quiet; but
    # OpenBLAS's sums depend on its thread count, so not here)
    "$BIN" "${ARGS[@]}" --force --checkpoint-every 5 --resume --out "$T/$cmd.term" \
        >/dev/null || fail "$cmd: resume after SIGTERM"
    same_bytes "$cmd: SIGTERM, then --resume" "$T/$cmd.ref" "$T/$cmd.term"

    # SIGKILL once the checkpoint (saved after every prompt) holds 3 prompts
    "$BIN" "${ARGS[@]}" --checkpoint-every 1 --out "$T/$cmd.kill" >/dev/null 2>&1 &
    pid=$!
    for ((i = 0; i < 3000; i++)); do
        [ "$(held "$T/$cmd.kill")" -ge 3 ] 2>/dev/null && break
        sleep 0.01
    done
    kill -9 $pid 2>/dev/null
    wait $pid 2>/dev/null
    n=$(held "$T/$cmd.kill")
    [ ! -e "$T/$cmd.kill" ] && [ "$n" -ge 3 ] && [ "$n" -lt $N ] &&
        ok "$cmd: SIGKILL with --checkpoint-every 1: $n of $N prompts kept" ||
        fail "$cmd: SIGKILL: $n of $N prompts kept (the run must be killed mid-way)"
    "$BIN" "${ARGS[@]}" --checkpoint-every 1 --resume --out "$T/$cmd.kill" >/dev/null ||
        fail "$cmd: resume after SIGKILL"
    same_bytes "$cmd: SIGKILL, then --resume" "$T/$cmd.ref" "$T/$cmd.kill"

    # a finished result is not replaced without --force, with or without --resume
    err=$("$BIN" "${ARGS[@]}" --resume --out "$T/$cmd.kill" 2>&1 >/dev/null)
    [ $? -eq 2 ] && grep -q "holds a finished result; add --force" <<<"$err" &&
        ok "$cmd: a finished --out needs --force" || fail "$cmd: over a finished result: $err"
done

# a run that fails before its first save keeps nothing: a bad first prompt
/usr/bin/python3 -c 'print(" ".join(["5"] * 63 + ["1000000"]))' >"$T/bad.ids"
err=$("$BIN" rank "$MODEL" --ids-file "$T/bad.ids" --len 64 --threads 1 --quiet --out "$T/bad" 2>&1)
[ $? -ne 0 ] && grep -q "bad.ids:1.*outside the model's vocabulary" <<<"$err" && [ ! -e "$T/bad.partial" ] &&
    [ ! -e "$T/bad" ] && ok "a bad first prompt fails the run and leaves no checkpoint" ||
    fail "a bad first prompt: $err; $(ls -d "$T"/bad* 2>/dev/null)"

# inputs changed in place under the same paths are refused on resume: a
# prompt file fixed after a bad prompt 3 (the checkpoint holds prompts 0-2),
# and one weight bit flipped
cp -r "$MODEL" "$T/model"
/usr/bin/python3 - "$T/p.ids" <<'PY'
import random, sys
r = random.Random(1)
rows = [[r.randrange(100) for _ in range(64)] for _ in range(6)]
rows[3][5] = 10**6
open(sys.argv[1], "w").write("".join(" ".join(map(str, x)) + "\n" for x in rows))
PY
# (a flag without a value last: the inputs' words that follow are not its value)
IDS=(rank "$T/model" --out "$T/inputs" --ids-file "$T/p.ids" --len 64 --threads 1 --quiet
     --checkpoint-every 1 --allow-long)
"$BIN" "${IDS[@]}" >/dev/null 2>&1
[ "$(held "$T/inputs")" = 3 ] || fail "a bad prompt 3: $(held "$T/inputs") prompts held, expected 3"
# a checkpoint of another slashscope is refused as such, not as "other
# inputs": one that recorded no input digests (those words taken off its
# settings), one that recorded no version, one of another version
ST=$T/inputs.partial/checkpoint/state.json
cp "$ST" "$T/state.kept"
edited() { # PATTERN REPLACEMENT: a resume with the checkpoint's settings so edited
    /usr/bin/python3 - "$ST" "$1" "$2" <<'PY'
import json, re, sys
j = json.load(open(sys.argv[1]))
j["state"]["settings"] = re.sub(sys.argv[2], sys.argv[3], j["state"]["settings"])
json.dump(j, open(sys.argv[1], "w"))
PY
    err=$("$BIN" "${IDS[@]}" --resume 2>&1 >/dev/null)
    rc=$?
    cp "$T/state.kept" "$ST"
    return $rc
}
! edited ' (version|weights|prompts|tokenizer|lowrank)=\S+' '' &&
    grep -q "made by a slashscope that did not record its inputs' digests.*start afresh with --force" <<<"$err" &&
    ok "a checkpoint made before the inputs' digests is refused as such" ||
    fail "a checkpoint without the inputs' words: $err"
VERSION=$("$BIN" --version | cut -d' ' -f2)
! edited ' version=\S+' '' &&
    grep -q "made by an earlier slashscope, which did not record its version (this is $VERSION): start afresh with --force" <<<"$err" &&
    ok "a checkpoint without the version is refused as such" ||
    fail "a checkpoint without the version word: $err"
! edited ' version=\S+' ' version=0.0.1' &&
    grep -q "made by slashscope 0.0.1, this is $VERSION: resume it with slashscope 0.0.1, or start afresh" <<<"$err" &&
    ok "a checkpoint of another version is refused, naming both" ||
    fail "a checkpoint of version 0.0.1: $err"
cp "$T/p.ids" "$T/p.bad" && sed -i 4d "$T/p.ids"
err=$("$BIN" "${IDS[@]}" --resume 2>&1 >/dev/null)
[ $? -ne 0 ] && grep -q 'made from other inputs: "prompts=sha256:' <<<"$err" &&
    ok "a resume over a prompt file changed in place is refused, naming the prompts" ||
    fail "prompts changed in place: $err"
cp "$T/p.bad" "$T/p.ids"
/usr/bin/python3 - "$T/model/model.safetensors" <<'PY'
import struct, sys
with open(sys.argv[1], "r+b") as f:
    n = struct.unpack("<Q", f.read(8))[0]
    f.seek(8 + n + 100); b = f.read(1)
    f.seek(8 + n + 100); f.write(bytes([b[0] ^ 1]))
PY
err=$("$BIN" "${IDS[@]}" --resume 2>&1 >/dev/null)
[ $? -ne 0 ] && grep -q 'made from other inputs: "weights=xxh3-128:' <<<"$err" &&
    ok "a resume over weights changed in place (one bit) is refused, naming the weights" ||
    fail "weights changed in place: $err"

# a --lowrank plan rewritten in place under the same path (W_Q/W_K swapped
# in memory, which the weights' fingerprint does not see) is refused on
# resume: by rank (the lowrank= word) and by a plain scan (its settings'
# interventions); the same plan resumes (and meets bad prompt 3 again)
sed 4d "$T/p.bad" >"$T/good.ids"
PLAN=(compress "$MODEL" --ids-file "$T/good.ids" --len 64 --threads 1 --quiet --out "$T/plan")
"$BIN" "${PLAN[@]}" --thre 0.9 --rank-thre 2 >/dev/null || fail "compress for --lowrank"
LR=(rank "$MODEL" --ids-file "$T/p.bad" --len 64 --threads 1 --quiet --checkpoint-every 1
    --lowrank "$T/plan" --out "$T/lr")
LS=(scan "${LR[@]:1}")
LS[${#LS[@]} - 1]=$T/ls
same_plan() { # COMMAND LINE: a run kept at prompt 3, and a resume with the same plan
    "$BIN" "$@" >/dev/null 2>&1
    err=$("$BIN" "$@" --resume 2>&1 >/dev/null)
    grep -q "outside the model's vocabulary" <<<"$err" || fail "$1 --lowrank: a resume with the same plan: $err"
}
same_plan "${LR[@]}"
same_plan "${LS[@]}"
"$BIN" "${PLAN[@]}" --thre 0.5 --rank-thre 1 --force >/dev/null || fail "compress, rewritten"
err=$("$BIN" "${LR[@]}" --resume 2>&1 >/dev/null)
[ $? -ne 0 ] && grep -q 'made from other inputs: "lowrank=sha256:.* (the --lowrank plan folder' <<<"$err" &&
    ok "rank: a resume over a --lowrank plan rewritten in place is refused, naming the plan" ||
    fail "rank --lowrank plan rewritten: $err"
err=$("$BIN" "${LS[@]}" --resume 2>&1 >/dev/null)
[ $? -ne 0 ] && grep -q 'other settings (interventions.lowrank_plan.sha256' <<<"$err" &&
    ok "scan: a resume over a --lowrank plan rewritten in place is refused, naming the plan" ||
    fail "scan --lowrank plan rewritten: $err"

# freq --sdh SCAN keeps the state of the SCAN's SDHs: a scan replaced under
# the same path with other SDHs (a larger kappa: L0H0 alone) is refused
SCAN=(scan "$MODEL" --ood 8 --len 128 --threads 1 --quiet --out "$T/sdh")
"$BIN" "${SCAN[@]}" >/dev/null || fail "scan for --sdh"
"$BIN" freq "$MODEL" --ids-file "$T/p.ids" --len 64 --threads 1 --quiet --checkpoint-every 1 \
    --sdh "$T/sdh" --out "$T/fsdh" >/dev/null 2>&1
"$BIN" "${SCAN[@]}" --kappa-small 0.8 --force >/dev/null || fail "scan with kappa 0.8"
err=$("$BIN" freq "$MODEL" --ids-file "$T/p.ids" --len 64 --threads 1 --quiet --resume \
    --sdh "$T/sdh" --out "$T/fsdh" 2>&1 >/dev/null)
[ $? -ne 0 ] && grep -q 'made from other inputs: "heads=L0H0,L1H0" then, "heads=L0H0" now (the --sdh scan lists' <<<"$err" &&
    ok "freq: a resume over a --sdh scan replaced with other SDHs is refused, naming the heads" ||
    fail "freq --sdh replaced: $err"

# the weights' fingerprint is computed once per run, though the settings
# (weights=) and the result's provenance both record it (and --sdh's check)
marks() { sed -n 's/^  weights fingerprint  *\([0-9]*\) .*/\1/p' <<<"$1"; }
for cmd in rank freq; do
    err=$(SLASHSCOPE_TIMINGS=1 "$BIN" $cmd "$MODEL" --ids "1 2 3 4" --sdh "$T/sdh" \
        --threads 1 --quiet --out "$T/once.$cmd" 2>&1 >/dev/null)
    [ "$(marks "$err")" = 1 ] && ok "$cmd: the weights' fingerprint is computed once" ||
        fail "$cmd: the fingerprint computed $(marks "$err") times: $err"
done

# under mpirun, a plain run's checkpoint resumes with 2 ranks (the prompts
# left dealt to them; the sums then reassociate: tests/mpi_compare.py)
if { [ "${SS_MPI:-OFF}" = "ON" ] || [ "${SS_MPI:-OFF}" = 1 ]; } && command -v mpirun >/dev/null; then
    export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl=self,vader
    [ "${SS_SANITIZE:-OFF}" = "ON" ] && export ASAN_OPTIONS=${ASAN_OPTIONS:-}:detect_leaks=0
    args_of freq 5
    "$BIN" "${ARGS[@]}" --checkpoint-every 1 --out "$T/freq.mpi" >/dev/null 2>&1 &
    pid=$!
    for ((i = 0; i < 3000; i++)); do
        [ "$(held "$T/freq.mpi")" -ge 3 ] 2>/dev/null && break
        sleep 0.01
    done
    kill -TERM $pid
    wait $pid
    rc=$?
    if [ $rc -ne 1 ]; then
        fail "freq: the plain run to resume at -np 2 exited $rc, not 1: not stopped mid-way by SIGTERM"
    elif ! mpirun --oversubscribe -np 2 "$BIN" "${ARGS[@]}" --resume --out "$T/freq.mpi" >/dev/null; then
        fail "freq: mpirun -np 2 --resume of a plain run's checkpoint"
    elif out=$(/usr/bin/python3 "$HERE/mpi_compare.py" "$T/freq.ref" "$T/freq.mpi"); then
        ok "freq: a plain run's checkpoint resumed by mpirun -np 2 = uninterrupted ($(tail -1 <<<"$out"))"
    else fail "freq: plain checkpoint resumed at -np 2: $out"; fi
    # an MPI scan's checkpoints carry the inputs' digests too: a prompt file
    # fixed in place after a bad prompt 3 is refused on resume
    cp "$T/p.bad" "$T/q.ids"
    MSCAN=(scan "$MODEL" --ids-file "$T/q.ids" --len 64 --threads 1 --quiet --out "$T/mscan")
    mpirun --oversubscribe -np 2 "$BIN" "${MSCAN[@]}" >/dev/null 2>&1 &&
        fail "scan -np 2 over a bad prompt exited 0"
    sed -i 4d "$T/q.ids"
    err=$(mpirun --oversubscribe -np 2 "$BIN" "${MSCAN[@]}" --resume 2>&1 >/dev/null)
    [ $? -ne 0 ] && grep -q 'made from other inputs: "prompts=sha256:' <<<"$err" &&
        ok "scan -np 2: a resume over a prompt file changed in place is refused, naming the prompts" ||
        fail "scan -np 2, prompts changed in place: $err"
    # (and its fingerprint computed once per rank: settings and scan.json)
    err=$(SLASHSCOPE_TIMINGS=1 mpirun --oversubscribe -np 2 "$BIN" "${MSCAN[@]}" --force 2>&1 >/dev/null)
    [ $? -eq 0 ] && [ "$(marks "$err" | sort -u)" = 1 ] &&
        ok "scan -np 2: the weights' fingerprint is computed once per rank" ||
        fail "scan -np 2: the fingerprint computed $(marks "$err" | tr '\n' ' ')times: $err"
fi

if [ "$fails" -eq 0 ]; then echo "cli_explain_resume: all passed"; else echo "cli_explain_resume: $fails failed"; fi
[ "$fails" -eq 0 ]
