#!/usr/bin/env bash
# Benchmarks of issues #2 (prefill), #4 (scan), #5 (rank, freq) and #10
# (speed on every CPU, long N, the PyTorch peer, scaling) on a random-weight
# model with SmolLM2-135M's shape, 2 threads, default environment; issue #10's
# figures first, the longest scans last. Writes one
# JSON line per measurement to build/bench/results.jsonl, then prints every
# figure next to its target (bench/report.py).
#   BENCH_QUICK=1        short lengths only (a smoke run)
#   BENCH_SCALING="..."  scan lengths of the scaling table (default 512 ... 32768)
#   BENCH_TORCH=0        skip the PyTorch peer; BENCH_TORCH_GIB caps its memory (default 12)
#   LLAMA_BENCH=PATH     a llama-bench of llama.cpp c392e50 (CPU build): run on the same
#                        weights (F32 GGUF) in the same run, ratios printed (by wall time and
#                        by CPU time); LLAMA_BENCH_ARGS adds options (e.g. "--poll 0
#                        --no-warmup": no spinning, so its CPU time is the work done)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD:-build}
out=$build/bench
mkdir -p "$out"
model=$out/smollm2-135m-shape
# (a GGUF from before gen_model wrote tokenizer.ggml.model cannot be loaded by llama.cpp)
{ [ -f "$model/model.gguf" ] && head -c 4096 "$model/model.gguf" | grep -qa tokenizer.ggml.model; } ||
  "$build/gen_model" "$model"
[ -f "$model-bf16/hf/model.safetensors" ] || "$build/gen_model" "$model-bf16" 30 bf16
results=$out/results.jsonl
: >"$results"
threads=2
export OMP_NUM_THREADS=$threads
py=/usr/bin/python3
lens_prefill="512 2048"; lens_scaling=${BENCH_SCALING:-"512 1024 2048 4096 8192 16384 32768"}
lens_ratio="2048 4096"; len_explain=4096; lens_torch="1024 2048 4096"; lens_gflops="2048 8192"
len_bf16=2048
if [ "${BENCH_QUICK:-0}" = 1 ]; then
  lens_prefill=512; lens_scaling="512 1024"; lens_ratio=512; len_explain=512; lens_torch=512
  lens_gflops=512; len_bf16=512
fi

# ids of a synthetic prompt of n tokens, the same for every program
ids_file() { # n
  local f=$out/ids$1.txt
  [ -f "$f" ] || $py -c "print(' '.join(str((i * 7919 + 13) % 49152) for i in range(int('$1'))))" >"$f"
  echo "$f"
}

# A command's wall time, peak RSS and exit status as JSON, tagged; never fails.
measure() { # tag n cmd...
  local tag=$1 n=$2; shift 2
  local m rc=0
  m=$("$build/peak_rss" "$@" 2>&1 >/dev/null | tail -n 1) || rc=$?
  case $m in "{\"seconds\""*) ;; *) m='{"seconds": null, "peak_rss_mib": null}';; esac
  echo "{\"bench\": \"$tag\", \"n\": $n, \"exit\": $rc, \"load\": $(cut -d' ' -f1 /proc/loadavg), ${m#\{}" |
    tee -a "$results"
}

# the scaling table's scans whose length compares with 8192 as $1 says (-le, -gt)
scaling_scans() {
  for n in $lens_scaling; do
    [ "$n" "$1" 8192 ] || continue
    rm -rf "$out/scan$n"
    measure scan "$n" "$build/slashscope" scan "$model/hf" --ids-file "$(ids_file "$n")" \
      --len "$n" --out "$out/scan$n" --quiet --threads $threads --allow-long
  done
}

blas=$("$build/slashscope" info "$model/hf" --json | $py -c "import json,sys; print(json.dumps(json.load(sys.stdin)['blas']))")
echo "{\"bench\": \"machine\", \"cpu\": \"$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)\", \"cores\": $(nproc), \"load\": \"$(cut -d' ' -f1-3 /proc/loadavg)\", \"blas\": $blas, \"weights_mib\": $(( $(stat -c %s "$model/hf/model.safetensors") / 1048576 ))}" | tee -a "$results"

echo "== scan: effective GFLOP/s against the same run's SGEMM (bench_prefill scan mode)"
for n in $lens_gflops; do
  "$build/bench_prefill" "$model/hf" "$n" $threads 1 scan | tee -a "$results"
done
# where a run's time goes: the SLASHSCOPE_TIMINGS table (common/timing.h) of one scan and one
# freq, as JSON (phase, marks, wall, CPU); trustworthy under load as CPU seconds and ratios
phases() { # tag n cmd...
  local tag=$1 n=$2; shift 2
  SLASHSCOPE_TIMINGS=1 "$@" 2>"$out/phases-$tag.txt" >/dev/null || true
  $py - "$out/phases-$tag.txt" "$tag" "$n" <<'PY' | tee -a "$results"
import json, re, sys
rows = []
for l in open(sys.argv[1]):
    m = re.match(r"^  (\S.*?)\s+(\d+)\s+([\d.]+)\s+([\d.]+)\s+[\d.]+$", l.rstrip())
    if m:
        rows.append({"phase": m[1], "marks": int(m[2]), "wall": float(m[3]), "cpu": float(m[4])})
    m = re.match(r"^  (after the last mark|total) .*?\s([\d.]+)\s+([\d.]+)(\s+[\d.]+)?$", l.rstrip())
    if m:
        rows.append({"phase": m[1], "marks": 0, "wall": float(m[2]), "cpu": float(m[3])})
print(json.dumps({"bench": "phases", "command": sys.argv[2], "n": int(sys.argv[3]), "phases": rows}))
PY
}
rm -rf "$out/phases-scan" "$out/phases-freq"
phases scan "$len_bf16" "$build/slashscope" scan "$model/hf" --ids-file "$(ids_file "$len_bf16")" \
  --len "$len_bf16" --out "$out/phases-scan" --quiet --threads $threads
