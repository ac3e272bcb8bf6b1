#!/bin/bash
# Issue 9's bookkeeping failures, each of which used to pass silently:
#  1 merge double-counting random-token prompts (and shared file prompts)
#  2 --sdh / --maps sdh:DIR accepting a scan of another model of the same shape
#  3 merge/compare accepting scans of different weights with the same config
#  4 a finished result overwritten, with stale files left behind (scan, freq;
#    ppl, compress and sparsity through the same transaction)
#  5 --quiet hiding the result listing
#  8 a failed re-run leaving a mixed folder
#  7 one κ for two regimes, no check of κ against N, listings that flood
#  9 two runs into one --out
# 10 resume accepting another tokenizer, changed weights, another version, damaged or edited
#    checkpoints; merge accepting tampered arrays
# and: a scan re-run from its scan.json provenance gives the same bytes.
set -u
BIN=${SS_BIN:?} SHARED=${SS_SHARED:?}
PY=/usr/bin/python3
T=${SS_TMP:-/tmp}/cli_results.$$
rm -rf "$T" && mkdir -p "$T"
fails=0
trap '[ "$fails" -eq 0 ] && rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }
# expect_fail NAME REGEX CMD...: CMD exits non-zero and stderr matches REGEX
expect_fail() {
    local name=$1 re=$2
    shift 2
    if "$@" >"$T/out" 2>"$T/err"; then
        fail "$name: exit 0"
    elif ! grep -Eq -- "$re" "$T/err"; then
        fail "$name: stderr does not match /$re/: $(cat "$T/err")"
    fi
}
ok() { local name=$1; shift; "$@" >"$T/out" 2>"$T/err" || fail "$name: $(cat "$T/err")"; }

S=$SHARED/models/stories260K/hf
X=$SHARED/models/llama2xs_tinystories/hf
TOK=$SHARED/models/stories260K/tok512.bin
IDS=$SHARED/prompts/stories260K-samples.ids
Q=(--threads 1 --quiet)

# ---- 1: overlapping prompts ----
ok "ood 4" "$BIN" scan "$S" --ood 4 --seed 1 --len 32 "${Q[@]}" --out "$T/a4"
ok "ood 8" "$BIN" scan "$S" --ood 8 --seed 1 --len 32 "${Q[@]}" --out "$T/a8"
expect_fail "merge ood 4 + ood 8 of one seed" "prompts 0 to 3 of seed 1.*twice.*--ood-offset" \
    "$BIN" merge "$T/a4" "$T/a8" --out "$T/m"
ok "ood 4 offset 4" "$BIN" scan "$S" --ood 4 --seed 1 --ood-offset 4 --len 32 "${Q[@]}" --out "$T/b4"
ok "merge disjoint ranges" "$BIN" merge "$T/a4" "$T/b4" --out "$T/m48" --quiet
grep -q '"prompt_count":[[:space:]]*8' "$T/m48/scan.json" || fail "merged prompt count"
cmp -s "$T/m48/slash_count.npy" "$T/a8/slash_count.npy" || fail "merged counts differ from one run of 8"
"$PY" - "$T/m48" "$T/a8" <<'PY' || fail "merge of offset sets differs from one scan of all prompts"
import sys, numpy as np
a, b = (np.load(d + "/slash_sum.npy") for d in sys.argv[1:3])
sys.exit(0 if np.allclose(a, b, rtol=1e-12, atol=1e-15) and not np.array_equal(a, 0 * a) else 1)
PY
# two id files sharing their third line
sed -n 1,3p "$IDS" >"$T/p1.ids"
sed -n 3,5p "$IDS" >"$T/p2.ids"
ok "ids 1-3" "$BIN" scan "$S" --ids-file "$T/p1.ids" --len 32 "${Q[@]}" --out "$T/i1"
ok "ids 3-5" "$BIN" scan "$S" --ids-file "$T/p2.ids" --len 32 "${Q[@]}" --out "$T/i2"
expect_fail "merge files sharing a prompt" "prompt 2.*prompt 0.*same prompt" \
    "$BIN" merge "$T/i1" "$T/i2" --out "$T/m"
