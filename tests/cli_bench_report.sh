#!/usr/bin/env bash
# bench/report.py on results files written by hand (the figures worked out
# below, not by the report): the median of per-pair ratios, min-max, the
# verdict by the median with the count of pairs that met, failed pairs named,
# and "not measured" with its reason for a run without LLAMA_BENCH, a
# BENCH_QUICK run, an empty file; bench/run.sh's refusal of bad settings; and
# bench/run.sh on stub programs: a killed run's DIR.partial does not stop the
# next, the BF16 twin has BENCH_MODEL's layer count and is paired by dtype.
set -u
src=${SS_SOURCE_DIR:?}; tmp=${SS_TMP:-/tmp}/cli_bench_report
report=$src/bench/report.py
rm -rf "$tmp"; mkdir -p "$tmp"
passed=0; failed=0
ok() { echo "ok   $1"; passed=$((passed+1)); }
bad() { echo "FAIL $1"; failed=$((failed+1)); }
# has NAME FILE TEXT: FILE has a line containing TEXT (fixed string)
has() { if grep -qF -- "$3" "$2"; then ok "$1"; else bad "$1: no line with '$3'"; cat "$2"; fi; }

# A full run's shape: 3 pairs per ratio, llama.cpp at 512 and 2048, GFLOP/s at 2048.
cat >"$tmp/full.jsonl" <<'EOF'
{"bench": "machine", "cpu": "Test CPU", "cores": 2, "load": "0.5 0.4 0.3", "blas": {}, "weights_mib": 513, "config": {"quick": false, "repeat": 3, "llama_bench": "/x/llama-bench", "lens_llama": [512, 2048], "lens_gflops": [2048], "len_explain": 4096, "len_bf16": 2048, "torch": false, "model": "/m"}}
{"bench": "gflops", "figure": "gflops", "pair": 0, "order": 0, "exit": 0, "load": 1.0, "model": "/m/hf", "mode": "scan", "n": 2048, "seconds": 6.0, "gflops": 65.0, "sgemm_gflops": 100.0, "ratio_to_sgemm": 0.65, "ratio_to_sgemm_cpu": 0.70, "peak_rss_mib": 500}
{"bench": "gflops", "figure": "gflops", "pair": 1, "order": 0, "exit": 0, "load": 1.0, "model": "/m/hf", "mode": "scan", "n": 2048, "seconds": 6.0, "gflops": 72.0, "sgemm_gflops": 100.0, "ratio_to_sgemm": 0.72, "ratio_to_sgemm_cpu": 0.80, "peak_rss_mib": 500}
{"bench": "gflops", "figure": "gflops", "pair": 2, "order": 0, "exit": 0, "load": 1.0, "model": "/m/hf", "mode": "scan", "n": 2048, "seconds": 6.0, "gflops": 69.0, "sgemm_gflops": 100.0, "ratio_to_sgemm": 0.69, "ratio_to_sgemm_cpu": 0.75, "peak_rss_mib": 500}
{"bench": "scan", "n": 512, "figure": "scan_llama", "pair": 0, "order": 0, "exit": 0, "load": 1.5, "seconds": 2.0, "peak_rss_mib": 500, "cpu_seconds": 3.0, "scan_seconds": 1.0}
{"bench": "llama_bench", "n": 512, "figure": "scan_llama", "pair": 0, "order": 1, "exit": 0, "load": 1.5, "tokens_per_s": 200.0, "build_commit": "5b4ebc5", "seconds": 4.0, "peak_rss_mib": 600, "cpu_seconds": 6.0}
{"bench": "llama_bench", "n": 512, "figure": "scan_llama", "pair": 1, "order": 0, "exit": 0, "load": 1.5, "tokens_per_s": 200.0, "build_commit": "5b4ebc5", "seconds": 4.0, "peak_rss_mib": 600, "cpu_seconds": 6.0}
{"bench": "scan", "n": 512, "figure": "scan_llama", "pair": 1, "order": 1, "exit": 0, "load": 1.5, "seconds": 1.6, "peak_rss_mib": 500, "cpu_seconds": 3.0, "scan_seconds": 1.0}
{"bench": "scan", "n": 512, "figure": "scan_llama", "pair": 2, "order": 0, "exit": 0, "load": 1.5, "seconds": 1.0, "peak_rss_mib": 500, "cpu_seconds": 3.0, "scan_seconds": 1.0}
{"bench": "llama_bench", "n": 512, "figure": "scan_llama", "pair": 2, "order": 1, "exit": 0, "load": 1.5, "tokens_per_s": 200.0, "build_commit": "5b4ebc5", "seconds": 4.0, "peak_rss_mib": 600, "cpu_seconds": 6.0}
{"bench": "scan", "n": 2048, "figure": "scan_llama", "pair": 0, "order": 0, "exit": 1, "load": 2.0, "seconds": 0.5, "peak_rss_mib": 100, "cpu_seconds": 0.5, "scan_seconds": null}
{"bench": "llama_bench", "n": 2048, "figure": "scan_llama", "pair": 0, "order": 1, "exit": 0, "load": 2.0, "tokens_per_s": 64.0, "build_commit": "5b4ebc5", "seconds": 20.0, "peak_rss_mib": 600, "cpu_seconds": 40.0}
{"bench": "llama_bench", "n": 2048, "figure": "scan_llama", "pair": 1, "order": 0, "exit": 0, "load": 2.0, "tokens_per_s": 64.0, "build_commit": "5b4ebc5", "seconds": 20.0, "peak_rss_mib": 600, "cpu_seconds": 40.0}
{"bench": "scan", "n": 2048, "figure": "scan_llama", "pair": 1, "order": 1, "exit": 0, "load": 2.0, "seconds": 16.0, "peak_rss_mib": 520, "cpu_seconds": 20.0, "scan_seconds": 9.0}
{"bench": "scan", "n": 2048, "figure": "scan_llama", "pair": 2, "order": 0, "exit": 0, "load": 2.0, "seconds": 8.0, "peak_rss_mib": 520, "cpu_seconds": 16.0, "scan_seconds": 7.0}
{"bench": "llama_bench", "n": 2048, "figure": "scan_llama", "pair": 2, "order": 1, "exit": 0, "load": 2.0, "tokens_per_s": 64.0, "build_commit": "5b4ebc5", "seconds": 20.0, "peak_rss_mib": 600, "cpu_seconds": 40.0}
{"bench": "rank", "n": 4096, "figure": "rank_prefill", "pair": 0, "order": 0, "exit": 0, "load": 1.0, "seconds": 16.0, "peak_rss_mib": 570, "cpu_seconds": 30.0}
{"bench": "prefill_hidden", "n": 4096, "figure": "rank_prefill", "pair": 0, "order": 1, "exit": 0, "load": 1.0, "seconds": 14.0, "peak_rss_mib": 570, "cpu_seconds": 28.0}
{"bench": "prefill_hidden", "n": 4096, "figure": "rank_prefill", "pair": 1, "order": 0, "exit": 0, "load": 1.0, "seconds": 12.0, "peak_rss_mib": 570, "cpu_seconds": 28.0}
{"bench": "rank", "n": 4096, "figure": "rank_prefill", "pair": 1, "order": 1, "exit": 0, "load": 1.0, "seconds": 18.0, "peak_rss_mib": 570, "cpu_seconds": 30.0}
{"bench": "rank", "n": 4096, "figure": "rank_prefill", "pair": 2, "order": 0, "exit": 0, "load": 1.0, "seconds": 20.0, "peak_rss_mib": 570, "cpu_seconds": 30.0}
{"bench": "prefill_hidden", "n": 4096, "figure": "rank_prefill", "pair": 2, "order": 1, "exit": 0, "load": 1.0, "seconds": 12.5, "peak_rss_mib": 570, "cpu_seconds": 28.0}
{"bench": "bf16_twin", "figure": "bf16_twin", "pair": 0, "order": 0, "dtype": "f32", "exit": 0, "load": 1.0, "model": "/bf16-models/m/hf", "mode": "scan", "n": 2048, "seconds": 20.0, "tokens_per_s": 100.0, "peak_rss_mib": 510}
{"bench": "bf16_twin", "figure": "bf16_twin", "pair": 0, "order": 1, "dtype": "bf16", "exit": 0, "load": 1.0, "model": "/b/twin/hf", "mode": "scan", "n": 2048, "seconds": 22.2, "tokens_per_s": 90.0, "peak_rss_mib": 290}
{"bench": "bf16_twin", "figure": "bf16_twin", "pair": 1, "order": 0, "dtype": "bf16", "exit": 0, "load": 1.0, "model": "/b/twin/hf", "mode": "scan", "n": 2048, "seconds": 20.8, "tokens_per_s": 96.0, "peak_rss_mib": 290}
{"bench": "bf16_twin", "figure": "bf16_twin", "pair": 1, "order": 1, "dtype": "f32", "exit": 0, "load": 1.0, "model": "/bf16-models/m/hf", "mode": "scan", "n": 2048, "seconds": 20.0, "tokens_per_s": 100.0, "peak_rss_mib": 510}
{"bench": "bf16_twin", "figure": "bf16_twin", "pair": 2, "order": 0, "dtype": "f32", "exit": 0, "load": 1.0, "model": "/bf16-models/m/hf", "mode": "scan", "n": 2048, "seconds": 20.0, "tokens_per_s": 100.0, "peak_rss_mib": 510}
{"bench": "bf16_twin", "figure": "bf16_twin", "pair": 2, "order": 1, "dtype": "bf16", "exit": 0, "load": 1.0, "model": "/b/twin/hf", "mode": "scan", "n": 2048, "seconds": 20.2, "tokens_per_s": 99.0, "peak_rss_mib": 290}
EOF
/usr/bin/python3 "$report" "$tmp/full.jsonl" >"$tmp/full.out" 2>&1 || bad "report on a full run exits 0"
# GFLOP/s at 2048: 0.65, 0.72, 0.69 -> median 0.69 < 0.70, one run of three met
has "gflops: median, span, verdict" "$tmp/full.out" \
  "| scan eff. GFLOP/s / same run's SGEMM, N=2048 (medians 69.0 / 100.0 GFLOP/s) | >= 0.7 | 0.69 | 0.65-0.72 | 3 | missed (1 of 3 runs met) |"
