#!/usr/bin/env bash
# Benchmarks of issues #2 (prefill), #4 (scan), #5 (rank, freq) and #10
# (speed on every CPU, long N, the PyTorch peer, scaling) on a random-weight
# model with SmolLM2-135M's shape, 2 threads, default environment; issue #10's
# figures first, the longest scans last. Writes one
# JSON line per measurement to build/bench/results.jsonl, then prints every
# figure next to its target (bench/report.py).
# The issue's ratios (scan vs llama.cpp, rank and freq vs a plain prefill, the
# scan's GFLOP/s vs SGEMM) come from BENCH_REPEAT pairs run back to back, the
# order alternating from pair to pair; the report takes the median of the
# per-pair ratios (this VM's speed drifts 10-20% over minutes; docs/benchmarks.md).
#   BENCH_QUICK=1        short lengths only (a smoke run)
#   BENCH_REPEAT=R       pairs per ratio (default 3; 1 with BENCH_QUICK)
#   BENCH_MODEL=DIR      a bench model as build/gen_model writes it (DIR/hf, DIR/model.gguf;
#                        default: generated under build/bench); its BF16 twin is generated
#                        under build/bench as bf16-<shape>-L<layers>, with DIR/hf/config.json's
#                        shape and layer count (gen_model's fixed seeds: the same weights, rounded)
#   BENCH_SCALING="..."  scan lengths of the scaling table (default 512 ... 32768)
#   BENCH_TORCH=0        skip the PyTorch peer; BENCH_TORCH_GIB caps its memory (default 12)
#   LLAMA_BENCH=PATH     a llama-bench of llama.cpp (c392e50 in the issue; CPU build): run on the
#                        same weights (F32 GGUF) in the same run, paired with scans, ratios
#                        printed (by wall time and by CPU time) with the build's commit;
#                        LLAMA_BENCH_ARGS adds options (e.g. "--poll 0 --no-warmup": no
#                        spinning, so its CPU time is the work done)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD:-build}
out=$build/bench
py=/usr/bin/python3
# the settings are checked before anything is written
quick=${BENCH_QUICK:-0}
repeat=${BENCH_REPEAT:-$([ "$quick" = 1 ] && echo 1 || echo 3)}
case $repeat in ''|*[!0-9]*|0) echo "bench/run.sh: BENCH_REPEAT=$repeat: expected a whole number >= 1" >&2
  exit 2;; esac
if [ -n "${LLAMA_BENCH:-}" ] && [ ! -x "$LLAMA_BENCH" ]; then
  echo "bench/run.sh: LLAMA_BENCH=$LLAMA_BENCH is not an executable file (expected llama.cpp's llama-bench)" >&2
  exit 2
fi
# "shape layers" of a model gen_model wrote (its BF16 twin gets the same): the shape by
# hidden_size (576 SmolLM2-135M's, 2048 Llama-3.2-1B's)
model_layers() { # dir
  $py -c "import json,sys; c = json.load(open(sys.argv[1]))
print({576: 'smollm2-135m', 2048: 'llama-3.2-1b'}[c.get('hidden_size', 576)], int(c['num_hidden_layers']))" \
    "$1/hf/config.json" 2>/dev/null
}
if [ -n "${BENCH_MODEL:-}" ]; then
  model=${BENCH_MODEL%/}
  for f in hf/model.safetensors hf/config.json model.gguf; do
    [ -f "$model/$f" ] || { echo "bench/run.sh: BENCH_MODEL=$BENCH_MODEL has no $f (expected a folder" \
      "as build/gen_model writes it: hf/ and model.gguf)" >&2; exit 2; }
  done
  model_layers "$model" >/dev/null || { echo "bench/run.sh: BENCH_MODEL=$BENCH_MODEL:" \
    "hf/config.json has no whole number num_hidden_layers or a hidden_size gen_model does not" \
    "write (expected gen_model's config: 576 or 2048)" >&2; exit 2; }
