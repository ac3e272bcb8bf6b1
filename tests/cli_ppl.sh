#!/usr/bin/env bash
# slashscope ppl: its loss, per-prompt NLL and per-position loss equal those
# an independent numpy script (tests/ppl_ref.py) recomputes from the logits
# `slashscope logits` writes for the same ids; bad input fails with one line.
set -u
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
bin=${SS_BIN:?}; shared=${SS_SHARED:?}; tmp=${SS_TMP:-/tmp}/cli_ppl
rm -rf "$tmp"; mkdir -p "$tmp"
passed=0; failed=0
. "$(dirname "$0")/lib_expect.sh"
py=/usr/bin/python3
here=$(dirname "$0")

check_model() { # NAME MODEL LEN: three prompts of the shared ids file
  local name=$1 m=$2 n=$3 logits=()
  head -3 "$shared/prompts/stories260K-samples.ids" >"$tmp/$name.ids"
  for i in 1 2 3; do
    sed -n "${i}p" "$tmp/$name.ids" | cut -d' ' -f1-"$n" >"$tmp/$name.$i.ids"
    expect_ok "$name logits $i" "$bin" logits "$m" --ids-file "$tmp/$name.$i.ids" --out "$tmp/$name.$i.npy" --quiet
    logits+=("$tmp/$name.$i.npy")
  done
  expect_ok "$name ppl" "$bin" ppl "$m" --ids-file "$tmp/$name.ids" --len "$n" --out "$tmp/$name.ppl" --quiet
  if $py "$here/ppl_ref.py" "$tmp/$name.ppl" "$tmp/$name.ids" "$n" "${logits[@]}" >"$tmp/err" 2>&1; then
    ok "$name ppl = numpy from logits: $(cat "$tmp/err")"
  else bad "$name ppl vs numpy"; fi
}
check_model stories260K "$shared/models/stories260K/stories260K.bin" 40
check_model llama2xs "$shared/models/llama2xs_tinystories/hf" 24

# one sequence (--ids, no --len) is one prompt; a 1-token prompt scores nothing
m=$shared/models/stories260K/stories260K.bin
expect_ok "ppl --ids" "$bin" ppl "$m" --ids "1 405 401 396" --out "$tmp/one" --quiet
$py -c "import json,sys; j=json.load(open(sys.argv[1])); sys.exit(j['tokens_scored'] != 3)" "$tmp/one/ppl.json" \
  && ok "--ids scores 3 of 4 tokens" || bad "--ids tokens_scored"
expect_fail "ppl without prompts" "give the prompts" "$bin" ppl "$m" --out "$tmp/x"
expect_fail "ppl without --out" "--out" "$bin" ppl "$m" --ids "1 2"
expect_fail "ppl id beyond the vocabulary" "vocab|512" "$bin" ppl "$m" --ids "1 99999" --out "$tmp/x"

echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
