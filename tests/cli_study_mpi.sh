#!/bin/bash
# slashscope study under mpirun (docs/cluster.md, docs/report.md): -np 2 on
# localhost gives the one-process study: every number of report.html (each
# table cell's exact data-value) equal to 1e-9 relative, the same verdicts,
# the spread stages' folders (scan-id, scan-ood, maps, rank, freq) equal
# (counts bit for bit, sums to 1e-12: tests/mpi_compare.py) and the rank-0
# stages' (info, compare, cone) equal byte for byte; a study that fails on
# rank 0 ends every rank with a non-zero exit. Skipped (exit 77) when the
# build has no MPI or mpirun is absent.
set -u
BIN=${SS_BIN:?} SHARED=${SS_SHARED:?}
HERE=$(cd "$(dirname "$0")" && pwd)
if [ "${SS_MPI:-OFF}" != "ON" ] && [ "${SS_MPI:-OFF}" != "1" ]; then
    echo "SKIP: slashscope was built without MPI (SS_MPI=OFF: libopenmpi-dev not found)"
    exit 77
fi
if ! command -v mpirun >/dev/null; then
    echo "SKIP: mpirun not found (Debian: openmpi-bin)"
    exit 77
fi
T=${SS_TMP:-/tmp}/cli_study_mpi
rm -rf "$T" && mkdir -p "$T"
fails=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }
PY=/usr/bin/python3
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_btl=self,vader OMPI_MCA_rmaps_base_oversubscribe=1
[ "${SS_SANITIZE:-OFF}" = "ON" ] && export ASAN_OPTIONS=${ASAN_OPTIONS:-}:detect_leaks=0

MODEL=$SHARED/models/stories260K/stories260K.bin
IDS=$SHARED/prompts/stories260K-samples.ids
# 64 prompts for scan-id, 7 OOD prompts (2 does not divide it), 4/4/2 for
# maps, rank and freq; one thread per rank
ARGS=(--ids-file "$IDS" --len 64 --ood 7 --threads 1 --quiet)

"$BIN" study "$MODEL" "${ARGS[@]}" --out "$T/one" >"$T/one.out" 2>"$T/one.err" \
    && ok "one process: $(cat "$T/one.out")" || { fail "one-process study"; cat "$T/one.err"; }
mpirun --oversubscribe -np 2 "$BIN" study "$MODEL" "${ARGS[@]}" --out "$T/two" \
    >"$T/two.out" 2>"$T/two.err" \
    && ok "mpirun -np 2: $(cat "$T/two.out")" || { fail "mpirun -np 2 study"; cat "$T/two.err"; }
[ "$(grep -c "report:" "$T/two.out")" = 1 ] && ok "rank 0 alone prints the summary" \
    || fail "summary lines: $(cat "$T/two.out")"

for st in scan-id scan-ood maps rank freq; do
    if out=$("$PY" "$HERE/mpi_compare.py" "$T/one/$st" "$T/two/$st"); then
        ok "$st spread over 2 ranks = one process ($(tail -1 <<<"$out"))"
    else fail "$st: $out"; fi
done
for f in info/info.json compare/compare.json cone/cone.json cone/cone.csv; do
    cmp -s "$T/one/$f" "$T/two/$f" && ok "$f (rank 0) identical" || fail "$f differs"
done

# the report: every table cell and every verdict
if "$PY" - "$T/one/report.html" "$T/two/report.html" <<'PY'
import sys
import html5lib
def cells(path):
    doc = html5lib.parse(open(path, "rb").read(), namespaceHTMLElements=False)
    out = []
    for t in doc.iter("table"):
        for td in t.iter("td"):
            v = td.get("data-value")
            out.append((t.get("id"), float(v) if v is not None else (td.text or "")))
    verdicts = ["".join(p.itertext()) for p in doc.iter("p")
                if "verdict" in (p.get("class") or "")]
    return out, verdicts
(a, va), (b, vb) = cells(sys.argv[1]), cells(sys.argv[2])
bad = 0
if len(a) != len(b):
    print("cell counts %d vs %d" % (len(a), len(b))); sys.exit(1)
for (ta, x), (tb, y) in zip(a, b):
    if ta != tb:
        bad += 1
    elif isinstance(x, float) and isinstance(y, float):
        if not (x == y or (x != x and y != y) or abs(x - y) <= 1e-9 * max(1, abs(x), abs(y))):
            print("table %s: %r vs %r" % (ta, x, y)); bad += 1
    elif x != y:
        print("table %s: %r vs %r" % (ta, x, y)); bad += 1
if va != vb or not va:
    print("verdicts differ (%d vs %d)" % (len(va), len(vb))); bad += 1
print("%d cells, %d verdicts compared" % (len(a), len(va)))
sys.exit(1 if bad else 0)
PY
then ok "report numbers and verdicts: 2 ranks = one process"; else fail "report differs"; fi

# a failure on rank 0 (no such model) ends every rank, non-zero
mpirun --oversubscribe -np 2 "$BIN" study "$T/nope.bin" "${ARGS[@]}" --out "$T/bad" \
    >"$T/bad.out" 2>"$T/bad.err"
rc=$?
if [ $rc -ne 0 ] && grep -q "nope.bin" "$T/bad.err"; then
    ok "a failing stage ends the job (exit $rc): $(grep -m1 "nope" "$T/bad.err")"
else fail "failing study under mpirun: exit $rc, $(cat "$T/bad.err")"; fi

[ "$fails" -eq 0 ] && echo "cli_study_mpi: all passed"
[ "$fails" -eq 0 ]