[ -e "$T/m" ] || [ -e "$T/m.partial" ] || [ -e "$T/m.lock" ] && fail "a refused merge left files"

# ---- 2: --sdh of another model with the same layers x heads ----
ok "scan of the other model" "$BIN" scan "$X" --ids-file "$IDS" --count 4 --len 64 "${Q[@]}" --out "$T/sx"
expect_fail "rank --sdh other model" "--sdh .*another model.*model\." \
    "$BIN" rank "$S" --ids-file "$IDS" --count 2 --len 64 --sdh "$T/sx" --out "$T/r" --quiet
expect_fail "freq --sdh other model" "another model" \
    "$BIN" freq "$S" --ids-file "$IDS" --count 2 --len 64 --sdh "$T/sx" --out "$T/r" --quiet
expect_fail "cone --sdh other model" "another model" "$BIN" cone "$S" --sdh "$T/sx" --out "$T/r"
expect_fail "scan --maps sdh: other model" "another model" \
    "$BIN" scan "$S" --ood 2 --len 64 --maps "sdh:$T/sx" "${Q[@]}" --out "$T/r"
ok "scan of this model" "$BIN" scan "$S" --ids-file "$IDS" --count 4 --len 64 "${Q[@]}" --out "$T/ss"
ok "rank --sdh this model" "$BIN" rank "$S" --ids-file "$IDS" --count 2 --len 64 --sdh "$T/ss" \
    --regime all --out "$T/r_ok" --quiet

# ---- 3: same config, other weights (a "fine-tune": one weight changed) ----
cp -r "$S" "$T/S2" && chmod -R u+w "$T/S2"
flip_weight() { # FILE: toggle the lowest mantissa bit of a float near the end
    local f=$1 size
    size=$(stat -c %s "$f")
    "$PY" -c "
import sys
f = open(sys.argv[1], 'r+b'); f.seek(int(sys.argv[2])); b = f.read(1); f.seek(int(sys.argv[2]))
f.write(bytes([b[0] ^ 1]))" "$f" $((size - 400))
}
flip_weight "$T/S2/model.safetensors"
ok "scan of the changed weights" "$BIN" scan "$T/S2" --ood 4 --seed 1 --ood-offset 8 --len 32 \
    "${Q[@]}" --out "$T/w2"
expect_fail "merge different weights" "different models.*model\.weights\.digest" \
    "$BIN" merge "$T/a4" "$T/w2" --out "$T/m"
expect_fail "compare different weights" "model\.weights\.digest" "$BIN" compare "$T/a4" "$T/w2"

# ---- 4: no silent overwrite, no stale files ----
ok "scan with maps" "$BIN" scan "$S" --ood 2 --len 32 --maps L0H1 --map-size 8 "${Q[@]}" --out "$T/o"
[ -f "$T/o/maps/L0H1.npy" ] || fail "no map written"
expect_fail "overwrite refused" "holds a finished result.*--force" \
    "$BIN" scan "$S" --ood 2 --len 24 "${Q[@]}" --out "$T/o"
[ -f "$T/o/maps/L0H1.npy" ] || fail "the refused run touched the result"
ok "overwrite with --force" "$BIN" scan "$S" --ood 2 --len 24 --force "${Q[@]}" --out "$T/o"
[ -e "$T/o/maps" ] && fail "--force left the old run's maps/"
grep -q '"length":[[:space:]]*24' "$T/o/scan.json" || fail "--force did not write the new run"
(cd "$T/o" && sha256sum --quiet -c SHA256SUMS) || fail "SHA256SUMS does not verify"
ls -d "$T"/o.* >/dev/null 2>&1 && fail "temporary folders or locks left next to the result"
ok "freq all heads" "$BIN" freq "$S" --ids-file "$IDS" --count 1 --len 32 --heads all --out "$T/f" --quiet
n_all=$(ls "$T/f/inp" | wc -l)
expect_fail "freq overwrite refused" "finished result" \
    "$BIN" freq "$S" --ids-file "$IDS" --count 1 --len 32 --heads L0H0 --out "$T/f" --quiet
