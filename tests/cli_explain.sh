#!/usr/bin/env bash
# rank, cone and freq end to end on small models, against closed forms and
# identities (not against their own earlier output):
#  - a sequence of one repeated token makes every Q, K and H exactly rank one
#    (identical inputs give identical rows in every layer): r_1 = 1, R = 1;
#  - removing every frequency (freq --remove 1-F) re-scores layer 0 exactly as
#    a NoPE pass (freq --p-rope 0) scores it;
#  - the scores freq reports for a scan's SDHs are the scan's own scores;
#  - cone gives one row per layer-0 head and alignment ratios within [-1, 1];
#  - bad input: one line on stderr naming the problem, exit 1 or 2.
set -u
# spinning OpenMP workers starve each other on a shared machine (5x slower here)
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
bin=${SS_BIN:?}; shared=${SS_SHARED:?}; tmp=${SS_TMP:-/tmp}/cli_explain
rm -rf "$tmp"; mkdir -p "$tmp"
passed=0; failed=0
ok() { echo "ok   $1"; passed=$((passed+1)); }
bad() { echo "FAIL $1"; failed=$((failed+1)); }
run() { # run NAME CMD...: must succeed
  local name=$1; shift
  if "$@" >"$tmp/out" 2>"$tmp/err"; then ok "$name"; else bad "$name: exit $?"; cat "$tmp/err"; fi
}
expect_fail() { # NAME PATTERN CMD...
  local name=$1 pattern=$2; shift 2
  "$@" >"$tmp/out" 2>"$tmp/err"; local rc=$?
  if { [ $rc -eq 1 ] || [ $rc -eq 2 ]; } && grep -Eq -- "$pattern" "$tmp/err" &&
     [ "$(wc -l <"$tmp/err")" -eq 1 ]; then ok "$name: $(cat "$tmp/err")"
  else bad "$name: exit $rc, stderr:"; cat "$tmp/err"; fi
}
# col FILE NAME: the values of a CSV column, one per line
col() { awk -F, -v want="$2" 'NR==1{for(i=1;i<=NF;i++) if($i==want) c=i; next} {print $c}' "$1"; }

m=$shared/models/stories260K/stories260K.bin
ids=$(head -1 "$shared/prompts/stories260K-samples.ids" | cut -d' ' -f1-96)

# --- rank: one token repeated (no BOS) -> every row identical in every layer
rep=$(printf '42 %.0s' $(seq 1 48))
run "rank repeated token" "$bin" rank "$m" --ids "$rep" --out "$tmp/rank1" --tau 0.5,0.99 --quiet
for kind in Q K H; do
  worst=$(col "$tmp/rank1/rank.csv" "r1_$kind" | awk 'BEGIN{w=0} {d=1-$1; if(d<0)d=-d; if(d>w)w=d} END{print w}')
  maxR=$(col "$tmp/rank1/rank.csv" "R0.99_$kind" | sort -n | tail -1)
  if awk -v w="$worst" 'BEGIN{exit !(w < 1e-6)}' && [ "$maxR" = "1" ]; then ok "rank one $kind: |1 - r_1| <= $worst, R_0.99 = 1"
  else bad "rank one $kind: |1 - r_1| = $worst, max R_0.99 = $maxR"; fi
done
[ "$(wc -l <"$tmp/rank1/rank.csv")" -eq 41 ] && ok "rank.csv has 40 heads" || bad "rank.csv rows"
[ -s "$tmp/rank1/spectra.svg" ] && grep -q "<polyline" "$tmp/rank1/spectra.svg" && ok "rank writes spectra.svg" || bad "spectra.svg"
grep -Eq '"command":[[:space:]]*"rank"' "$tmp/rank1/rank.json" && ok "rank.json" || bad "rank.json"
for f in spectra_q spectra_k spectra_h spectra_wq spectra_wk; do
  [ -s "$tmp/rank1/$f.npy" ] && ok "$f.npy" || bad "$f.npy missing"