fi
mkdir -p "$out"
if [ -z "${BENCH_MODEL:-}" ]; then
  model=$out/smollm2-135m-shape
  # (a GGUF from before gen_model wrote tokenizer.ggml.model cannot be loaded by llama.cpp)
  { [ -f "$model/model.gguf" ] && head -c 4096 "$model/model.gguf" | grep -qa tokenizer.ggml.model; } ||
    "$build/gen_model" "$model"
fi
# the BF16 twin: gen_model's weights with the model's own shape and layer count, rounded
read -r shape layers < <(model_layers "$model")
bf16=$out/bf16-$shape-L$layers
[ -f "$bf16/hf/model.safetensors" ] || "$build/gen_model" "$bf16" "$layers" bf16 "$shape"
results=$out/results.jsonl
: >"$results"
threads=2
export OMP_NUM_THREADS=$threads
lens_prefill="512 2048"; lens_scaling=${BENCH_SCALING:-"512 1024 2048 4096 8192 16384 32768"}
lens_ratio="2048 4096"; len_explain=4096; lens_torch="1024 2048 4096"; lens_gflops="2048 8192"
len_bf16=2048; lens_llama="512 2048 4096 8192"
if [ "$quick" = 1 ]; then
  lens_prefill=512; lens_scaling="512 1024"; lens_ratio=512; len_explain=512; lens_torch=512
  lens_gflops=512; len_bf16=512; lens_llama=512
fi
[ -n "${LLAMA_BENCH:-}" ] || lens_llama=

# ids of a synthetic prompt of n tokens, the same for every program
ids_file() { # n
  local f=$out/ids$1.txt
  [ -f "$f" ] || $py -c "print(' '.join(str((i * 7919 + 13) % 49152) for i in range(int('$1'))))" >"$f"
  echo "$f"
}

load1() { cut -d' ' -f1 /proc/loadavg; }

# One JSON line into results.jsonl (and on stdout).
record() { echo "$1" | tee -a "$results"; }

# The fields of the pair a run belongs to ('"figure": F, "pair": k, "order": i, '; empty
# outside pairs), set by pairs() for the run functions it calls.
pair_tags=

# A command's wall time, peak RSS and exit status as JSON, tagged with the pair and the
# 1-minute load average when it started; never fails.
measure_json() { # tag n cmd...
  local tag=$1 n=$2; shift 2
  local m rc=0 load
  load=$(load1)
  m=$("$build/peak_rss" "$@" 2>&1 >/dev/null | tail -n 1) || rc=$?
  case $m in "{\"seconds\""*) ;; *) m='{"seconds": null, "peak_rss_mib": null}';; esac
  echo "{\"bench\": \"$tag\", \"n\": $n, $pair_tags\"exit\": $rc, \"load\": $load, ${m#\{}"
}
measure() { record "$(measure_json "$@")"; }

# bench_prefill's JSON line, tagged; a failed run is recorded with its exit status.
bench_prefill_run() { # tag n model mode repeats
  local tag=$1 n=$2 line rc=0 load
  load=$(load1)
  line=$("$build/bench_prefill" "$3" "$n" $threads "$5" "$4") || rc=$?
  case $line in "{"*) ;; *) line="{\"n\": $n, \"model\": \"$3\", \"mode\": \"$4\"}";; esac
  record "{\"bench\": \"$tag\", $pair_tags\"exit\": $rc, \"load\": $load, ${line#\{}"
}

# A result folder made anew: with it goes DIR.partial, the checkpoint a killed scan, rank or
# freq leaves, which makes the next run with --out DIR refuse (store/folder.h: --resume/--force).
fresh() { rm -rf "$1" "$1.partial"; }