ok "freq one head --force" "$BIN" freq "$S" --ids-file "$IDS" --count 1 --len 32 --heads L0H0 \
    --force --out "$T/f" --quiet
n_one=$(ls "$T/f/inp" | wc -l)
[ "$n_one" -lt "$n_all" ] && ! ls "$T/f/inp" | grep -qv L0H0 ||
    fail "freq --force kept other heads' inp/ files ($n_one of $n_all)"
# every other command that writes --out goes through the same transaction
for cmd in ppl compress sparsity; do
    args=("$S" --ids-file "$IDS" --count 1 --len 16 --quiet)
    [ $cmd = compress ] && args+=(--thre 0.9 --rank-thre 2)
    ok "$cmd" "$BIN" $cmd "${args[@]}" --out "$T/$cmd"
    expect_fail "$cmd overwrite refused" "holds a finished result.*--force" \
        "$BIN" $cmd "${args[@]}" --out "$T/$cmd"
    ok "$cmd --force" "$BIN" $cmd "${args[@]}" --force --out "$T/$cmd"
    (cd "$T/$cmd" && sha256sum --quiet -c SHA256SUMS) || fail "$cmd: SHA256SUMS does not verify"
    ls -d "$T/$cmd".* >/dev/null 2>&1 && fail "$cmd left temporary folders or locks"
done
mkdir -p "$T/notes" && echo keep >"$T/notes/mine.txt"
expect_fail "a folder that is not a result" "not a slashscope result" \
    "$BIN" scan "$S" --ood 2 --len 24 --force "${Q[@]}" --out "$T/notes"
[ -f "$T/notes/mine.txt" ] || fail "--force deleted a folder that was not a result"

# ---- 5: --quiet silences progress only ----
"$BIN" scan "$S" --ood 2 --len 32 "${Q[@]}" --out "$T/q" >"$T/q.out" 2>"$T/q.err" || fail "quiet scan"
grep -q "^scanned 2 prompts" "$T/q.out" || fail "--quiet hid the summary: $(cat "$T/q.out")"
[ -s "$T/q.err" ] && fail "--quiet printed on stderr: $(cat "$T/q.err")"

# ---- 8: a failed re-run leaves the finished result as it was ----
cp -r "$T/o" "$T/o.keep"
( trap '' XFSZ; ulimit -f 8; exec "$BIN" scan "$S" --ood 3 --len 64 --force "${Q[@]}" --out "$T/o" ) \
    >/dev/null 2>"$T/err" && fail "the write should have failed under ulimit -f"
diff -r "$T/o" "$T/o.keep" >/dev/null || fail "a failed --force run changed the finished result"
[ -e "$T/o.partial" ] && fail "a failed run without a checkpoint left o.partial"
rm -rf "$T/o.keep"

# ---- 9: one run per folder ----
"$BIN" scan "$X" --ood 30 --len 256 "${Q[@]}" --out "$T/c" >/dev/null 2>&1 &
pid=$!
for ((i = 0; i < 500; i++)); do [ -f "$T/c.lock" ] && break; sleep 0.01; done
expect_fail "second run into the same --out" "another run \\(pid $pid\\)" \
    "$BIN" scan "$X" --ood 2 --len 16 --force "${Q[@]}" --out "$T/c"
wait "$pid" || fail "the first run failed"
grep -q '"prompt_count":[[:space:]]*30' "$T/c/scan.json" || fail "the first run's result is not whole"
[ -e "$T/c.lock" ] && fail "lock file left after the run"

