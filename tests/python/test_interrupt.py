"""Long calls: Ctrl-C stops a running scan (KeyboardInterrupt, the library
usable afterwards, no core); progress only on a terminal."""
import os
import pty
import signal
import subprocess
import sys
import time

from conftest import MODEL, ROOT

# Both scripts install Python's own SIGINT handler: a process started from a
# shell's background job inherits SIGINT ignored, and Python then keeps it so.
SCRIPT = r"""
import signal, sys, time
signal.signal(signal.SIGINT, signal.default_int_handler)
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


def test_ctrl_c_stops_a_scan_and_the_library_goes_on():
    rc, out, err, took = start()
    assert rc == 0, err
    assert "interrupted after" in out and "then scanned 2" in out and "finished" not in out
    assert took < 10


def test_ctrl_c_stops_rank_and_freq():
    for fn in ("rank", "freq"):
        rc, out, err, took = start(fn=fn)
        assert rc == 0 and "interrupted after" in out and "then scanned 2" in out, (fn, err)
        assert took < 10, fn


# The cause of the crash of a call made after an interrupted one: the
# KeyboardInterrupt landed inside Thread.join(), which then marks the worker
# as finished although it runs on (CPython issue 90882), so the call was
# never asked to stop and went on beside the next one over a closed prompt
# source. A stand-in for the C call that ends only on ss_interrupt, and only
# some time after it, shows whether a Ctrl-C returns before the call has.
WAITS = r"""
import signal, sys, threading, time
signal.signal(signal.SIGINT, signal.default_int_handler)
sys.path.insert(0, %(python)r)
from slashscope import _lib, _run
main = threading.get_ident()
for k in range(%(rounds)d):
    ended = []
    def call(_cb):
        give_up = time.monotonic() + 3
        while not _lib.lib.ss_interrupted() and time.monotonic() < give_up:
            time.sleep(0.005)
        asked = bool(_lib.lib.ss_interrupted())
        time.sleep(0.2)  # the pass winds down: the prompt under way ends first
        ended.append(asked)
        return _lib.SS_STOP
    threading.Timer(0.15 + 0.01 * k, signal.pthread_kill, (main, signal.SIGINT)).start()
    try:
        _run.run_long(call, progress=False)
        print("not interrupted")
    except KeyboardInterrupt:
        print("returned after the call: %%s, asked to stop: %%s, flag cleared: %%s" %% (
            bool(ended), ended == [True], not _lib.lib.ss_interrupted()), flush=True)
"""


def test_a_ctrl_c_returns_only_once_the_call_has():
    rounds = 8
    code = WAITS % {"python": str(ROOT / "python"), "rounds": rounds}
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       timeout=120)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert lines == ["returned after the call: True, asked to stop: True, flag cleared: True"
                     ] * rounds, p.stdout


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