phases freq "$len_bf16" "$build/slashscope" freq "$model/hf" --ood 1 --len "$len_bf16" --seed 1 \
  --heads all --out "$out/phases-freq" --quiet --threads $threads

echo "== scaling: scan time and peak RSS, N <= 8192 (the longer ones come last)"
scaling_scans -le

if [ "${BENCH_TORCH:-1}" != 0 ]; then
  if ! $py -c "import torch" 2>/dev/null && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "== installing python3-torch for the peer (bench only, not a project dependency)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3-torch >/dev/null
  fi
  if $py -c "import torch" 2>/dev/null; then
    gib=${BENCH_TORCH_GIB:-12}
    echo "== PyTorch peer: materialised attention, same slash scores (memory capped at $gib GiB)"
    for n in $lens_torch; do
      [ -d "$out/scan$n" ] || measure scan "$n" "$build/slashscope" scan "$model/hf" \
        --ids-file "$(ids_file "$n")" --len "$n" --out "$out/scan$n" --quiet --threads $threads
      for mode in output_attentions per_layer; do
        flag=; [ $mode = per_layer ] && flag=--per-layer
        rm -f "$out/torch$n-$mode.npy"
        # passive waiting, as slashscope uses: spinning threads cost the peer 4x on a busy machine
        (ulimit -v $((gib * 1048576)); export OMP_WAIT_POLICY=passive; measure "torch_$mode" "$n" \
          $py bench/torch_peer.py "$model/hf" "$(ids_file "$n")" "$out/torch$n-$mode.npy" \
          --threads $threads $flag)
        if [ -f "$out/torch$n-$mode.npy" ]; then
          $py -c "
import json, numpy as np
a = np.load('$out/scan$n/slash.npy'); b = np.load('$out/torch$n-$mode.npy')
print(json.dumps({'bench': 'torch_agreement', 'n': $n, 'mode': '$mode',
                  'max_abs_diff': float(np.nanmax(np.abs(a - b)))}))" | tee -a "$results"
        fi
      done
    done
  else
    echo "(PyTorch peer skipped: python3-torch is not installed)"
  fi
fi

echo "== scan of all heads and offsets vs a plain prefill of the same prompt (no logits)"
for n in $lens_ratio; do
  measure prefill_hidden "$n" "$build/bench_prefill" "$model/hf" "$n" $threads 1 hidden
done

echo "== rank and freq, all heads, one prompt of $len_explain tokens"
[ "$(echo " $lens_ratio " | grep -c " $len_explain ")" = 1 ] ||
  measure prefill_hidden "$len_explain" "$build/bench_prefill" "$model/hf" "$len_explain" $threads 1 hidden
rm -rf "$out/rank" "$out/freq"
measure rank "$len_explain" "$build/slashscope" rank "$model/hf" --ood 1 --len "$len_explain" \
  --seed 1 --heads all --out "$out/rank" --quiet --threads $threads
measure freq "$len_explain" "$build/slashscope" freq "$model/hf" --ood 1 --len "$len_explain" \
  --seed 1 --heads all --out "$out/freq" --quiet --threads $threads

echo "== BF16 twin of the same weights"
for m in hf "../smollm2-135m-shape-bf16/hf"; do
  "$build/bench_prefill" "$model/$m" "$len_bf16" $threads 1 scan | tee -a "$results"
done

echo "== prefill (tokens/s, effective GFLOP/s, peak RSS; SGEMM on [N x 576] x [576 x 1536])"
for fmt in hf model.gguf; do
  for n in $lens_prefill; do
    "$build/bench_prefill" "$model/$fmt" "$n" $threads 2 prefill | tee -a "$results"
  done
done

echo "== scaling, N > 8192 (--allow-long)"
scaling_scans -gt

if [ -n "${LLAMA_BENCH:-}" ]; then
  echo "== llama.cpp ($LLAMA_BENCH), F32 prefill of the same weights"
  for n in $lens_scaling; do
    [ "$n" -le 8192 ] || continue
    # through peak_rss: wall, CPU time and peak RSS of the whole llama-bench process
    # (model load included, as in the scan's figures); tokens/s is llama-bench's own
    m=$("$build/peak_rss" "$LLAMA_BENCH" -m "$model/model.gguf" -p "$n" -n 0 -t $threads -r 1 \
      ${LLAMA_BENCH_ARGS:-} -o json 2>&1 >"$out/llama$n.json" | tail -n 1) || true
    case $m in "{\"seconds\""*) ;; *) m='{"seconds": null, "peak_rss_mib": null}';; esac
    ts=$($py -c "import json; r=[x for x in json.load(open('$out/llama$n.json')) if x.get('n_prompt')]; print(r[0]['avg_ts'] if r else 'null')" 2>/dev/null) || ts=null
    echo "{\"bench\": \"llama_bench\", \"n\": $n, \"tokens_per_s\": $ts, \"load\": $(cut -d' ' -f1 /proc/loadavg), ${m#\{}" |
      tee -a "$results"
  done
fi

echo "results: $results"
$py bench/report.py "$results"