# ---- 10: resume refuses what does not continue the same run ----
KARGS=(--prompts "$SHARED/prompts/stories260K-samples.jsonl" --chunk --len 256 --threads 1 --quiet)
killed_scan() { # MODEL DIR [flags]: SIGKILL a scan once its checkpoint holds >= 3 prompts
    local model=$1 dir=$2 i
    shift 2
    "$BIN" scan "$model" "${KARGS[@]}" "$@" --checkpoint-every 1 --out "$dir" >/dev/null 2>&1 &
    local pid=$!
    for ((i = 0; i < 1000; i++)); do
        grep -Eqs '"prompts":[[:space:]]*([3-9]|[1-9][0-9])' "$dir.partial/checkpoint/state.json" &&
            break
        sleep 0.01
    done
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    [ -f "$dir.partial/checkpoint/state.json" ] || fail "no checkpoint in $dir.partial"
    [ -e "$dir" ] && fail "$dir finished before the kill"
}
cp -r "$X" "$T/X2" && chmod -R u+w "$T/X2"
killed_scan "$T/X2" "$T/k" --tokenizer "$TOK"
copy_ck() { rm -rf "$T/$1.partial" && cp -r "$T/k.partial" "$T/$1.partial"; }
copy_ck k1
expect_fail "resume with another tokenizer" "other settings.*prompts\.tokenizer" \
    "$BIN" scan "$T/X2" "${KARGS[@]}" --tokenizer "$SHARED/models/stories260K/stories260K.gguf" \
    --resume --out "$T/k1"
copy_ck k2
g=$("$PY" -c "
import json, sys
st = json.load(open(sys.argv[1]))
print([a['file'] for a in st['arrays'] if a['name'] == 'slash_count'][0])" \
    "$T/k2.partial/checkpoint/state.json")
"$PY" -c "
import sys
f = open(sys.argv[1], 'r+b'); f.seek(200); b = f.read(1); f.seek(200); f.write(bytes([b[0] ^ 4]))" \
    "$T/k2.partial/checkpoint/$g"
expect_fail "resume from a damaged array" "$g.*SHA-256" \
    "$BIN" scan "$T/X2" "${KARGS[@]}" --tokenizer "$TOK" --resume --out "$T/k2"
copy_ck k3
sed -i -E '0,/"emitted":[[:space:]]*[0-9]+/s//"emitted": 1/' "$T/k3.partial/checkpoint/state.json"
expect_fail "resume from an edited state.json" "edited" \
    "$BIN" scan "$T/X2" "${KARGS[@]}" --tokenizer "$TOK" --resume --out "$T/k3"
expect_fail "a new run over a checkpoint" "--resume.*--force" \
    "$BIN" scan "$T/X2" "${KARGS[@]}" --tokenizer "$TOK" --out "$T/k"
# a checkpoint of another slashscope version (or of one that recorded none)
# is refused, naming both versions: state.json edited and its own "sha256"
# recomputed as cJSON prints it (checked first on the unedited file), so the
# refusal is the version's, not the checksum's
reversion() { # STATE_JSON VERSION|-: "-" takes the version off
    "$PY" - "$1" "$2" <<'PY'
import hashlib, json, sys
def num(x):
    if isinstance(x, bool):
        return "true" if x else "false"
    if isinstance(x, int):
        return str(x)
    if x == int(x) and abs(x) < 2**31:
        return "%d" % x
    s = "%1.15g" % x
    if abs(float(s) - x) > max(abs(x), abs(float(s))) * 2.220446049250313e-16:
        s = "%1.17g" % x
    return s
def text(s):
    esc = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r",
           "\t": "\\t"}
    return '"' + "".join(esc.get(c, "\\u%04x" % ord(c) if ord(c) < 32 else c) for c in s) + '"'
def cjson(v):  # cJSON_PrintUnformatted
    if v is None:
        return "null"
    if isinstance(v, str):
        return text(v)
    if isinstance(v, dict):
        return "{" + ",".join(text(k) + ":" + cjson(x) for k, x in v.items()) + "}"
    if isinstance(v, list):
        return "[" + ",".join(cjson(x) for x in v) + "]"
    return num(v)
def digest(st):
    d = {k: x for k, x in st.items() if k != "sha256"}
    return hashlib.sha256(cjson(d).encode()).hexdigest()
path, version = sys.argv[1:3]
st = json.load(open(path))
if digest(st) != st["sha256"]:
    sys.exit("cannot reproduce state.json's own sha256")
if version == "-":
    del st["state"]["version"]
else:
    st["state"]["version"] = version
st["sha256"] = digest(st)
json.dump(st, open(path, "w"), ensure_ascii=False)
PY
}
VERSION=$("$BIN" --version | cut -d' ' -f2)
copy_ck k5
if reversion "$T/k5.partial/checkpoint/state.json" 0.0.1; then
    expect_fail "resume a checkpoint of another version" \
        "state.json: made by slashscope 0\.0\.1, this is $VERSION: resume it with slashscope 0\.0\.1, or start afresh with --force" \
        "$BIN" scan "$T/X2" "${KARGS[@]}" --tokenizer "$TOK" --resume --out "$T/k5"
