#!/bin/bash
# `slashscope sparsity` end to end: every chosen pattern, the whole (v, s)
# grid and the column mass recomputed by an independent NumPy script
# (tests/sparsity_check.py) from the `attn` maps of the same ids; the
# identities (every diagonal kept -> 1, nothing kept -> 0); the exported
# MInference config's shape; SDH marks; bad input.
set -u
BIN=${SS_BIN:?} SHARED=${SS_SHARED:?}
HERE=$(cd "$(dirname "$0")" && pwd)
T=${SS_TMP:-/tmp}/cli_sparsity.$$
rm -rf "$T" && mkdir -p "$T/attn"
fails=0
trap '[ "$fails" -eq 0 ] && rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }

MODEL=$SHARED/models/stories260K/hf # 5 layers x 8 heads, grouped-query (8/4)
L=5 H=8 N=48 P=2
head -n $P "$SHARED/prompts/stories260K-samples.ids" |
    awk -v n=$N '{ s = $1; for (k = 2; k <= n; k++) s = s " " $k; print s }' >"$T/ids.txt"

"$BIN" sparsity "$MODEL" --ids-file "$T/ids.txt" --len $N --out "$T/out" --threads 2 --quiet \
    >"$T/stdout" || fail "sparsity run"
grep -q "measured $P prompts of $N tokens" "$T/stdout" || fail "summary line: $(cat "$T/stdout")"
for f in sparsity.csv sparsity_summary.csv sparsity.json minference.json coverage_grid.npy \
    kept_grid.npy coverage_sum.npy kept_sum.npy colmass.npy colmass_sum.npy colmass_count.npy coverage.png sparsity.png; do
    [ -s "$T/out/$f" ] || fail "no $f"
done
for f in coverage.png sparsity.png; do
    [ "$(head -c 8 "$T/out/$f" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] ||
        fail "$f is not a PNG"
done

# the same ids, one head at a time, through `attn`
for ((p = 0; p < P; p++)); do
    sed -n "$((p + 1))p" "$T/ids.txt" >"$T/p$p.txt"
    for ((l = 0; l < L; l++)); do
        for ((h = 0; h < H; h++)); do
            "$BIN" attn "$MODEL" --ids-file "$T/p$p.txt" --layer $l --head $h --threads 2 --quiet \
                --out "$T/attn/p${p}_L${l}H${h}.npy" || fail "attn p$p L${l}H$h"
        done
    done
done
/usr/bin/python3 "$HERE/sparsity_check.py" "$T/out" "$T/attn" $P $L $H || fail "NumPy check"

# identities: every diagonal kept covers everything, nothing kept nothing
"$BIN" sparsity "$MODEL" --ids-file "$T/ids.txt" --len $N --budget 3,$N --out "$T/all" --quiet \
    >/dev/null || fail "--budget 3,$N"
"$BIN" sparsity "$MODEL" --ids-file "$T/ids.txt" --len $N --budget 0,0 --out "$T/none" --quiet \
    >/dev/null || fail "--budget 0,0"
/usr/bin/python3 - "$T" $N <<'PY' || fail "identities"
import csv, sys
t, n = sys.argv[1], int(sys.argv[2])
for r in csv.DictReader(open(f"{t}/all/sparsity.csv")):
    # rows of float32 softmax sum to 1 within a few 1e-7
    assert abs(float(r["coverage"]) - 1) <= 1e-6 and float(r["sparsity"]) == 1, r
    assert (int(r["v"]), int(r["s"])) == (3, n), r
for r in csv.DictReader(open(f"{t}/none/sparsity.csv")):
    assert float(r["coverage"]) == 0 and float(r["sparsity"]) == 0, r
    assert r["reached"] == "0", r
PY

# --sdh marks exactly the scan's small-offset SDHs
"$BIN" scan "$MODEL" --ids-file "$T/ids.txt" --len $N --out "$T/scan" --threads 2 --quiet \
    >/dev/null || fail "scan"
"$BIN" sparsity "$MODEL" --ids-file "$T/ids.txt" --len $N --sdh "$T/scan" --out "$T/marked" \
    --quiet >/dev/null || fail "sparsity --sdh"
want=$(awk -F, 'NR > 1 && $1 == "small" { print $4 "," $5 }' "$T/scan/sdh.csv" | sort -u)
got=$(awk -F, 'NR > 1 && $5 == 1 { print $1 "," $2 }' "$T/marked/sparsity.csv" | sort -u)
[ -n "$want" ] || fail "the scan found no SDH to mark"
[ "$want" = "$got" ] || fail "marked heads: want [$want], got [$got]"
cmp -s "$T/out/minference.json" "$T/marked/minference.json" ||
    fail "marking SDHs changed the patterns"

# bad input: one clear line on stderr and exit 1 or 2 (tests/lib_expect.sh)
. "$HERE/lib_expect.sh"
tmp=$T/expect passed=0 failed=0
mkdir -p "$tmp"
S=("$BIN" sparsity "$MODEL" --ids-file "$T/ids.txt" --len $N --quiet)
expect_fail "budget of one size" "expected V,S" "${S[@]}" --budget 4 --out "$T/x"
expect_fail "budget beyond N" "outside \[0, $N\]" "${S[@]}" --budget 0,$((N + 1)) --out "$T/x"
expect_fail "grid not ascending" "ascending" "${S[@]}" --v-grid 4,2 --out "$T/x"
expect_fail "grid ending in a comma" "separated by commas" "${S[@]}" --s-grid 0,1, --out "$T/x"
expect_fail "budget and grid" "does not combine" "${S[@]}" --budget 1,1 --s-grid 1,2 --out "$T/x"
expect_fail "target above 1" "--target" "${S[@]}" --target 1.5 --out "$T/x"
expect_fail "regime without sdh" "give --sdh" "${S[@]}" --regime large --out "$T/x"
expect_fail "sdh folder missing" "sdh.csv" "${S[@]}" --sdh "$T/nowhere" --out "$T/x"
expect_fail "no --out" "--out" "${S[@]}"
expect_fail "--out is a file" "not a folder" "${S[@]}" --out "$T/ids.txt"
[ "$failed" -eq 0 ] || fail "$failed bad-input cases"
[ -e "$T/x" ] && fail "a failed run left an output folder"

[ "$fails" -eq 0 ] && echo "cli_sparsity: all checks passed"
exit $((fails > 0))
