#!/bin/bash
# `slashscope scan --resume`: a scan killed with SIGKILL mid-way and resumed
# ends with the very bytes of an uninterrupted run; a resume with other
# settings is refused; a scan does not silently start over an unfinished one.
set -u
BIN=${SS_BIN:?} SHARED=${SS_SHARED:?}
T=${SS_TMP:-/tmp}/cli_scan.$$
rm -rf "$T" && mkdir -p "$T"
trap '[ "$fails" -eq 0 ] && rm -rf "$T"' EXIT
fails=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }

MODEL=$SHARED/fixtures/mistral_mha/hf
ARGS=(--ood 60 --seed 9 --len 256 --maps L0H1,L1H3 --map-size 16 --threads 1 --quiet)

# the reference: one uninterrupted run, no checkpoint on the way
"$BIN" scan "$MODEL" "${ARGS[@]}" --checkpoint-every 1000 --out "$T/once" >/dev/null ||
    fail "uninterrupted scan"

# the checkpoint lives in DIR.partial/ until the result is renamed into place
# start a scan that checkpoints after every prompt, SIGKILL it once its
# checkpoint holds a few prompts
interrupted_scan() { # DIR
    "$BIN" scan "$MODEL" "${ARGS[@]}" --checkpoint-every 1 --out "$1" >/dev/null 2>&1 &
    local pid=$! i
    for ((i = 0; i < 1000; i++)); do
        if grep -Eqs '"prompts":[[:space:]]*([3-9]|[1-9][0-9])' "$1.partial/checkpoint/state.json"; then
            break
        fi
        sleep 0.01
    done
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    [ -f "$1/scan.json" ] && fail "the scan finished before it could be killed: make it longer"
    [ -f "$1.partial/checkpoint/state.json" ] || fail "no checkpoint after the kill"
    echo "killed with $(grep -o '"prompts":[[:space:]]*[0-9]*' "$1.partial/checkpoint/state.json" |
        grep -o '[0-9]*$') of 60 prompts checkpointed"
}

interrupted_scan "$T/killed"
# without --resume the unfinished scan is not overwritten
if "$BIN" scan "$MODEL" "${ARGS[@]}" --out "$T/killed" 2>"$T/err" >/dev/null; then
    fail "a new scan ran over an unfinished one"
fi
grep -q -- "--resume" "$T/err" || fail "no hint to use --resume: $(cat "$T/err")"
# a resume with other settings is refused, naming what differs
if "$BIN" scan "$MODEL" "${ARGS[@]}" --skip 3 --resume --out "$T/killed" 2>"$T/err" >/dev/null; then
    fail "resumed with another --skip"
fi
grep -q "skip: 4 then, 3 now" "$T/err" || fail "mismatch message: $(cat "$T/err")"
if "$BIN" scan "$MODEL" --ood 60 --seed 10 --len 256 --maps L0H1,L1H3 --map-size 16 --quiet \
    --threads 1 --resume --out "$T/killed" 2>"$T/err" >/dev/null; then
    fail "resumed with another seed"
fi
grep -q "prompts.sha256: \|prompts.seed: " "$T/err" || fail "seed mismatch: $(cat "$T/err")"

"$BIN" scan "$MODEL" "${ARGS[@]}" --checkpoint-every 1 --resume --out "$T/killed" >/dev/null ||
    fail "resume"
for f in slash_sum.npy slash_sumsq.npy slash_count.npy slash.npy sdh.csv maps/sums.npy maps/L0H1.npy maps/L1H3.npy; do
    cmp -s "$T/once/$f" "$T/killed/$f" || fail "$f differs between the resumed and the uninterrupted run"
done
[ -e "$T/killed/checkpoint" ] || [ -e "$T/killed.partial" ] && fail "checkpoint folder left behind"
grep -q '"prompt_count":[[:space:]]*60' "$T/killed/scan.json" || fail "prompt count after resume"

# --resume with nothing to resume starts from the beginning
"$BIN" scan "$MODEL" "${ARGS[@]}" --resume --out "$T/fresh" >/dev/null 2>&1 || fail "fresh --resume"
cmp -s "$T/once/slash_sum.npy" "$T/fresh/slash_sum.npy" || fail "fresh --resume differs"

if [ "$fails" -eq 0 ]; then echo "cli_scan: all passed"; else echo "cli_scan: $fails failed"; fi
[ "$fails" -eq 0 ]