done
# a real prompt: Q is not rank one in general, and W_Q ranks do not depend on prompts
run "rank text" "$bin" rank "$m" --ids "$ids" --out "$tmp/rank2" --heads L0H1,L2H3 --quiet
if [ "$(col "$tmp/rank1/rank.csv" r1_WQ)" = "$(col "$tmp/rank2/rank.csv" r1_WQ)" ]; then ok "W_Q ranks prompt-independent"
else bad "W_Q ranks differ between prompts"; fi
listed=$(awk -F, 'NR>1 && $5==1{print $3}' "$tmp/rank2/rank.csv" | tr '\n' ' ')
[ "$listed" = "L0H1 L2H3 " ] && ok "listed heads: $listed" || bad "listed heads: $listed"
[ "$(awk -F, '$1=="listed"{print $2}' "$tmp/rank2/rank_summary.csv")" = "2" ] && ok "summary groups" || bad "summary groups"

# --- freq: all frequencies removed == NoPE at layer 0 (F = 4 for this model)
run "freq ablation" "$bin" freq "$m" --ids "$ids" --out "$tmp/freq1" --remove 1-4 --deltas 0-3 --quiet
# a NoPE pass; removing a frequency there changes nothing, and its rows carry the NoPE scores
run "freq NoPE" "$bin" freq "$m" --ids "$ids" --out "$tmp/freq0" --p-rope 0 --remove 1 --deltas 0-3 --no-bands --quiet
a=$(awk -F, '$1==0 && $5=="custom"{print $2, $4, $8}' "$tmp/freq1/ablation.csv" | sort)
b=$(awk -F, '$1==0 && $5=="custom"{print $2, $4, $7}' "$tmp/freq0/ablation.csv" | sort)
worst=$(paste -d' ' <(echo "$a") <(echo "$b") | awk 'BEGIN{w=0} {if($1!=$4||$2!=$5){w=1e9} d=$3-$6; if(d<0)d=-d; if(d>w)w=d} END{print w}')
n=$(echo "$a" | wc -l)
if [ "$n" -eq 32 ] && awk -v w="$worst" 'BEGIN{exit !(w < 1e-6)}'; then ok "every frequency removed == NoPE at layer 0 ($n rows, max diff $worst)"
else bad "removed-all vs NoPE: $n rows, max diff $worst"; fi
# under NoPE removing a frequency changes nothing: ratio exactly 1
r=$(awk -F, 'NR>1{print $9}' "$tmp/freq0/ablation.csv" | sort -u | tr '\n' ' ')
case "$r" in "1 "|"nan 1 "|"1 nan ") ok "ablation under NoPE has ratio 1";; *) bad "ablation under NoPE: ratios $r";; esac
for f in freq.json bands.csv ablation.csv ablation_scores.npy active.csv freqcond.csv freqcond_curve.npy freqcond_curve.svg \
         alignment.csv usage.csv usage_layer.csv usage_q.npy usage_k.npy usage_layer_q.png inp/L0H0.npy inp/L4H7.png; do
  [ -s "$tmp/freq1/$f" ] && ok "freq wrote $f" || bad "freq did not write $f"
done
# the bands of F = 4: [1,1] [2,2] [3,4], one index removed from each
run "freq bands" "$bin" freq "$m" --ids "$ids" --out "$tmp/freq2" --heads L1H2 --row 20 --quiet
bands=$(tail -n +2 "$tmp/freq2/bands.csv" | tr '\n' ' ')
[ "$bands" = "high,1,1,1 medium,2,2,2 low,3,4,3 " ] && ok "bands for F = 4: $bands" || bad "bands: $bands"
rows=$(awk 'END{print NR}' "$tmp/freq2/active.csv")
[ "$rows" -eq 5 ] && ok "active.csv: 4 frequencies of one head" || bad "active.csv rows $rows"
ratios=$(awk -F, 'NR>1 && ($6 > 1 || $6 < -1 || $7 < -1 || $8 > 1 || $7 > $6 || $8 < $6){print}' "$tmp/freq2/alignment.csv" | wc -l)
[ "$ratios" -eq 0 ] && ok "alignment ratios within [-1, 1]" || bad "alignment ratios out of range"