# the same per CPU second: 0.70, 0.80, 0.75 -> 0.75, all met
has "gflops per CPU second" "$tmp/full.out" "| 0.75 | 0.70-0.80 | 3 | MET (3 of 3 runs met) |"
# 512: 512 tokens in 2.0, 1.6, 1.0 s against 200 tok/s -> 1.28, 1.60, 2.56; median 1.60
has "llama 512: the median decides" "$tmp/full.out" \
  "| scan / llama.cpp F32 prefill tokens/s, N=512 (medians 320 vs 200 tok/s) | >= 1.5 | 1.60 | 1.28-2.56 | 3 | MET (2 of 3 pairs met) |"
# the scan alone: 512 tokens in 1.0 s every time -> 2.56
has "llama 512, scan alone" "$tmp/full.out" "| 2.56 | 2.56-2.56 | 3 | MET (3 of 3 pairs met) |"
# per CPU second: 6.0 / 3.0 = 2.0 in every pair
has "llama 512 per CPU second" "$tmp/full.out" "| 2.00 | 2.00-2.00 | 3 | MET (3 of 3 pairs met) |"
# 2048: pair 0's scan failed; 2048 tokens in 16 s and 8 s against 64 tok/s -> 2.0 (at the
# target: met) and 4.0, median 3.0
has "llama 2048: a failed pair is named, the rest count" "$tmp/full.out" \
  "| 3.00 | 2.00-4.00 | 2 | MET (2 of 2 pairs met; pair 0: scan failed (exit 1)) |"
