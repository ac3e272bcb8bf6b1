#!/bin/bash
# The Python package's tests (tests/python/test_*.py) with Debian's
# /usr/bin/python3 -m pytest, against this build's libslashscope.so and
# program. Any pytest failure fails this test, and so does a run that
# collected fewer tests than the suite has (pytest's exit 5, "no tests",
# or a module that stopped importing), so the suite cannot pass by vanishing.
set -u
SRC=${SS_SOURCE_DIR:?} BUILD=${SS_BUILD_DIR:?}
if [ "${SS_SANITIZE:-OFF}" = ON ]; then
    # the interpreter is not built with the sanitizers: the release run covers Python
    echo "cli_python: skipped in the sanitizer build"
    exit 77
fi
T=${SS_TMP:-/tmp}/cli_python.$$
rm -rf "$T" && mkdir -p "$T"
trap 'rm -rf "$T"' EXIT
export SLASHSCOPE_LIB=$BUILD/libslashscope.so PYTHONPATH=$SRC/python${PYTHONPATH:+:$PYTHONPATH}
export PYTHONDONTWRITEBYTECODE=1
/usr/bin/python3 -m pytest -q -p no:cacheprovider --basetemp="$T/pytest" \
    --junitxml="$T/junit.xml" "$SRC/tests/python"
rc=$?
[ "$rc" -eq 0 ] || { echo "FAIL: pytest exited with $rc"; exit 1; }
# every test function defined in the suite must have run
defined=$(cat "$SRC"/tests/python/test_*.py | grep -c '^def test_')
ran=$(/usr/bin/python3 -c "import sys, xml.etree.ElementTree as E
r = E.parse(sys.argv[1]).getroot(); s = r if r.tag == 'testsuite' else r[0]
print(int(s.get('tests')) - int(s.get('skipped')) - int(s.get('failures')) - int(s.get('errors')))" \
    "$T/junit.xml")
if [ "$ran" -lt "$defined" ] || [ "$defined" -lt 20 ]; then
    echo "FAIL: $ran tests ran, the suite defines $defined"
    exit 1
fi
echo "cli_python: $ran tests passed"