else fail "state.json's version not edited"; fi
copy_ck k6
if reversion "$T/k6.partial/checkpoint/state.json" -; then
    expect_fail "resume a checkpoint without a version" \
        "made by an earlier slashscope, which did not record its version \(this is $VERSION\)" \
        "$BIN" scan "$T/X2" "${KARGS[@]}" --tokenizer "$TOK" --resume --out "$T/k6"
else fail "state.json's version not taken off"; fi
# the edit itself is sound: the same rewrite with this version resumes
copy_ck k7
reversion "$T/k7.partial/checkpoint/state.json" "$VERSION" || fail "state.json not rewritten"
ok "resume a rewritten checkpoint of this version" \
    "$BIN" scan "$T/X2" "${KARGS[@]}" --tokenizer "$TOK" --resume --out "$T/k7"
copy_ck k4
flip_weight "$T/X2/model.safetensors"
expect_fail "resume after the weights changed in place" "other settings.*model\.weights\.digest" \
    "$BIN" scan "$T/X2" "${KARGS[@]}" --tokenizer "$TOK" --resume --out "$T/k4"
flip_weight "$T/X2/model.safetensors" # back as they were: the resume goes through
ok "resume" "$BIN" scan "$T/X2" "${KARGS[@]}" --tokenizer "$TOK" --resume --out "$T/k"
ok "uninterrupted" "$BIN" scan "$T/X2" "${KARGS[@]}" --tokenizer "$TOK" --out "$T/k_once"
for f in slash_sum.npy slash_sumsq.npy slash_count.npy sdh.csv; do
    cmp -s "$T/k/$f" "$T/k_once/$f" || fail "resumed $f differs from an uninterrupted run"
done

# merge refuses tampered arrays: with SHA256SUMS by checksum, without by content
cp -r "$T/b4" "$T/t1"
"$PY" -c "
import sys, numpy as np
p = sys.argv[1] + '/slash_count.npy'; a = np.load(p); np.save(p, a * 2)" "$T/t1"
expect_fail "merge of edited counts (checksum)" "slash_count.npy.*SHA-256" \
    "$BIN" merge "$T/a4" "$T/t1" --out "$T/m"
rm "$T/t1/SHA256SUMS"
expect_fail "merge of doubled counts" "counts 8 prompts where 4 were recorded" \
    "$BIN" merge "$T/a4" "$T/t1" --out "$T/m"
cp "$T/b4/slash_count.npy" "$T/t1/"
"$PY" -c "
import sys, numpy as np
p = sys.argv[1] + '/slash_count.npy'; a = np.load(p); a[0, 0, 0] = -1; np.save(p, a)" "$T/t1"
expect_fail "merge of a negative count" "counts -1 prompts" "$BIN" merge "$T/a4" "$T/t1" --out "$T/m"
cp "$T/b4/slash_count.npy" "$T/t1/"
"$PY" -c "
import sys, numpy as np
p = sys.argv[1] + '/slash_sum.npy'; a = np.load(p); a[1, 2, 3] = np.nan; np.save(p, a)" "$T/t1"
expect_fail "merge of a NaN sum" "L1H2 offset 3.*not finite" "$BIN" merge "$T/a4" "$T/t1" --out "$T/m"
cp "$T/b4/slash_sum.npy" "$T/t1/"
sed -i -E 's/"prompt_count":[[:space:]]*4/"prompt_count": 999/' "$T/t1/scan.json"
expect_fail "merge of prompt_count 999" "where 999 were recorded" \
    "$BIN" merge "$T/a4" "$T/t1" --out "$T/m"

