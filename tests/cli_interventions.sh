#!/usr/bin/env bash
# Interventions against independent forwards (issue 14):
#  - ablating every head of a layer = that layer's attention block removed:
#    the same model with the layer's W_O zeroed in a copy of its safetensors
#    (tests/st_tool.py, numpy), logits and scan results bit for bit;
#  - --ablate :mean on heads whose output is constant changes nothing: in a
#    copy of the Qwen2 fixture, layer 1's first key/value head gets W_V = 0
#    and b_V = 0.5, so every value it serves is the same vector and the two
#    query heads reading it output that vector at every position (softmax
#    weights sum to 1, up to rounding); their :zero ablation does change it;
#  - --head-rope-remove H:l for one head = the model-wide --rope-remove l
#    restricted to that head (layer 0, whose input no other head changes),
#    the GQA sibling sharing its keys bit for bit unchanged; on every head of
#    every layer = model-wide, logits bit for bit; composable with --ablate;
#  - scan takes the interventions and records them in scan.json.
set -u
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
bin=${SS_BIN:?}; shared=${SS_SHARED:?}; tmp=${SS_TMP:-/tmp}/cli_interventions
rm -rf "$tmp"; mkdir -p "$tmp"
passed=0; failed=0
. "$(dirname "$0")/lib_expect.sh"
py=/usr/bin/python3
st="$py $(dirname "$0")/st_tool.py"
hf=$shared/models/stories260K/hf
m=$shared/models/stories260K/stories260K.bin
samples=$shared/prompts/stories260K-samples.ids
ids=$(head -1 "$samples" | cut -d' ' -f1-32)
layer1=$(for h in 0 1 2 3 4 5 6 7; do printf 'L1H%d,' $h; done); layer1=${layer1%,}
same() { cmp -s "$2" "$3" && ok "$1" || bad "$1"; }
differ() { cmp -s "$2" "$3" && bad "$1" || ok "$1"; }
close() { # NAME A.npy B.npy TOL
  if $py -c "import numpy as np,sys; a,b=np.load(sys.argv[1]),np.load(sys.argv[2]); d=float(np.abs(a.astype(float)-b).max()); print(d); sys.exit(not d<=float(sys.argv[3]))" "$2" "$3" "$4" >"$tmp/err" 2>&1
  then ok "$1 (max diff $(cat "$tmp/err"))"; else bad "$1"; fi
}

# 1. every head of layer 1 ablated = layer 1's W_O zeroed
$st copy "$hf" "$tmp/wo1" zero:model.layers.1.self_attn.o_proj.weight
expect_ok "logits, layer 1 ablated" "$bin" logits "$hf" --ids "$ids" --ablate "$layer1" --out "$tmp/abl.npy" --quiet
expect_ok "logits, W_O of layer 1 zeroed" "$bin" logits "$tmp/wo1" --ids "$ids" --out "$tmp/wo.npy" --quiet
expect_ok "logits, plain" "$bin" logits "$hf" --ids "$ids" --out "$tmp/plain.npy" --quiet
same "ablating all of layer 1 = its attention block removed (bit for bit)" "$tmp/abl.npy" "$tmp/wo.npy"
differ "... and that is not the plain forward" "$tmp/abl.npy" "$tmp/plain.npy"
expect_ok "scan --ablate layer 1" "$bin" scan "$hf" --ids-file "$samples" --len 32 --count 3 --ablate "$layer1" --out "$tmp/sa" --quiet
expect_ok "scan, W_O zeroed" "$bin" scan "$tmp/wo1" --ids-file "$samples" --len 32 --count 3 --out "$tmp/sb" --quiet
expect_ok "scan, plain" "$bin" scan "$hf" --ids-file "$samples" --len 32 --count 3 --out "$tmp/sc" --quiet
same "scan --ablate = scan of the W_O-zeroed model (slash.npy)" "$tmp/sa/slash.npy" "$tmp/sb/slash.npy"
same "scan --ablate = scan of the W_O-zeroed model (slash_sumsq.npy)" "$tmp/sa/slash_sumsq.npy" "$tmp/sb/slash_sumsq.npy"
differ "scan --ablate changes the scores" "$tmp/sa/slash.npy" "$tmp/sc/slash.npy"
if $py -c "import json,sys; j=json.load(open(sys.argv[1])); s=json.dumps(j); sys.exit(not ('\"interventions\"' in s and sys.argv[2] in s))" "$tmp/sa/scan.json" "$layer1" \
   && ! grep -q interventions "$tmp/sc/scan.json"; then ok "scan.json records the ablation (only when given)"; else bad "scan.json interventions record"; fi
expect_fail "merge refuses scans under different interventions" "different interventions" "$bin" merge "$tmp/sa" "$tmp/sc" --out "$tmp/sm"

