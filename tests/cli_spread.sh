#!/bin/bash
# The spread of the average slash score over prompts (SPEC.md section 2)
# against an independent computation: the per-prompt scores taken from the
# full attention maps of `slashscope attn`, one prompt and head at a time,
# averaged, their sample standard deviation (n - 1) and 95% Student-t
# interval computed in numpy; and a merge of two scans equals one scan.
set -u
BIN=${SS_BIN:?} SHARED=${SS_SHARED:?}
T=${SS_TMP:-/tmp}/cli_spread.$$
rm -rf "$T" && mkdir -p "$T"
fails=0
trap '[ "$fails" -eq 0 ] && rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }
PY=/usr/bin/python3
MODEL=$SHARED/models/stories260K/stories260K.bin
N=24

# three prompts of 24 ids (BOS first, then a fixed pseudo-random walk)
"$PY" - "$T/ids.txt" "$N" <<'PYEOF'
import sys
path, n = sys.argv[1], int(sys.argv[2])
with open(path, "w") as f:
    for p in range(3):
        ids = [1] + [(37 * i * i + 101 * p + 7 * i) % 500 + 3 for i in range(1, n)]
        f.write(" ".join(map(str, ids)) + "\n")
PYEOF
head -n 2 "$T/ids.txt" >"$T/ids12.txt"
tail -n 1 "$T/ids.txt" >"$T/ids3.txt"

"$BIN" scan "$MODEL" --ids-file "$T/ids.txt" --len $N --out "$T/scan" --quiet || fail "scan"
"$BIN" scan "$MODEL" --ids-file "$T/ids12.txt" --len $N --out "$T/a" --quiet || fail "scan a"
"$BIN" scan "$MODEL" --ids-file "$T/ids3.txt" --len $N --out "$T/b" --quiet || fail "scan b"
"$BIN" merge "$T/a" "$T/b" --out "$T/merged" >/dev/null || fail "merge"

# every head's map for every prompt
L=$("$PY" -c "import json; print(json.load(open('$T/scan/scan.json'))['model']['n_layer'])")
H=$("$PY" -c "import json; print(json.load(open('$T/scan/scan.json'))['model']['n_head'])")
p=0
while read -r ids; do
    for ((l = 0; l < L; l++)); do
        for ((h = 0; h < H; h++)); do
            "$BIN" attn "$MODEL" --ids "$ids" --layer $l --head $h --out "$T/p${p}_L${l}H${h}.npy" \
                --quiet || fail "attn L${l}H${h}"
        done
    done
    p=$((p + 1))
done <"$T/ids.txt"

"$PY" - "$T" "$L" "$H" "$N" <<'PYEOF' || fail "spread differs from the independent computation"
import csv, math, sys
import numpy as np
T, L, H, N = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
k, P = 4, 3
score = np.full((P, L, H, N), np.nan)
for p in range(P):
    for l in range(L):
        for h in range(H):
            S = np.load(f"{T}/p{p}_L{l}H{h}.npy").astype(np.float64)
            for d in range(N):
                rows = [S[i, i - d] for i in range(d + k, N)]
                if rows:
                    score[p, l, h, d] = np.mean(rows)
valid = ~np.isnan(score[0])
mean = score.mean(axis=0)
sd = score.std(axis=0, ddof=1)
t = (2 * 0.975 - 1) / math.sqrt(2 * 0.975 * 0.025)  # t_{0.975, 2}, closed form
half = t * sd / math.sqrt(P)
bad = 0
def close(a, b, tol=1e-9):
    return (np.isnan(a) and np.isnan(b)) or abs(a - b) <= tol
sumsq = np.load(f"{T}/scan/slash_sumsq.npy")
want_sq = np.where(valid, (score ** 2).sum(axis=0), 0)
err = np.abs(sumsq - want_sq).max()
print(f"slash_sumsq.npy: worst difference {err:.3g}")
bad += err > 1e-9
for folder in ("scan", "merged"):
    rows = list(csv.DictReader(open(f"{T}/{folder}/sdh.csv")))
    checked = 0
    for r in rows:
        l, h, d = int(r["layer"]), int(r["head"]), int(r["delta"])
        ok = (close(float(r["score"]), mean[l, h, d]) and close(float(r["std"]), sd[l, h, d]) and
              close(float(r["ci_low"]), mean[l, h, d] - half[l, h, d]) and
              close(float(r["ci_high"]), mean[l, h, d] + half[l, h, d]) and
              int(r["prompts"]) == P)
        if not ok:
            print(f"{folder}/sdh.csv: {r} against mean {mean[l, h, d]} sd {sd[l, h, d]} "
                  f"half {half[l, h, d]}")
            bad += 1
        checked += 1
    print(f"{folder}/sdh.csv: {checked} SDH rows checked")
    bad += checked == 0
merged = np.load(f"{T}/merged/slash_sumsq.npy")
err = np.abs(merged - sumsq).max()
print(f"merged slash_sumsq.npy against one scan: {err:.3g}")
bad += err > 1e-15
sys.exit(1 if bad else 0)
PYEOF

if [ "$fails" -eq 0 ]; then echo "spread: all checks passed"; fi
[ "$fails" -eq 0 ]
