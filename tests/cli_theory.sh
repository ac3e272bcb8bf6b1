#!/usr/bin/env bash
# slashscope theory and demo through the CLI: every promised file is
# written with its schema, the sweep prints its table, the demo exits 0 and
# says what it found, and bad flags give one clear line and a non-zero exit.
set -u
bin=${SS_BIN:?}; tmp=${SS_TMP:-/tmp}/cli_theory
rm -rf "$tmp"; mkdir -p "$tmp"
passed=0; failed=0
ok() { echo "ok   $1"; passed=$((passed+1)); }
bad() { echo "FAIL $1"; failed=$((failed+1)); }
check() { local name=$1; shift; if "$@"; then ok "$name"; else bad "$name"; fi; }

# expect_fail NAME PATTERN CMD...: exit 1 or 2 and one stderr line matching PATTERN
expect_fail() {
  local name=$1 pattern=$2; shift 2
  "$@" >"$tmp/out" 2>"$tmp/err"; local rc=$?
  if [ $rc -ne 1 ] && [ $rc -ne 2 ]; then bad "$name: exit $rc"; cat "$tmp/err"; return; fi
  if ! grep -Eq -- "$pattern" "$tmp/err"; then bad "$name: /$pattern/ not in:"; cat "$tmp/err"; return; fi
  if [ "$(wc -l <"$tmp/err")" -ne 1 ]; then bad "$name: want one stderr line"; cat "$tmp/err"; return; fi
  ok "$name: $(cat "$tmp/err")"
}

# A short run: 40 + 30 steps, smaller batch.
out=$tmp/run
if "$bin" theory --out "$out" --batch 256 --tau1 40 --tau2 30 --eval-prompts 256 --seed 7 \
     --L 100 >"$tmp/stdout" 2>"$tmp/stderr"; then ok "theory exits 0"; else bad "theory exit"; cat "$tmp/stderr"; fi
for f in trajectory.csv trajectory.svg layer1.npy layer1.png frequencies.json ood.json run.json; do
  check "writes $f" test -s "$out/$f"
done
check "trajectory header" test "$(head -1 "$out/trajectory.csv")" = "step,stage,loss,s1_mean,s1_min,s2_match"
check "one row per step" test "$(wc -l <"$out/trajectory.csv")" -eq 72   # header + 0..70
check "stage I rows" test "$(grep -c '^[0-9]*,1,' "$out/trajectory.csv")" -eq 40
check "last row is step 70" grep -q '^70,2,' "$out/trajectory.csv"
# .npy: magic, float64, [65, 65]
check "npy magic" test "$(head -c 6 "$out/layer1.npy" | tail -c 5)" = "NUMPY"
check "npy dtype and shape" grep -aq "'descr': '<f8'.*'shape': (65, 65)" "$out/layer1.npy"
check "png magic" test "$(head -c 4 "$out/layer1.png" | tail -c 3)" = "PNG"
for k in '"C1"' '"C2"' '"eps_FN"' '"L_min"' '"peak_gap"' '"pass"' '"L":' '"cone_pass"' '"alpha"'; do
  check "frequencies.json has $k" grep -q "$k" "$out/frequencies.json"
done
for k in in_distribution w_scaled w_shifted w_onehot longer_2x longer_4x relative_mse; do
  check "ood.json has $k" grep -q "$k" "$out/ood.json"
done
check "verdict: slash-dominant" grep -q "layer 1 became slash-dominant at offset 1" "$tmp/stdout"
check "verdict: final loss" grep -q "final loss" "$tmp/stdout"
check "no stray temp files" test -z "$(ls "$out" | grep tmp)"

# the same seed gives the same trajectory
"$bin" theory --out "$tmp/run2" --batch 256 --tau1 40 --tau2 30 --eval-prompts 256 --seed 7 \
  --L 100 --quiet >/dev/null 2>&1
check "reproducible from the seed" cmp -s "$out/trajectory.csv" "$tmp/run2/trajectory.csv"

# offset 2 and low frequencies
"$bin" theory --out "$tmp/d2" --delta 2 --batch 256 --tau1 60 --tau2 10 --eval-prompts 128 \
  >"$tmp/stdout" 2>&1
check "delta 2 builds a slash at offset 2" grep -q "slash-dominant at offset 2" "$tmp/stdout"
"$bin" theory --out "$tmp/low" --freqs low --batch 256 --tau1 40 --tau2 10 --eval-prompts 128 \
  >"$tmp/stdout" 2>&1
check "low frequencies: no slash" grep -q "did NOT become slash-dominant" "$tmp/stdout"

# frequencies from a file (the cone's d_c/2 only)
printf '2.5\n1.7\n1.2\n0.85\n0.6\n0.4\n0.3\n0.2\n' >"$tmp/cone.txt"
"$bin" theory --out "$tmp/file" --freqs "$tmp/cone.txt" --batch 128 --tau1 10 --tau2 5 \
  --eval-prompts 64 >"$tmp/stdout" 2>&1
check "frequency file" grep -q "\"set\":.*cone.txt" "$tmp/file/frequencies.json"

# the sweep: a table and one row per choice
"$bin" theory --out "$tmp/sweep" --sweep --batch 128 --tau1 30 --tau2 20 --eval-prompts 128 \
  --quiet >"$tmp/stdout" 2>&1
check "sweep table" grep -q "^high " "$tmp/stdout"
check "sweep p-RoPE rows" grep -q "^standard-p0.5 " "$tmp/stdout"
check "sweep.csv rows" test "$(wc -l <"$tmp/sweep/sweep.csv")" -eq 9

# bad input
expect_fail "delta must divide n-in" "delta" "$bin" theory --out "$tmp/x" --delta 3
expect_fail "missing --out" "--out is required" "$bin" theory
expect_fail "missing frequency file" "no-such-freqs" "$bin" theory --out "$tmp/x" --freqs "$tmp/no-such-freqs"
printf '1\n2\n' >"$tmp/short.txt"
expect_fail "wrong frequency count" "wants 13 frequencies" "$bin" theory --out "$tmp/x" --freqs "$tmp/short.txt"
expect_fail "odd --dc" "--dc" "$bin" theory --out "$tmp/x" --dc 15
expect_fail "bad --eta1" "--eta1" "$bin" theory --out "$tmp/x" --eta1 fast
expect_fail "unknown flag" "unknown option" "$bin" theory --out "$tmp/x" --nope

# the demo: no arguments needed, a verdict in words, its folder named
( cd "$tmp" && "$bin" demo >"$tmp/demo.out" 2>"$tmp/demo.err" ); rc=$?
check "demo exits 0" test $rc -eq 0
check "demo verdict" grep -q "^Verdict: as Theorem 5.3 predicts" "$tmp/demo.out"
check "demo SDH at offset 1" grep -q "L0H0 at offset 1" "$tmp/demo.out"
check "demo names its folder" grep -q "slashscope-demo" "$tmp/demo.out"
check "demo summary" test -s "$tmp/slashscope-demo/summary.json"
check "demo runs" test -s "$tmp/slashscope-demo/violating/layer1.png"

echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
