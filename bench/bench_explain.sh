#!/usr/bin/env bash
# rank and freq against a plain prefill, all heads, one prompt of N tokens
# (the issue's target: each within 3x the prefill). Usage:
#   bench/bench_explain.sh BUILD_DIR MODEL [N] [threads]
# MODEL: e.g. the SmolLM2-shaped model from `gen_model OUT_DIR` (OUT_DIR/hf).
# The ids are bench_prefill's: (i * 7919 + 13) mod vocab.
set -eu
build=$1; model=$2; n=${3:-4096}; threads=${4:-2}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
vocab=$("$build/slashscope" info "$model" --json | sed -n 's/.*"vocab"[^0-9]*\([0-9]*\).*/\1/p' | head -1)
awk -v n="$n" -v v="$vocab" 'BEGIN{for(i=0;i<n;i++) printf "%s%d", (i?" ":""), (i*7919+13)%v; print ""}' >"$tmp/ids"
now() { date +%s.%N; }
t0=$(now); "$build/bench_prefill" "$model" "$n" "$threads" 1 prefill >"$tmp/prefill.json"; t1=$(now)
prefill=$(sed -n 's/.*"seconds": \([0-9.e+-]*\).*/\1/p' "$tmp/prefill.json")
[ -n "$prefill" ] || prefill=$(echo "$t1 - $t0" | bc)
t0=$(now); "$build/slashscope" rank "$model" --ids-file "$tmp/ids" --out "$tmp/rank" --threads "$threads" --quiet; t1=$(now)
rank=$(echo "$t1 - $t0" | bc)
t0=$(now); "$build/slashscope" freq "$model" --ids-file "$tmp/ids" --out "$tmp/freq" --threads "$threads" --quiet; t1=$(now)
freq=$(echo "$t1 - $t0" | bc)
echo "{\"n\": $n, \"threads\": $threads, \"prefill_s\": $prefill, \"rank_s\": $rank, \"freq_s\": $freq," \
     "\"rank_over_prefill\": $(echo "scale=2; $rank / $prefill" | bc), \"freq_over_prefill\": $(echo "scale=2; $freq / $prefill" | bc)}"
