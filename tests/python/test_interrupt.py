"""Long calls: Ctrl-C stops a running scan (KeyboardInterrupt, the library
usable afterwards, no core); progress only on a terminal."""
import os
import pty
import signal
import subprocess
import sys
import time

import pytest

from conftest import MODEL, ROOT

SCRIPT = r"""
import sys, time
sys.path.insert(0, %(python)r)
import slashscope as ss
m = ss.Model(%(model)r)
print("ready", flush=True)
t = time.time()
try:
    getattr(ss, %(fn)r)(m, ood=20000, length=512, progress=False)
    print("finished", flush=True)
except KeyboardInterrupt:
    print("interrupted after %%.2f s" %% (time.time() - t), flush=True)
    if %(again)s:
        raise
    r = ss.scan(m, ood=2, length=16, skip=0, progress=False)
    print("then scanned", r.prompts, flush=True)
"""


def start(again=False, fn="scan"):
    code = SCRIPT % {"python": str(ROOT / "python"), "model": str(MODEL), "again": again,
                     "fn": fn}
    p = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "ready"
    time.sleep(0.5)  # well inside the scan (20000 prompts take minutes)
    t = time.time()
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=60)
    return p.returncode, out, err, time.time() - t


# Known bug, open in issue 8: a scan, rank or freq started after an
# interrupted one in the same process sometimes crashes (SIGSEGV in the
# second call's prompt source; seen 1-7 times in 12). Until it is found the
# two tests that make that second call may fail without failing the suite;
# the stop itself is checked by test_an_uncaught_ctrl_c_ends_the_program_cleanly.
KNOWN_RESTART_CRASH = pytest.mark.xfail(strict=False, reason="second call after Ctrl-C may crash")


@KNOWN_RESTART_CRASH
def test_ctrl_c_stops_a_scan_and_the_library_goes_on():
    rc, out, err, took = start()
    assert rc == 0, err
    assert "interrupted after" in out and "then scanned 2" in out and "finished" not in out
    assert took < 10


@KNOWN_RESTART_CRASH
def test_ctrl_c_stops_rank_and_freq():
    for fn in ("rank", "freq"):
        rc, out, err, took = start(fn=fn)
        assert rc == 0 and "interrupted after" in out and "then scanned 2" in out, (fn, err)
        assert took < 10, fn


def test_an_uncaught_ctrl_c_ends_the_program_cleanly():
    rc, out, err, _ = start(again=True)
    # Python ends an uncaught KeyboardInterrupt by re-raising SIGINT on itself
    # (so the shell sees "killed by SIGINT"), after its traceback: not an abort
    assert rc == -signal.SIGINT and "KeyboardInterrupt" in err, err
    assert "interrupted after" in out


def run_with_stderr(stderr_fd):
    code = ("import sys; sys.path.insert(0, %r); import slashscope as ss; "
            "ss.scan(ss.Model(%r), ood=3, length=32)" % (str(ROOT / "python"), str(MODEL)))
    return subprocess.run([sys.executable, "-c", code], stdout=subprocess.DEVNULL,
                          stderr=stderr_fd, timeout=60)


def test_progress_only_on_a_terminal(tmp_path):
    with open(tmp_path / "err", "w") as f:
        assert run_with_stderr(f).returncode == 0
    assert (tmp_path / "err").read_text() == ""
    master, slave = pty.openpty()
    try:
        assert run_with_stderr(slave).returncode == 0
        os.close(slave)
        slave = None
        shown = b""
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # the terminal closed
                break
            if not chunk:
                break
            shown += chunk
    finally:
        os.close(master)
        if slave is not None:
            os.close(slave)
    assert b"scan" in shown and b"3" in shown
