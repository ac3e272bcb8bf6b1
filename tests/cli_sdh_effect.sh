#!/usr/bin/env bash
# sdh-effect (issue 14): every loss change re-derived by `ppl` (its ablations
# checked against numpy in cli_ablate.sh, against a model with W_O zeroed in
# cli_interventions.sh) under the matching flag: --ablate H (zero),
# --ablate H:mean, --head-rope-remove H:<high band>; controls are non-SDH
# heads of the SDHs' layers, distinct, seeded (same seed, same heads); the
# slash scores are the scan's; rows ranked by the zero-ablation change; the
# scatter plot has one dot per row.
set -u
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
bin=${SS_BIN:?}; shared=${SS_SHARED:?}; tmp=${SS_TMP:-/tmp}/cli_sdh_effect
rm -rf "$tmp"; mkdir -p "$tmp"
passed=0; failed=0
. "$(dirname "$0")/lib_expect.sh"
py=/usr/bin/python3
m=$shared/models/stories260K/stories260K.bin
samples=$shared/prompts/stories260K-samples.ids
src=(--ids-file "$samples" --len 32 --count 4)
expect_ok "scan" "$bin" scan "$m" "${src[@]}" --out "$tmp/scan" --quiet
expect_ok "sdh-effect" "$bin" sdh-effect "$m" --sdh "$tmp/scan" "${src[@]}" --kappa 0.5 --top 2 --out "$tmp/e1" --quiet
expect_ok "sdh-effect, same seed" "$bin" sdh-effect "$m" --sdh "$tmp/scan" "${src[@]}" --kappa 0.5 --top 2 --out "$tmp/e2" --quiet
cmp -s "$tmp/e1/effect.csv" "$tmp/e2/effect.csv" && ok "same seed, same table" || bad "same seed, other table"
# --quiet silences progress only: the ranked summary still reaches stdout, one line per row
"$bin" sdh-effect "$m" --sdh "$tmp/scan" "${src[@]}" --kappa 0.5 --top 2 --out "$tmp/e4" --quiet >"$tmp/e4.out" 2>/dev/null
rows=$(($(wc -l <"$tmp/e4/effect.csv") - 1))
if grep -q "^base loss" "$tmp/e4.out" && [ "$(grep -c "score" "$tmp/e4.out")" -eq "$rows" ] && [ "$rows" -gt 0 ]; then
  ok "the summary on stdout under --quiet ($rows rows)"; else bad "sdh-effect --quiet summary: $(head -3 "$tmp/e4.out")"; fi
expect_ok "ppl plain" "$bin" ppl "$m" "${src[@]}" --out "$tmp/p0" --quiet
# every row's three changes from ppl
while IFS=, read -r rank head kind delta score lz lm lh cz cm ch; do
  [ "$rank" = rank ] && continue
  expect_ok "ppl --ablate $head" "$bin" ppl "$m" "${src[@]}" --ablate "$head" --out "$tmp/pz_$head" --quiet
  expect_ok "ppl --ablate $head:mean" "$bin" ppl "$m" "${src[@]}" --ablate "$head:mean" --out "$tmp/pm_$head" --quiet
  expect_ok "ppl --head-rope-remove $head:1" "$bin" ppl "$m" "${src[@]}" --head-rope-remove "$head:1" --out "$tmp/ph_$head" --quiet
  if $py - "$tmp" "$head" "$cz" "$cm" "$ch" >"$tmp/err" 2>&1 <<'PY'
import json, sys
t, h = sys.argv[1], sys.argv[2]
base = json.load(open(f"{t}/p0/ppl.json"))["loss"]
for pre, got in zip(("pz", "pm", "ph"), sys.argv[3:6]):
    want = json.load(open(f"{t}/{pre}_{h}/ppl.json"))["loss"] - base
    assert abs(float(got) - want) < 1e-12, (pre, got, want)
PY
  then ok "$kind $head: zero/mean/high-band changes = ppl's"; else bad "$kind $head vs ppl"; fi
done <"$tmp/e1/effect.csv"
if $py - "$tmp" "$samples" >"$tmp/err" 2>&1 <<'PY'
import csv, hashlib, json, sys
import numpy as np
t = sys.argv[1]
rows = list(csv.DictReader(open(t + "/e1/effect.csv")))
sdh = [r for r in csv.DictReader(open(t + "/scan/sdh.csv")) if r["regime"] == "small"]
best = {}
for r in sdh:
    k = r["name"]
    if float(r["score"]) >= 0.5 and (k not in best or float(r["score"]) > float(best[k]["score"])):
        best[k] = r