# The runs that pairs() interleaves, one measured run of n tokens each.
run_scan() { # n: the whole scan command; scan_seconds is the scan's own time (scan.json)
  local n=$1 d=$out/pair-scan$1 line
  fresh "$d"
  line=$(measure_json scan "$n" "$build/slashscope" scan "$model/hf" --ids-file "$(ids_file "$n")" \
    --len "$n" --out "$d" --quiet --threads $threads --allow-long)
  local own
  own=$($py -c "import json,sys; print(json.load(open(sys.argv[1]))['wall_seconds'])" \
    "$d/scan.json" 2>/dev/null) || own=null
  record "${line%\}}, \"scan_seconds\": $own}"
}
run_llama() { # n: llama-bench's F32 prefill of n tokens, one repetition, through peak_rss
  local n=$1 m rc=0 load ts commit
  load=$(load1)
  # wall, CPU time and peak RSS of the whole llama-bench process (model load included, as in
  # the scan's figures); tokens/s is llama-bench's own (prompt processing alone)
  # shellcheck disable=SC2086
  m=$("$build/peak_rss" "$LLAMA_BENCH" -m "$model/model.gguf" -p "$n" -n 0 -t $threads -r 1 \
    ${LLAMA_BENCH_ARGS:-} -o json 2>&1 >"$out/llama$n.json" | tail -n 1) || rc=$?
  case $m in "{\"seconds\""*) ;; *) m='{"seconds": null, "peak_rss_mib": null}';; esac
  read -r ts commit < <($py -c "
import json, sys
r = [x for x in json.load(open(sys.argv[1])) if x.get('n_prompt')]
print(r[0]['avg_ts'] if r else 'null', json.dumps(r[0].get('build_commit')) if r else 'null')" \
    "$out/llama$n.json" 2>/dev/null || echo null null)
  record "{\"bench\": \"llama_bench\", \"n\": $n, $pair_tags\"exit\": $rc, \"load\": $load, \"tokens_per_s\": $ts, \"build_commit\": $commit, ${m#\{}"
}
run_prefill_hidden() { measure prefill_hidden "$1" "$build/bench_prefill" "$model/hf" "$1" $threads 1 hidden; }
run_rank() {
  fresh "$out/rank"
  measure rank "$1" "$build/slashscope" rank "$model/hf" --ood 1 --len "$1" --seed 1 --heads all \
    --out "$out/rank" --quiet --threads $threads
}
run_freq() {
  fresh "$out/freq"
  measure freq "$1" "$build/slashscope" freq "$model/hf" --ood 1 --len "$1" --seed 1 --heads all \
    --out "$out/freq" --quiet --threads $threads
}
# bench_prefill's scan of the F32 model or of its BF16 twin, tagged with the dtype
run_twin_f32() { local pair_tags="$pair_tags\"dtype\": \"f32\", "; bench_prefill_run bf16_twin "$1" "$model/hf" scan 1; }
run_twin_bf16() { local pair_tags="$pair_tags\"dtype\": \"bf16\", "; bench_prefill_run bf16_twin "$1" "$bf16/hf" scan 1; }

# BENCH_REPEAT pairs of two runs back to back, the first of each pair alternating (A B, B A,
# A B, ...), so a drift of the machine's speed over minutes hits both sides alike.
pairs() { # figure n run_a run_b
  local k first second
  for ((k = 0; k < repeat; k++)); do
    if ((k % 2 == 0)); then first=$3 second=$4; else first=$4 second=$3; fi
    pair_tags="\"figure\": \"$1\", \"pair\": $k, \"order\": 0, "; $first "$2"
    pair_tags="\"figure\": \"$1\", \"pair\": $k, \"order\": 1, "; $second "$2"
  done
  pair_tags=
}

# the scaling table's scans up to 8192 tokens ($1 = short) or longer ($1 = long)
scaling_scans() {
  for n in $lens_scaling; do
    if [ "$1" = short ]; then ((n <= 8192)) || continue; else ((n > 8192)) || continue; fi
    fresh "$out/scan$n"
    measure scan "$n" "$build/slashscope" scan "$model/hf" --ids-file "$(ids_file "$n")" \
      --len "$n" --out "$out/scan$n" --quiet --threads $threads --allow-long
  done
}

blas=$("$build/slashscope" info "$model/hf" --json | $py -c "import json,sys; print(json.dumps(json.load(sys.stdin)['blas']))")
record "$(BLAS="$blas" QUICK="$quick" REPEAT="$repeat" LLAMA="${LLAMA_BENCH:-}" LENS_LLAMA="$lens_llama" \
  LENS_GFLOPS="$lens_gflops" LEN_EXPLAIN="$len_explain" LEN_BF16="$len_bf16" TORCH="${BENCH_TORCH:-1}" MODEL="$model" $py -c "
