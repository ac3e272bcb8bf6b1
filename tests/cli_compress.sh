#!/usr/bin/env bash
# slashscope compress: the plan against an independent numpy script
# (tests/compress_ref.py): layer 0's energy shares from the llama2.c
# checkpoint's own bytes on a one-token-repeated prompt, the kept ranks
# (eq. 20) and the saved share by hand on real prompts; thre = 1 compresses
# nothing; bad flags fail with one line.
set -u
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
bin=${SS_BIN:?}; shared=${SS_SHARED:?}; tmp=${SS_TMP:-/tmp}/cli_compress
rm -rf "$tmp"; mkdir -p "$tmp"
passed=0; failed=0
. "$(dirname "$0")/lib_expect.sh"
py=/usr/bin/python3
ref=$(dirname "$0")/compress_ref.py
m=$shared/models/stories260K/stories260K.bin

rep=$(printf '42 %.0s' $(seq 1 32))
expect_ok "compress one repeated token" "$bin" compress "$m" --ids "$rep" --thre 0.5,0.9,1 --rank-thre 1,3 --out "$tmp/rep" --quiet
if $py "$ref" "$tmp/rep" "$m" 42 >"$tmp/err" 2>&1; then ok "layer-0 shares, ranks, saved share = numpy: $(cat "$tmp/err")"
else bad "compress vs numpy (repeated token)"; fi

expect_ok "compress text prompts" "$bin" compress "$m" --ids-file "$shared/prompts/stories260K-samples.ids" --len 48 --count 4 --thre 0.8,0.95,0.99,1 --rank-thre 2,4,8 --out "$tmp/txt" --quiet
if $py "$ref" "$tmp/txt" >"$tmp/err" 2>&1; then ok "ranks and saved share = numpy: $(cat "$tmp/err")"
else bad "compress vs numpy (text)"; fi
nothing=$(awk -F, 'NR>1 && $1==1 && ($5+$6>0 || $7!=0)' "$tmp/txt/summary.csv" | wc -l)
[ "$nothing" -eq 0 ] && ok "thre 1 compresses nothing" || bad "thre 1 compressed something"
some=$(awk -F, 'NR>1 && $1==0.8 && $7>0' "$tmp/txt/summary.csv" | wc -l)
[ "$some" -gt 0 ] && ok "thre 0.8 saves parameters" || bad "thre 0.8 saves nothing"

hf=$shared/models/llama2xs_tinystories/hf
expect_ok "compress an HF model" "$bin" compress "$hf" --ids-file "$shared/prompts/stories260K-samples.ids" --len 24 --count 2 --thre 0.9 --rank-thre 4,16 --out "$tmp/hf" --quiet
if $py "$ref" "$tmp/hf" >"$tmp/err" 2>&1; then ok "HF model ranks and saved share: $(cat "$tmp/err")"
else bad "compress vs numpy (HF)"; fi

expect_fail "compress without --thre" "--thre" "$bin" compress "$m" --ids "1 2 3" --rank-thre 2 --out "$tmp/x"
expect_fail "compress --thre above 1" "--thre '1.5'" "$bin" compress "$m" --ids "1 2 3" --thre 1.5 --rank-thre 2 --out "$tmp/x"
expect_fail "compress --rank-thre not whole" "--rank-thre '2.5'" "$bin" compress "$m" --ids "1 2 3" --thre 0.9 --rank-thre 2.5 --out "$tmp/x"

echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