strongest = sorted(best.values(), key=lambda r: -float(r["score"]))[:2]
mine = [r for r in rows if r["kind"] == "sdh"]
assert sorted(r["head"] for r in mine) == sorted(r["name"] for r in strongest), (mine, strongest)
for r in mine:
    assert float(r["slash_score"]) == float(best[r["head"]]["score"]), r
slash = np.load(t + "/scan/slash.npy")
ctrl = [r for r in rows if r["kind"] == "control"]
layers = sorted(int(r["head"][1:].split("H")[0]) for r in mine)
assert 0 < len(ctrl) <= len(mine)
assert len(set(r["head"] for r in ctrl)) == len(ctrl)
for r in ctrl:
    l, h = map(int, r["head"][1:].split("H"))
    assert r["head"] not in best and l in layers, r
    assert abs(float(r["slash_score"]) - slash[l, h, int(r["delta"])]) < 1e-12, r
cz = [float(r["change_zero"]) for r in rows]
assert cz == sorted(cz, reverse=True), cz
j = json.load(open(t + "/e1/sdh_effect.json"))
assert j["control_seed"] == 0 and j["high_band_removed"] == [1] and len(j["heads"]) == len(rows)
# provenance as every result has it: the weights' fingerprint the scan of the same model wrote
assert j["provenance"]["weights"] == json.load(open(t + "/scan/scan.json"))["model"]["weights"]
assert j["provenance"]["environment"]["blas"]["core"]
# the prompts recorded with their SHA-256: hashlib's of the ids file
assert j["prompts"]["sha256"] == hashlib.sha256(open(sys.argv[2], "rb").read()).hexdigest(), j["prompts"]
svg = open(t + "/e1/scatter.svg").read()
assert svg.count("<circle") == len(rows) and "slash score" in svg
print(f"{len(mine)} SDHs, {len(ctrl)} controls")
PY
then ok "SDHs, controls, scores, ranking, plot: $(cat "$tmp/err")"; else bad "table checks"; fi
expect_ok "sdh-effect, another seed" "$bin" sdh-effect "$m" --sdh "$tmp/scan" "${src[@]}" --kappa 0.5 --top 2 --control-seed 7 --out "$tmp/e3" --quiet
grep -q '"control_seed":	7' "$tmp/e3/sdh_effect.json" && ok "the seed is recorded" || bad "seed not recorded"
# the prompts are read and tokenized once for the 1 + 3n passes: text from a
# pipe (readable once; the old code reopened it for every pass) gives the
# file's numbers
tok=$shared/models/stories260K/tok512.bin
$py -c "import json,sys; [print(json.loads(l)['text'].replace('\n', ' ')) for l in open(sys.argv[1])]" \
  "$shared/prompts/stories260K-samples.jsonl" | head -4 >"$tmp/p.txt"
txt=(--tokenizer "$tok" --len 32 --kappa 0.5 --top 1 --quiet)
expect_ok "sdh-effect, text prompts" "$bin" sdh-effect "$m" --sdh "$tmp/scan" --prompts "$tmp/p.txt" "${txt[@]}" --out "$tmp/t1"
expect_ok "sdh-effect, text prompts from a pipe" "$bin" sdh-effect "$m" --sdh "$tmp/scan" --prompts <(cat "$tmp/p.txt") "${txt[@]}" --out "$tmp/t2"
cmp -s "$tmp/t1/effect.csv" "$tmp/t2/effect.csv" && ok "from a pipe = from the file" || bad "sdh-effect from a pipe differs"
expect_fail "sdh-effect without --sdh" "--sdh" "$bin" sdh-effect "$m" "${src[@]}" --out "$tmp/x"
expect_fail "sdh-effect with another model's scan" "another model" "$bin" sdh-effect "$shared/models/aidreams260K/aidreams260K.bin" --sdh "$tmp/scan" --ood 2 --len 16 --out "$tmp/x"
expect_fail "sdh-effect over a finished result" "--force" "$bin" sdh-effect "$m" --sdh "$tmp/scan" "${src[@]}" --kappa 0.5 --top 1 --out "$tmp/e1"

echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
