#!/usr/bin/env bash
# --ablate HEADS[:zero|:mean] on logits, attn and ppl:
#  - :mean on heads whose output is the same at every position changes
#    nothing: bit for bit on a one-token prompt, and up to float rounding on
#    one repeated token (no BOS: every row's input is identical, and its
#    attention averages identical values, equal up to the softmax's rounding);
#  - ablating heads of layer l leaves the attention maps of layers <= l bit
#    for bit (the ablation acts after softmax, before W_O) and changes layer
#    l + 1's;
#  - ppl under an ablation equals numpy recomputing from the ablated logits;
#  - a bad spec fails with one line.
set -u
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
bin=${SS_BIN:?}; shared=${SS_SHARED:?}; tmp=${SS_TMP:-/tmp}/cli_ablate
rm -rf "$tmp"; mkdir -p "$tmp"
passed=0; failed=0
. "$(dirname "$0")/lib_expect.sh"
py=/usr/bin/python3
m=$shared/models/stories260K/stories260K.bin
all=$(for l in 0 1 2 3 4; do for h in 0 1 2 3 4 5 6 7; do printf 'L%dH%d,' $l $h; done; done); all=${all%,}
layer1=$(for h in 0 1 2 3 4 5 6 7; do printf 'L1H%d,' $h; done); layer1=${layer1%,}

rep=$(printf '42 %.0s' $(seq 1 24))
expect_ok "logits repeated" "$bin" logits "$m" --ids "$rep" --out "$tmp/rep0.npy" --quiet
expect_ok "logits repeated, every head :mean" "$bin" logits "$m" --ids "$rep" --ablate "$all:mean" --out "$tmp/rep1.npy" --quiet
if $py -c "import numpy as np,sys; a,b=np.load(sys.argv[1]),np.load(sys.argv[2]); sys.exit(not np.allclose(a,b,rtol=1e-5,atol=1e-5))" "$tmp/rep0.npy" "$tmp/rep1.npy"
then ok ":mean of constant head outputs changes nothing (within 1e-5)"; else bad ":mean changed constant outputs"; fi
expect_ok "logits one token" "$bin" logits "$m" --ids 42 --out "$tmp/t0.npy" --quiet
expect_ok "logits one token, every head :mean" "$bin" logits "$m" --ids 42 --ablate "$all:mean" --out "$tmp/t1.npy" --quiet
cmp -s "$tmp/t0.npy" "$tmp/t1.npy" && ok ":mean on one position: bit for bit" || bad ":mean on one position changed logits"
expect_ok "logits one token, every head :zero" "$bin" logits "$m" --ids 42 --ablate "$all" --out "$tmp/t2.npy" --quiet
cmp -s "$tmp/t0.npy" "$tmp/t2.npy" && bad ":zero changed nothing" || ok ":zero changes the logits"

ids=$(head -1 "$shared/prompts/stories260K-samples.ids" | cut -d' ' -f1-32)
for l in 1 2; do
  expect_ok "attn L$l" "$bin" attn "$m" --ids "$ids" --layer $l --head 3 --out "$tmp/a$l.npy" --quiet
  expect_ok "attn L$l, layer 1 ablated" "$bin" attn "$m" --ids "$ids" --layer $l --head 3 --ablate "$layer1" --out "$tmp/b$l.npy" --quiet
done
cmp -s "$tmp/a1.npy" "$tmp/b1.npy" && ok "layer-1 map unchanged by its own ablation" || bad "layer-1 map changed"
cmp -s "$tmp/a2.npy" "$tmp/b2.npy" && bad "layer-2 map unchanged by layer 1's ablation" || ok "layer-2 map changes after layer 1's ablation"

echo "$ids" >"$tmp/one.ids"
expect_ok "logits L1H3 ablated" "$bin" logits "$m" --ids-file "$tmp/one.ids" --ablate L1H3:mean --out "$tmp/abl.npy" --quiet
expect_ok "ppl L1H3 ablated" "$bin" ppl "$m" --ids-file "$tmp/one.ids" --len 32 --ablate L1H3:mean --out "$tmp/ppl" --quiet
if $py "$(dirname "$0")/ppl_ref.py" "$tmp/ppl" "$tmp/one.ids" 32 "$tmp/abl.npy" >"$tmp/err" 2>&1; then
  ok "ablated ppl = numpy from ablated logits: $(cat "$tmp/err")"; else bad "ablated ppl vs numpy"; fi
# the result records what the run changed (and a run without interventions says nothing)
expect_ok "rank L1H3 ablated" "$bin" rank "$m" --ids-file "$tmp/one.ids" --len 32 --ablate L1H3:mean --heads L1H3 --out "$tmp/rank" --quiet
expect_ok "ppl plain" "$bin" ppl "$m" --ids-file "$tmp/one.ids" --len 32 --out "$tmp/ppl0" --quiet
if $py - "$tmp/ppl/ppl.json" "$tmp/rank/rank.json" "$tmp/ppl0/ppl.json" >"$tmp/err" 2>&1 <<'PYEOF'
import json, sys
for f in sys.argv[1:3]:
    iv = json.load(open(f)).get("interventions")
    assert iv and "L1H3" in json.dumps(iv), (f, iv)
assert "interventions" not in json.load(open(sys.argv[3])), sys.argv[3]
PYEOF
then ok "ppl.json and rank.json record --ablate; a plain run records none"; else bad "interventions record: $(cat "$tmp/err")"; fi
expect_fail "ablate bad mode" "zero or mean" "$bin" logits "$m" --ids "1 2" --ablate L1H3:half --out "$tmp/x.npy"
expect_fail "ablate no such head" "no head L9H0" "$bin" logits "$m" --ids "1 2" --ablate L9H0 --out "$tmp/x.npy"
expect_fail "ablate not a head" "expected heads" "$bin" logits "$m" --ids "1 2" --ablate foo --out "$tmp/x.npy"

echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