has "llama 4096: not run at this N" "$tmp/full.out" "not measured (not run at N=4096)"
has "gflops 8192: not run" "$tmp/full.out" "not measured (not run at N=8192)"
# rank: 16/14 = 1.143, 18/12 = 1.5, 20/12.5 = 1.6 -> median 1.5 meets <= 1.5
has "rank / prefill: median at the target meets it" "$tmp/full.out" \
  "| rank / plain prefill time, N=4096 (medians 18.0 vs 12.5 s) | <= 1.5 | 1.50 | 1.14-1.60 | 3 | MET (2 of 3 pairs met) |"
has "freq: no pairs recorded" "$tmp/full.out" "| freq / plain prefill time, N=4096 | <= 2.0 | - | - | 0 | not measured (no run recorded) |"
has "llama.cpp's build is named" "$tmp/full.out" "build 5b4ebc5 (the issue's target names c392e50)"
has "load of the paired runs" "$tmp/full.out" "paired runs: 1.00-2.00"
# the BF16 twin by its runs' dtype, not their paths (both hold "bf16"): 90/100, 96/100,
# 99/100 -> median 0.96 meets >= 0.95
has "BF16 twin: median of its pairs" "$tmp/full.out" \
  "| BF16 / F32 twin scan tokens/s (same efficiency), N=2048 (medians 96 vs 100 tok/s; RSS 290 vs 510 MiB) | >= 0.95 | 0.96 | 0.90-0.99 | 3 | MET (2 of 3 pairs met) |"
has "peak RSS at 8192 missing" "$tmp/full.out" "not measured (no finished scan of 8192 tokens"
has "torch skipped" "$tmp/full.out" "PyTorch peer: not measured (BENCH_TORCH=0)"