# --- a scan's SDHs: freq reports the scan's own scores at each SDH's offset
run "scan" "$bin" scan "$m" --ids-file "$shared/prompts/stories260K-samples.ids" --len 64 --count 4 --out "$tmp/scan" --quiet
run "freq --sdh" "$bin" freq "$m" --ids-file "$shared/prompts/stories260K-samples.ids" --len 64 --count 4 \
  --sdh "$tmp/scan" --out "$tmp/freq3" --quiet
worst=$(awk -F, 'FNR==1{next} FILENAME~/sdh.csv/ && $1=="small"{s[$6","$3]=$7; next}
  FILENAME~/ablation.csv/ && $5=="high"{k=$3","$4; if(!(k in s)){print 1e9; exit} d=s[k]-$7; if(d<0)d=-d; if(d>w)w=d; n++}
  END{print w+0, n+0}' "$tmp/scan/sdh.csv" "$tmp/freq3/ablation.csv")
nsdh=$(awk -F, 'NR>1 && $1=="small"' "$tmp/scan/sdh.csv" | wc -l)
set -- $worst
if [ "${2:-0}" -eq "$nsdh" ] && awk -v w="$1" 'BEGIN{exit !(w < 1e-8)}'; then ok "freq --sdh: $nsdh SDHs, scores equal to the scan's (max diff $1)"
else bad "freq --sdh: ${2:-0} rows for $nsdh SDHs, max diff $1"; fi
run "rank --sdh" "$bin" rank "$m" --ids-file "$shared/prompts/stories260K-samples.ids" --len 64 --count 4 \
  --sdh "$tmp/scan" --regime all --out "$tmp/rank3" --quiet

# --- cone
run "cone" "$bin" cone "$m" --out "$tmp/cone" --heads L0H2,L3H1 --max-delta 2 --quiet
[ "$(awk 'END{print NR}' "$tmp/cone/cone.csv")" -eq 9 ] && ok "cone.csv: 8 layer-0 heads" || bad "cone.csv rows"
[ "$(awk 'END{print NR}' "$tmp/cone/alignment.csv")" -eq 4 ] && ok "cone alignment: L0H2 at 0..2" || bad "cone alignment rows"
grep -q '"L3H1"' "$tmp/cone/cone.json" && ok "cone lists L3H1 as ignored" || bad "cone ignored heads"
# a zeroed head (W_Q of L0H0 = 0 in a numpy copy) has no spectrum and no
# dominant direction: its cells are nan, and the averages are the means of
# the other heads (computed here from cone.csv) with the heads left out
# counted, never NaN for the whole group nor the zero head taken as R = 0
py=/usr/bin/python3
$py "$(dirname "$0")/st_tool.py" copy "$shared/models/stories260K/hf" "$tmp/zq" \
  rows:model.layers.0.self_attn.q_proj.weight:0:8:0
run "cone, one head zeroed" "$bin" cone "$tmp/zq" --out "$tmp/cone0" --heads L0H0,L0H3 --quiet
if $py - "$tmp/cone0" >"$tmp/err" 2>&1 <<'PY'
import csv, json, math, sys
d = sys.argv[1]
rows = list(csv.DictReader(open(d + "/cone.csv")))
av = json.load(open(d + "/cone.json"))["averages"]
nan = [k for k, v in rows[0].items() if v == "nan"]
assert sorted(nan) == sorted(["r1_tilde_Q", "R_tilde_Q", "r1_Q", "R_Q", "dominant_l_Q",
                              "dominant_share_Q", "rv_dominant_Q", "norm_rv_proj_Q",
                              "norm_rv_Q"]), nan
assert all(v != "nan" for r in rows[1:] for v in r.values())
for group, keep in (("all", rows), ("listed", [r for r in rows if r["listed"] == "1"])):
    a = av[group]
    assert a["heads"] == len(keep)
    want_u = {k: 1 for k in nan if k != "dominant_l_Q"}
    assert a["undefined"] == want_u, (group, a["undefined"])
    for side in "QK":
        for c, got in a[side].items():
            vals = [float(r[c + "_" + side]) for r in keep if r[c + "_" + side] != "nan"]
            want = sum(vals) / len(vals)
            assert got is not None and math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-12), \
                (group, side, c, got, want)