# ---- 7: each regime its own κ; the large one checked against N; short listings ----
expect_fail "--kappa without --delta" "--kappa-small" "$BIN" sdh "$T/ss" --kappa 0.3
"$BIN" sdh "$T/ss" --kappa-small 0.3 >"$T/sdh.out" || fail "sdh --kappa-small"
grep -q "small regime (Δ 0..4, κ 0.3)" "$T/sdh.out" || fail "--kappa-small not applied"
grep -q "large regime (Δ 500..5000, κ 0.001)" "$T/sdh.out" || fail "--kappa-small changed the large κ"
"$BIN" sdh "$T/ss" --delta 500:5000 >"$T/sdh.out" 2>/dev/null || fail "sdh --delta 500:5000"
grep -q "custom regime (Δ 500..5000, κ 0.001)" "$T/sdh.out" || fail "κ does not follow --delta"
ok "scan with its own κ" "$BIN" scan "$S" --ids-file "$IDS" --count 4 --len 64 --kappa-small 0.3 \
    "${Q[@]}" --out "$T/ks"
"$PY" - "$T/ks" <<'PY' || fail "scan --kappa-small is not what sdh.csv and scan.json say"
import csv, json, sys
rows = [r for r in csv.DictReader(open(sys.argv[1] + "/sdh.csv")) if r["regime"] == "small"]
reg = {r["name"]: r["kappa"] for r in json.load(open(sys.argv[1] + "/scan.json"))["sdh_regimes"]}
sys.exit(0 if rows and min(float(r["score"]) for r in rows) >= 0.3 and reg == {"small": 0.3, "large": 0.001} else 1)
PY
"$BIN" sdh "$T/ks" | grep -q "small regime (Δ 0..4, κ 0.3)" || fail "sdh does not follow the scan's κ"
ok "scan at the full context" "$BIN" scan "$S" --ood 1 --len 512 "${Q[@]}" --out "$T/n512"
grep -q "large regime's κ 0.001 is only 0.5x uniform attention at N = 512.*κ = 0.00977 (--kappa-large)" \
    "$T/err" || fail "no warning about κ against N: $(cat "$T/err")"
"$BIN" scan "$S" --ids-file "$IDS" --count 4 --len 64 "${Q[@]}" --force --out "$T/ss" >"$T/list.out" ||
    fail "scan listing"
rows=$(awk -F, '$1 == "small" && $3 == 1' "$T/ss/sdh.csv" | wc -l)
shown=$(grep -cE '^ +1  L[0-9]+H[0-9]+ ' "$T/list.out")
[ "$rows" -gt 3 ] && [ "$shown" -eq 3 ] && grep -q "($((rows - 3)) more at Δ = 1)" "$T/list.out" ||
    fail "listing at Δ 1: $shown shown of $rows (want 3 and a count of the rest)"

# ---- say what happened: compare writes files; freq marks heads far below their scan ----
ok "ood scan" "$BIN" scan "$S" --ood 4 --len 64 "${Q[@]}" --out "$T/ss_ood"
"$BIN" compare "$T/ss" "$T/ss_ood" --out "$T/cmp" >"$T/cmp.out" || fail "compare --out"
grep -q "^compared [0-9]* SDHs" "$T/cmp.out" || fail "compare summary: $(cat "$T/cmp.out")"
[ -f "$T/cmp/compare.csv" ] && [ -f "$T/cmp/compare.json" ] || fail "compare files missing"
LC_ALL=C grep -q '[^ -~]' "$T/cmp/compare.csv" && fail "compare.csv is not ASCII"
# compare.json traces itself: its command line, time, environment, the scans'
# weights, and each input folder by the SHA-256 of its SHA256SUMS (sha256sum
# here) or, for a folder made before manifests, of its scan.json
cp -r "$T/ss_ood" "$T/ss_old" && rm "$T/ss_old/SHA256SUMS"
"$BIN" compare "$T/ss" "$T/ss_old" --json >"$T/cmp_old.json" || fail "compare --json, old folder"
"$PY" - "$T" "$(sha256sum <"$T/ss/SHA256SUMS" | cut -c1-64)" \
    "$(sha256sum <"$T/ss_ood/SHA256SUMS" | cut -c1-64)" \
    "$(sha256sum <"$T/ss_old/scan.json" | cut -c1-64)" <<'PY' || fail "compare.json provenance"