# 2. :mean on heads with a constant output (Qwen2 copy: W_V = 0, b_V = 0.5 for KV head 0 of layer 1)
q=$shared/fixtures/qwen2/hf
$st copy "$q" "$tmp/qc" rows:model.layers.1.self_attn.v_proj.weight:0:32:0 rows:model.layers.1.self_attn.v_proj.bias:0:32:0.5
qids="5 9 33 7 100 3 8 200 17 4 61 2"
expect_ok "qwen2 copy, plain" "$bin" logits "$tmp/qc" --ids "$qids" --out "$tmp/q0.npy" --quiet
expect_ok "qwen2 copy, :mean on L1H0,L1H1" "$bin" logits "$tmp/qc" --ids "$qids" --ablate L1H0,L1H1:mean --out "$tmp/q1.npy" --quiet
expect_ok "qwen2 copy, :zero on L1H0,L1H1" "$bin" logits "$tmp/qc" --ids "$qids" --ablate L1H0,L1H1 --out "$tmp/q2.npy" --quiet
close ":mean of a constant head output changes nothing (to 1e-5)" "$tmp/q0.npy" "$tmp/q1.npy" 1e-5
if $py -c "import numpy as np,sys; sys.exit(not np.abs(np.load(sys.argv[1])-np.load(sys.argv[2])).max() > 0.1)" "$tmp/q0.npy" "$tmp/q2.npy"
then ok ":zero on the same heads changes the logits by > 0.1"; else bad ":zero of the constant heads changed nothing"; fi

# 3. --head-rope-remove
expect_ok "attn L0H3, model-wide 1-3 removed" "$bin" attn "$m" --ids "$ids" --layer 0 --head 3 --rope-remove 1,2,3 --out "$tmp/w3.npy" --quiet
expect_ok "attn L0H3, L0H3:1-3 removed" "$bin" attn "$m" --ids "$ids" --layer 0 --head 3 --head-rope-remove L0H3:1-3 --out "$tmp/h3.npy" --quiet
expect_ok "attn L0H3 plain" "$bin" attn "$m" --ids "$ids" --layer 0 --head 3 --out "$tmp/p3.npy" --quiet
same "per-head removal = model-wide removal on that head (bit for bit)" "$tmp/w3.npy" "$tmp/h3.npy"
differ "... and it changes the head's map" "$tmp/h3.npy" "$tmp/p3.npy"
for h in 2 5; do # 2 shares L0H3's key head (GQA 8/4)
  expect_ok "attn L0H$h, L0H3 removed" "$bin" attn "$m" --ids "$ids" --layer 0 --head $h --head-rope-remove L0H3:1-3 --out "$tmp/o$h.npy" --quiet
  expect_ok "attn L0H$h plain" "$bin" attn "$m" --ids "$ids" --layer 0 --head $h --out "$tmp/q$h.npy" --quiet
  same "other head L0H$h unchanged bit for bit" "$tmp/o$h.npy" "$tmp/q$h.npy"
done
for f in gemma3 gptneox llama_yarn; do # a local RoPE layer, partial rotary, yarn's attention factor
  expect_ok "$f attn L0H1, model-wide 1,2 removed" "$bin" attn "$shared/fixtures/$f/hf" --ids "5 9 33 7 100 3 8 200" --layer 0 --head 1 --rope-remove 1,2 --out "$tmp/fw.npy" --quiet
  expect_ok "$f attn L0H1, L0H1:1,2 removed" "$bin" attn "$shared/fixtures/$f/hf" --ids "5 9 33 7 100 3 8 200" --layer 0 --head 1 --head-rope-remove L0H1:1,2 --out "$tmp/fh.npy" --quiet
  same "$f: per-head removal = model-wide on that head" "$tmp/fw.npy" "$tmp/fh.npy"
done
every=(); for l in 0 1 2 3 4; do for h in 0 1 2 3 4 5 6 7; do every+=(--head-rope-remove "L${l}H$h:1,2,3"); done; done
expect_ok "logits, every head 1-3 removed" "$bin" logits "$m" --ids "$ids" "${every[@]}" --out "$tmp/le.npy" --quiet
expect_ok "logits, model-wide 1-3 removed" "$bin" logits "$m" --ids "$ids" --rope-remove 1-3 --out "$tmp/lw.npy" --quiet
same "removal on every head = model-wide removal (logits bit for bit)" "$tmp/le.npy" "$tmp/lw.npy"
expect_ok "logits, L1H3 ablated" "$bin" logits "$m" --ids "$ids" --ablate L1H3 --out "$tmp/a.npy" --quiet
expect_ok "logits, L1H3 ablated and its RoPE cut" "$bin" logits "$m" --ids "$ids" --ablate L1H3 --head-rope-remove L1H3:1-4 --out "$tmp/ar.npy" --quiet
same "composable: an ablated head's RoPE no longer matters" "$tmp/a.npy" "$tmp/ar.npy"
expect_ok "logits, L1H3 ablated, L1H2's RoPE cut" "$bin" logits "$m" --ids "$ids" --ablate L1H3 --head-rope-remove L1H2:1-4 --out "$tmp/ar2.npy" --quiet
differ "composable: both act" "$tmp/a.npy" "$tmp/ar2.npy"
expect_ok "scan with a per-head removal" "$bin" scan "$m" --ids-file "$samples" --len 32 --count 2 --head-rope-remove L1H3:1-4 --out "$tmp/sr" --quiet
grep -q 'L1H3:1-4' "$tmp/sr/scan.json" && ok "scan.json records the per-head removal" || bad "scan.json lacks head_rope_remove"
expect_fail "head-rope-remove bad spec" "expected a head" "$bin" logits "$m" --ids "1 2" --head-rope-remove L1H3 --out "$tmp/x.npy"
expect_fail "head-rope-remove no such head" "no head L9H0" "$bin" logits "$m" --ids "1 2" --head-rope-remove L9H0:1 --out "$tmp/x.npy"
expect_fail "head-rope-remove frequency out of range" "outside 1..4" "$bin" logits "$m" --ids "1 2" --head-rope-remove L1H0:9 --out "$tmp/x.npy"

echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