print("ok")
PY
then ok "cone averages skip the zeroed head and count it"; else bad "cone averages with a zeroed head"; cat "$tmp/err"; fi
# the same zeroed W_Q in rank: its R_tau is undefined (nan), not rank 0,
# and the listed average is the other head's value with one head left out
run "rank, one head zeroed" "$bin" rank "$tmp/zq" --ids-file "$shared/prompts/stories260K-samples.ids" \
  --len 64 --count 2 --heads L0H0,L0H3 --out "$tmp/rank0" --quiet
if $py - "$tmp/rank0" >"$tmp/err" 2>&1 <<'PY'
import csv, json, sys
d = sys.argv[1]
rows = {r["name"]: r for r in csv.DictReader(open(d + "/rank.csv"))}
assert rows["L0H0"]["R0.95_WQ"] == "nan" and rows["L0H0"]["r1_WQ"] == "nan", rows["L0H0"]
other = float(rows["L0H3"]["R0.95_WQ"])
assert other >= 1
listed = json.load(open(d + "/rank.json"))["averages"]["listed"]
assert listed["R0.95_WQ"] == other, (listed["R0.95_WQ"], other)
assert listed["undefined"]["R0.95_WQ"] == 1, listed["undefined"]
print("ok")
PY
then ok "rank: a zeroed W_Q has no R_tau and is left out of the averages"; else bad "rank with a zeroed head"; cat "$tmp/err"; fi

# --- bad input
expect_fail "bad head list" "--heads: .*L9H0" "$bin" rank "$m" --ids "$ids" --heads L9H0 --out "$tmp/x"
expect_fail "missing scan" "nowhere: not a scan folder" "$bin" freq "$m" --ids "$ids" --sdh "$tmp/nowhere" --out "$tmp/x"
expect_fail "heads and sdh" "not both" "$bin" freq "$m" --ids "$ids" --sdh "$tmp/scan" --heads L0H0 --out "$tmp/x"
expect_fail "row past the end" "--row" "$bin" freq "$m" --ids "1 2 3 4 5" --row 9 --out "$tmp/x"
expect_fail "bad --remove" "frequency index|outside" "$bin" freq "$m" --ids "$ids" --remove 7 --out "$tmp/x"
expect_fail "no prompts" "give the prompts" "$bin" rank "$m" --out "$tmp/x"
expect_fail "bad tau" "--tau" "$bin" rank "$m" --ids "$ids" --tau 1.5 --out "$tmp/x"
printf 'regime,kappa,delta,layer,head,name,score\nsmall,0.1,1,7,0,L7H0,0.5\n' >"$tmp/sdhbad.csv"
# a result from before SHA256SUMS (nothing to verify) whose sdh.csv names a head the model lacks
mkdir -p "$tmp/sdhbad"; mv "$tmp/sdhbad.csv" "$tmp/sdhbad/sdh.csv"
cp "$tmp/scan/scan.json" "$tmp/scan/slash_sum.npy" "$tmp/scan/slash_count.npy" "$tmp/sdhbad/"
expect_fail "sdh of another model" "line 2.*L7H0" "$bin" freq "$m" --ids "$ids" --sdh "$tmp/sdhbad" --out "$tmp/x"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