# A quick run without LLAMA_BENCH: rank at 512 is shown, but not against 4096's target.
cat >"$tmp/quick.jsonl" <<'EOF'
{"bench": "machine", "cpu": "Test CPU", "cores": 2, "load": "0.5 0.4 0.3", "blas": {}, "weights_mib": 513, "config": {"quick": true, "repeat": 1, "llama_bench": null, "lens_llama": [], "lens_gflops": [512], "len_explain": 512, "torch": false, "model": "/m"}}
{"bench": "rank", "n": 512, "figure": "rank_prefill", "pair": 0, "order": 0, "exit": 0, "load": 1.0, "seconds": 1.2, "peak_rss_mib": 570, "cpu_seconds": 2.0}
{"bench": "prefill_hidden", "n": 512, "figure": "rank_prefill", "pair": 0, "order": 1, "exit": 0, "load": 1.0, "seconds": 1.0, "peak_rss_mib": 570, "cpu_seconds": 2.0}
{"bench": "scan", "n": 512, "exit": 0, "load": 1.0, "seconds": 1.0, "peak_rss_mib": 530, "cpu_seconds": 2.0}
EOF
/usr/bin/python3 "$report" "$tmp/quick.jsonl" >"$tmp/quick.out" 2>&1 || bad "report on a quick run exits 0"
has "quick: LLAMA_BENCH unset" "$tmp/quick.out" "| scan / llama.cpp F32 prefill tokens/s, N=512 | >= 1.5 | - | - | 0 | not measured (LLAMA_BENCH unset) |"
has "quick: 2048 not run" "$tmp/quick.out" "not measured (not run at N=2048 (BENCH_QUICK))"
has "quick: rank at 512 against 4096's target" "$tmp/quick.out" "| 1.20 | 1.20 | 1 | not comparable (N=512; the target is at N=4096) |"
has "quick: the scaling table" "$tmp/quick.out" "| 512 | 1.0 s | 2.0 s | 512 | 530 MiB | +0 MiB | - MiB |"
has "BF16 twin missing" "$tmp/quick.out" "not measured (no BF16 twin run recorded)"

# Nothing usable: every figure says not measured, no traceback.
echo "not json" >"$tmp/empty.jsonl"
if /usr/bin/python3 "$report" "$tmp/empty.jsonl" >"$tmp/empty.out" 2>&1 && ! grep -q Traceback "$tmp/empty.out"
then ok "an empty results file: no crash"; else bad "an empty results file"; cat "$tmp/empty.out"; fi
has "empty: llama unset" "$tmp/empty.out" "not measured (LLAMA_BENCH unset)"
if /usr/bin/python3 "$report" "$tmp/missing.jsonl" >"$tmp/missing.out" 2>&1; then
  bad "a missing results file exits non-zero"
else has "a missing results file is named" "$tmp/missing.out" "cannot read the results file $tmp/missing.jsonl"; fi