import json, os
env = os.environ
cpu = next((l.split(':', 1)[1].strip() for l in open('/proc/cpuinfo') if l.startswith('model name')), None)
ints = lambda v: [int(x) for x in v.split()]
print(json.dumps({'bench': 'machine', 'cpu': cpu, 'cores': os.cpu_count(),
    'load': ' '.join(open('/proc/loadavg').read().split()[:3]), 'blas': json.loads(env['BLAS']),
    'weights_mib': os.path.getsize(env['MODEL'] + '/hf/model.safetensors') // 1048576,
    'config': {'quick': env['QUICK'] == '1', 'repeat': int(env['REPEAT']),
               'llama_bench': env['LLAMA'] or None, 'lens_llama': ints(env['LENS_LLAMA']),
               'lens_gflops': ints(env['LENS_GFLOPS']), 'len_explain': int(env['LEN_EXPLAIN']),
               'len_bf16': int(env['LEN_BF16']),
               'torch': env['TORCH'] != '0', 'model': env['MODEL']}}))")"

echo "== scan: effective GFLOP/s against the same run's SGEMM (bench_prefill scan mode, $repeat runs)"
for n in $lens_gflops; do
  for ((k = 0; k < repeat; k++)); do
    pair_tags="\"figure\": \"gflops\", \"pair\": $k, \"order\": 0, "
    bench_prefill_run gflops "$n" "$model/hf" scan 1
  done
  pair_tags=
done
if [ -n "$lens_llama" ]; then
  echo "== scan vs llama.cpp ($LLAMA_BENCH), F32 prefill of the same weights, $repeat pairs each"
  for n in $lens_llama; do
    pairs scan_llama "$n" run_scan run_llama
  done
fi
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
fresh "$out/phases-scan"; fresh "$out/phases-freq"
phases scan "$len_bf16" "$build/slashscope" scan "$model/hf" --ids-file "$(ids_file "$len_bf16")" \
  --len "$len_bf16" --out "$out/phases-scan" --quiet --threads $threads
phases freq "$len_bf16" "$build/slashscope" freq "$model/hf" --ood 1 --len "$len_bf16" --seed 1 \
  --heads all --out "$out/phases-freq" --quiet --threads $threads

echo "== scaling: scan time and peak RSS, N <= 8192 (the longer ones come last)"
scaling_scans short

if [ "${BENCH_TORCH:-1}" != 0 ]; then
  if ! $py -c "import torch" 2>/dev/null && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "== installing python3-torch for the peer (bench only, not a project dependency)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3-torch >/dev/null
  fi
  if $py -c "import torch" 2>/dev/null; then
    gib=${BENCH_TORCH_GIB:-12}
    echo "== PyTorch peer: materialised attention, same slash scores (memory capped at $gib GiB)"
    for n in $lens_torch; do
      [ -d "$out/scan$n" ] || { fresh "$out/scan$n"; measure scan "$n" "$build/slashscope" scan "$model/hf" \
        --ids-file "$(ids_file "$n")" --len "$n" --out "$out/scan$n" --quiet --threads $threads; }
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

echo "== rank and freq, all heads, one prompt of $len_explain tokens, each paired with a plain prefill"
pairs rank_prefill "$len_explain" run_rank run_prefill_hidden
pairs freq_prefill "$len_explain" run_freq run_prefill_hidden

echo "== BF16 twin of the same weights ($bf16), $repeat pairs"
pairs bf16_twin "$len_bf16" run_twin_f32 run_twin_bf16

echo "== prefill (tokens/s, effective GFLOP/s, peak RSS; SGEMM on [N x 576] x [576 x 1536])"
for fmt in hf model.gguf; do
  for n in $lens_prefill; do
    bench_prefill_run prefill "$n" "$model/$fmt" prefill 2
  done
done

echo "== scaling, N > 8192 (--allow-long)"
scaling_scans long

echo "results: $results"
$py bench/report.py "$results"