import json, re, sys
T, id_sum, ood_sum, old_json = sys.argv[1:5]
for f, ood, ood_of, ood_dig, argv in (
        ("cmp/compare.json", "ss_ood", "SHA256SUMS", ood_sum, ["--out", T + "/cmp"]),
        ("cmp_old.json", "ss_old", "scan.json", old_json, ["--json"])):
    j = json.load(open(T + "/" + f))
    p = j["provenance"]
    assert j["command"] == "compare" and j["version"] == p["environment"]["tool_version"], f
    assert p["command_line"] == ["slashscope", "compare", T + "/ss", T + "/" + ood] + argv, f
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", p["created"]), f
    scan = json.load(open(T + "/ss/scan.json"))
    assert p["weights"] == scan["model"]["weights"] and j["model"] == scan["model"], f
    for key, d, of, dig in (("id_scan", "ss", "SHA256SUMS", id_sum), ("ood_scan", ood, ood_of, ood_dig)):
        i = p["inputs"][key]
        s = json.load(open(T + "/" + d + "/scan.json"))
        assert i == {"path": T + "/" + d, "digest_of": of, "sha256": dig,
                     "created": s["created"], "tool_version": s["tool_version"]}, (f, key, i)
PY
"$BIN" freq "$S" --ood 2 --len 64 --sdh "$T/ss" --out "$T/f_ood" --quiet >"$T/f.out" || fail "freq ood"
grep -q "SDHs score under half their scan's score" "$T/f.out" || fail "freq summary: $(cat "$T/f.out")"
"$PY" - "$T/f_ood/freq.json" <<'PY' || fail "freq.json sdh_scores inconsistent"
import json, sys
e = json.load(open(sys.argv[1]))["sdh_scores"]
ok = all(x["far_below"] == (x["score"] is None or x["score"] < 0.5 * x["scan_score"]) for x in e)
sys.exit(0 if e and ok and any(x["far_below"] for x in e) else 1)
PY

# ---- reproducible from the provenance ----
rerun() { # DIR NEW: the scan command scan.json describes, run again into NEW
    "$PY" - "$1" <<'PY' >"$T/argv" || return 1
import json, sys
j = json.load(open(sys.argv[1] + "/scan.json"))
p = j["prompts"]
a = [j["model"]["path"]]
if p["source"] == "ood":
    a += ["--ood", str(p["count"]), "--seed", p["seed"], "--ood-offset", str(p["first"])]
elif p["source"] == "ids-file":
    a += ["--ids-file", p["path"]]
    if p["count_limit"]:
        a += ["--count", str(p["count_limit"])]
else:
    sys.exit("not handled here: " + p["source"])
a += ["--len", str(j["length"]), "--skip", str(j["skip"]), "--threads", str(j["threads"])]
print("\n".join(a))
PY
    local -a argv
    mapfile -t argv <"$T/argv"
    "$BIN" scan "${argv[@]}" --quiet --out "$2" >/dev/null
}
for d in b4 i1 ss; do
    rerun "$T/$d" "$T/re_$d" || fail "re-running $d from its scan.json"
    for f in slash.npy slash_sum.npy slash_sumsq.npy slash_count.npy sdh.csv; do
        cmp -s "$T/$d/$f" "$T/re_$d/$f" || fail "$d/$f differs when re-run from its provenance"
    done
done

if [ "$fails" -eq 0 ]; then echo "cli_results: all passed"; else echo "cli_results: $fails failed"; fi
[ "$fails" -eq 0 ]