# run.sh refuses bad settings before it writes anything.
mkdir -p "$tmp/nolayers/hf"; echo '{"hidden_size": 576}' >"$tmp/nolayers/hf/config.json"
: >"$tmp/nolayers/hf/model.safetensors"; : >"$tmp/nolayers/model.gguf"
for bad_env in "BENCH_REPEAT=0|BENCH_REPEAT=0: expected a whole number >= 1" \
  "BENCH_REPEAT=x|BENCH_REPEAT=x: expected a whole number >= 1" \
  "BENCH_MODEL=$tmp/none|BENCH_MODEL=$tmp/none has no hf/model.safetensors" \
  "BENCH_MODEL=$tmp/nolayers|hf/config.json has no whole number num_hidden_layers" \
  "LLAMA_BENCH=$tmp/none|LLAMA_BENCH=$tmp/none is not an executable file"; do
  var=${bad_env%%|*}; want=${bad_env#*|}
  if env BUILD="$tmp/build" "$var" bash "$src/bench/run.sh" >"$tmp/run.out" 2>&1; then
    bad "run.sh with $var exits non-zero"
  else has "run.sh with $var: exit $?, says why" "$tmp/run.out" "$want"; fi
done
[ ! -e "$tmp/build" ] && ok "run.sh wrote nothing on a bad setting" || bad "run.sh wrote $tmp/build"

# run.sh itself on stub programs (instant; the real ones are the benchmark), each logging
# its command line to calls.log. The stub slashscope refuses --out DIR while DIR.partial
# exists, as store/folder.h does without --resume or --force: a killed scan, rank or freq
# leaves such a checkpoint, so run.sh removes DIR.partial with DIR before every run.
sb=$tmp/sbuild; mkdir -p "$sb"
cat >"$sb/gen_model" <<'STUB'
#!/usr/bin/env bash
echo "gen_model $*" >>"$(dirname "$0")/calls.log"
mkdir -p "$1/hf"; echo "{\"hidden_size\": 576, \"num_hidden_layers\": ${2:-30}}" >"$1/hf/config.json"
: >"$1/hf/model.safetensors"; [ "${3:-}" = bf16 ] || echo tokenizer.ggml.model >"$1/model.gguf"
STUB
cat >"$sb/slashscope" <<'STUB'
#!/usr/bin/env bash
echo "slashscope $*" >>"$(dirname "$0")/calls.log"
[ "$1" = info ] && { echo '{"blas": {"library": "stub"}}'; exit 0; }
out=; while [ $# -gt 0 ]; do [ "$1" = --out ] && out=$2; shift; done
[ -e "$out.partial" ] && { echo "$out.partial: an unfinished run (--resume or --force)" >&2; exit 1; }
mkdir -p "$out"; echo '{"wall_seconds": 0.5}' >"$out/scan.json"
STUB
cat >"$sb/peak_rss" <<'STUB'
#!/usr/bin/env bash
"$@" >/dev/null 2>&1; rc=$?
echo '{"seconds": 1.0, "peak_rss_mib": 10, "cpu_seconds": 2.0}' >&2; exit $rc
STUB
cat >"$sb/bench_prefill" <<'STUB'
#!/usr/bin/env bash
echo "bench_prefill $*" >>"$(dirname "$0")/calls.log"
tps=100; case $1 in *bf16*) tps=96;; esac
echo "{\"model\": \"$1\", \"mode\": \"$5\", \"n\": $2, \"seconds\": 1.0, \"tokens_per_s\": $tps, \"gflops\": 1.0, \"sgemm_gflops\": 2.0, \"ratio_to_sgemm\": 0.5, \"ratio_to_sgemm_cpu\": 0.5, \"peak_rss_mib\": 10}"
STUB
chmod +x "$sb/gen_model" "$sb/slashscope" "$sb/peak_rss" "$sb/bench_prefill"
# checkpoints of killed runs at every --out a quick run uses
for d in rank freq scan512 scan1024 phases-scan phases-freq; do
  mkdir -p "$sb/bench/$d.partial/checkpoint"
done
if BUILD=$sb BENCH_QUICK=1 BENCH_TORCH=0 bash "$src/bench/run.sh" >"$tmp/stub.out" 2>&1; then
  ok "run.sh on stubs exits 0"; else bad "run.sh on stubs"; cat "$tmp/stub.out"; fi
if /usr/bin/python3 - "$sb/bench/results.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
runs = [r for r in rows if r["bench"] in ("scan", "rank", "freq")]
assert sorted({r["bench"] for r in runs}) == ["freq", "rank", "scan"], runs
assert all(r["exit"] == 0 for r in runs), [r for r in runs if r["exit"]]
PY
then ok "a left-over DIR.partial: every scan, rank and freq ran"
else bad "a run refused its --out"; fi
left=$(find "$sb/bench" -maxdepth 1 -name '*.partial' | wc -l)
[ "$left" -eq 0 ] && ok "no DIR.partial left" || bad "$left DIR.partial left"

# BENCH_MODEL of 4 layers: its BF16 twin is generated with 4 layers (not 30), and each of
# its pair is one scan of either model, told apart by "dtype" (the stub's tokens/s: 96
# for a path holding "bf16", 100 else)
"$sb/gen_model" "$tmp/m4" 4 >/dev/null; : >"$sb/calls.log"
if BUILD=$sb BENCH_QUICK=1 BENCH_TORCH=0 BENCH_MODEL=$tmp/m4 bash "$src/bench/run.sh" \
  >"$tmp/stub4.out" 2>&1; then ok "run.sh on stubs with BENCH_MODEL exits 0"
else bad "run.sh on stubs with BENCH_MODEL"; cat "$tmp/stub4.out"; fi
has "the twin has BENCH_MODEL's layer count" "$sb/calls.log" \
  "gen_model $sb/bench/bf16-smollm2-135m-L4 4 bf16 smollm2-135m"
has "twin pair: the BF16 twin" "$sb/calls.log" "bench_prefill $sb/bench/bf16-smollm2-135m-L4/hf 512 2 1 scan"
has "twin ratio from the pair" "$tmp/stub4.out" \
  "| BF16 / F32 twin scan tokens/s (same efficiency), N=512 (medians 96 vs 100 tok/s; RSS 10 vs 10 MiB) | >= 0.95 | 0.96 | 0.96 | 1 | MET (1 of 1 pair met) |"

echo "cli_bench_report: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
