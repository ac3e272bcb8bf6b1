#!/usr/bin/env bash
# The HTML reports as a reader meets them: demo's report.html and the figure
# gallery of test_figure open in headless Chromium with no console error and
# no broken image, print to PDF, validate as HTML5 (tests/report_check.py),
# and the demo report's numbers are those of summary.json. Screenshots for
# people: $SS_TMP/screenshots/. Exits 77 (CTest: skipped) without chromium.
set -u
bin=${SS_BIN:?}; tmp=${SS_TMP:-/tmp}/cli_report; shots=${SS_TMP:-/tmp}/screenshots
here=$(cd "$(dirname "$0")" && pwd)
check_py=$here/report_check.py
# The browser sees the same HTML whatever the build; under the sanitizers
# the report writers run in cli_theory (demo) and cli_study, so the slow
# sanitized demo is not run a second time here.
if [ "${SS_SANITIZE:-OFF}" = ON ]; then
  echo "SKIP: browser checks run in the release build (the writers run sanitized in cli_theory, cli_study)"
  exit 77
fi
rm -rf "$tmp"; mkdir -p "$tmp" "$shots"
passed=0; failed=0
ok() { echo "ok   $1"; passed=$((passed+1)); }
bad() { echo "FAIL $1"; failed=$((failed+1)); }

# browser NAME HTML SHOT FIGURES: the checker passes (77: skip the whole test)
browser() {
  /usr/bin/python3 "$check_py" "$2" "$3" --expect-figures "$4" >"$tmp/check.out" 2>&1; local rc=$?
  if [ $rc -eq 77 ]; then cat "$tmp/check.out"; echo "SKIP: no browser check possible"; exit 77; fi
  if [ $rc -eq 0 ]; then ok "$1: $(tail -1 "$tmp/check.out")"; else bad "$1"; cat "$tmp/check.out"; fi
}

"$bin" demo --out "$tmp/demo" --quiet >"$tmp/demo.out" 2>"$tmp/demo.err"
if [ $? -eq 0 ] && [ -s "$tmp/demo/report.html" ]; then ok "demo writes report.html"
else bad "demo report"; cat "$tmp/demo.err"; fi
grep -q "report.html" "$tmp/demo.out" && ok "demo names its report" || bad "demo names its report"
browser "demo report in chromium" "$tmp/demo/report.html" "$shots/demo-report.png" 5

# The report's tables against summary.json (written by other code): the
# exact value in data-value, and the shown digits rounding it.
if /usr/bin/python3 - "$tmp/demo/report.html" "$tmp/demo/summary.json" <<'PY'
import json, sys, html5lib
doc = html5lib.parse(open(sys.argv[1], "rb").read(), namespaceHTMLElements=False)
summary = json.load(open(sys.argv[2]))["runs"]
def rows(table_id):
    t = [t for t in doc.iter("table") if t.get("id") == table_id][0]
    return [list(tr.iter("td")) for tr in t.find("tbody").iter("tr")]
def num(td):
    v = float(td.get("data-value"))
    assert abs(float(td.text) - v) <= 1e-3 * abs(v) + 1e-12, (td.text, v)
    return v
def same(got, want):
    # summary.json holds cJSON's 15 significant digits; data-value all 17
    if isinstance(want, float):
        return abs(got - want) <= 1e-14 * abs(want)
    return got == want
bad = 0
for run, row in zip(summary, rows("runs")):
    checks = [(num(row[3]), run["s1_mean"]), (num(row[5]), run["loss_initial"]),
              (num(row[6]), run["loss_final"]), (num(row[10]), len(run["sdh"]))]
    checks.append((row[2].text, "never" if run["slash_step"] is None else str(run["slash_step"])))
    checks.append((row[1].text, "yes" if run["slash_dominant"] else "no"))
    for got, want in checks:
        if not same(got, want):
            print("runs table: %r != summary.json %r" % (got, want)); bad += 1
for run, row in zip(summary, rows("slash")):
    for td, want in zip(row[1:], run["slash_scores_0_4"]):
        if not same(num(td), want):
            print("slash table: %r != %r" % (num(td), want)); bad += 1
sys.exit(1 if bad else 0)
PY
then ok "report numbers = summary.json"; else bad "report numbers = summary.json"; fi

# every figure kind (test_figure writes the gallery: 8 figures)
SS_TMP=$tmp "$(dirname "$bin")/test_figure" test_gallery >"$tmp/gallery.out" 2>&1 \
  && ok "gallery written" || { bad "gallery"; cat "$tmp/gallery.out"; }
browser "figure gallery in chromium" "$tmp/gallery.html" "$shots/figure-gallery.png" 8

# the checker itself can fail: a broken raster, a stray script, bad markup
sed 's/base64,iVBOR/base64,AAAA/' "$tmp/demo/report.html" >"$tmp/broken1.html"
sed 's|<h2 id="verdict">|<script>console.error("boom")</script><p><b>x</p><h2 id="verdict">|' \
  "$tmp/demo/report.html" >"$tmp/broken2.html"
/usr/bin/python3 "$check_py" "$tmp/broken1.html" "$tmp/b1.png" >"$tmp/b1.out" 2>&1
[ $? -eq 1 ] && grep -q "does not decode" "$tmp/b1.out" && ok "checker catches a broken image" \
  || { bad "checker misses a broken image"; cat "$tmp/b1.out"; }
/usr/bin/python3 "$check_py" "$tmp/broken2.html" "$tmp/b2.png" >"$tmp/b2.out" 2>&1
if [ $? -eq 1 ] && grep -q "console error" "$tmp/b2.out" && grep -q "html5lib" "$tmp/b2.out"; then
  ok "checker catches console errors and invalid HTML"
else bad "checker misses console errors / invalid HTML"; cat "$tmp/b2.out"; fi

echo "$passed passed, $failed failed (screenshots in $shots)"
[ $failed -eq 0 ]
