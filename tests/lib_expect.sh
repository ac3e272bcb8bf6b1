# Helpers for the CLI tests (sourced; not a test itself: CTest runs
# tests/cli_*.sh). The caller sets $tmp (scratch folder), passed=0, failed=0.
# ok NAME / bad NAME: count a case (bad also shows the captured stderr).
ok() { echo "ok   $1"; passed=$((passed+1)); }
bad() { echo "FAIL $1"; [ -s "$tmp/err" ] && cat "$tmp/err"; failed=$((failed+1)); }
# expect_fail NAME PATTERN CMD...: exit 1 or 2 within 20 s (stdin empty, so
# nothing waits for input), one stderr line matching PATTERN (ERE)
expect_fail() {
  local name=$1 pattern=$2; shift 2
  timeout 20 "$@" >"$tmp/out" 2>"$tmp/err" </dev/null; local rc=$?
  if [ $rc -ne 1 ] && [ $rc -ne 2 ]; then bad "$name: exit $rc (want 1 or 2)"; return; fi
  if ! grep -Eq -- "$pattern" "$tmp/err"; then bad "$name: message does not match /$pattern/"; return; fi
  if [ "$(wc -l <"$tmp/err")" -ne 1 ]; then bad "$name: want one line on stderr"; return; fi
  ok "$name: $(cat "$tmp/err")"
}
# expect_ok NAME CMD...: exit 0 within 60 s
expect_ok() {
  local name=$1; shift
  if timeout 60 "$@" >"$tmp/out" 2>"$tmp/err"; then ok "$name"; else bad "$name: exit $?"; fi
}
