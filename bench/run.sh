#!/usr/bin/env bash
# Benchmarks of issue #2 (prefill), #4 (scan) and #5 (rank, freq) on a
# random-weight model with SmolLM2-135M's shape, 2 threads. Writes one JSON
# line per measurement to build/bench/results.jsonl and prints a table.
# BENCH_QUICK=1 runs only the shortest lengths.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD:-build}
out=$build/bench
mkdir -p "$out"
model=$out/smollm2-135m-shape
[ -f "$model/model.gguf" ] || "$build/gen_model" "$model"
results=$out/results.jsonl
: >"$results"
threads=2
export OMP_NUM_THREADS=$threads
lens_prefill="512 2048"; lens_scan="2048 4096"; len_explain=4096
[ "${BENCH_QUICK:-0}" = 1 ] && { lens_prefill=512; lens_scan=512; len_explain=512; }

echo "== prefill (tokens/s, effective GFLOP/s, peak RSS; SGEMM on [N x 576] x [576 x 1536])"
for fmt in hf model.gguf; do
  for n in $lens_prefill; do
    "$build/bench_prefill" "$model/$fmt" "$n" $threads 2 prefill | tee -a "$results"
  done
done

# A command's wall time and peak RSS as JSON, tagged.
measure() { # tag n cmd...
  local tag=$1 n=$2; shift 2
  local m
  m=$("$build/peak_rss" "$@" 2>&1 >/dev/null | tail -n 1)
  echo "{\"bench\": \"$tag\", \"n\": $n, ${m#\{}" | tee -a "$results"
}

echo "== scan of all heads and offsets vs a plain prefill of the same prompt (no logits)"
for n in $lens_scan; do
  measure prefill_hidden "$n" "$build/bench_prefill" "$model/hf" "$n" $threads 1 hidden
  rm -rf "$out/scan"
  measure scan "$n" "$build/slashscope" scan "$model/hf" --ood 1 --len "$n" --seed 1 \
    --out "$out/scan" --quiet --threads $threads
done

echo "== rank and freq, all heads, one prompt of $len_explain tokens"
measure prefill_hidden "$len_explain" "$build/bench_prefill" "$model/hf" "$len_explain" $threads 1 hidden
rm -rf "$out/rank" "$out/freq"
measure rank "$len_explain" "$build/slashscope" rank "$model/hf" --ood 1 --len "$len_explain" \
  --seed 1 --heads all --out "$out/rank" --quiet --threads $threads
measure freq "$len_explain" "$build/slashscope" freq "$model/hf" --ood 1 --len "$len_explain" \
  --seed 1 --heads all --out "$out/freq" --quiet --threads $threads

echo "results: $results"
