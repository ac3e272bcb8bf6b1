"""Long library calls: run in a worker thread so that Ctrl-C reaches Python
while the C code works (the GIL is released during the call), stop it
through the library's interrupt flag, and show progress."""
import ctypes
import os
import sys
import signal
import threading
import time

from . import _lib


class _Progress:
    """tqdm when it is installed, else one redrawn stderr line; only when
    asked for and stderr is a terminal."""

    def __init__(self, enabled, what, unit):
        self.bar = None
        self.line = False
        self.what, self.unit = what, unit
        if not enabled or not sys.stderr.isatty():
            return
        try:
            from tqdm import tqdm
            self.bar = tqdm(desc=what, unit=unit[:-1] if unit.endswith("s") else unit,
                            file=sys.stderr)
        except ImportError:
            self.line = True

    def update(self, done, total):
        if self.bar is not None:
            if total and self.bar.total != total:
                self.bar.total = total
            self.bar.n = done
            self.bar.refresh()
        elif self.line:
            of = "/%d" % total if total else ""
            sys.stderr.write("\r%s: %d%s %s" % (self.what, done, of, self.unit))
            sys.stderr.flush()

    def close(self):
        if self.bar is not None:
            self.bar.close()
        elif self.line:
            sys.stderr.write("\n")
            sys.stderr.flush()


class _Done:
    """Whether the worker's C call has returned: a plain flag the worker sets
    as its last act, polled with short sleeps. Not Thread.is_alive()/join():
    a KeyboardInterrupt that lands inside join() can mark a thread that is
    still running as finished (CPython issue 90882, Python 3.11 and older),
    and then the call went on in the background, beside the next call, over
    a prompt source already closed: the crash of a scan started after an
    interrupted one. Not threading.Event either: its wait() holds a lock
    that an interrupt can leave in a state the worker's set() blocks on."""

    def __init__(self):
        self.flag = False

    def wait(self, timeout):
        """Sleeps until the flag is set or timeout seconds have passed (1 ms
        steps growing to 20 ms: a short call returns at once); True when set."""
        end = time.monotonic() + timeout
        step = 0.001
        while not self.flag:
            left = end - time.monotonic()
            if left <= 0:
                return False
            time.sleep(min(step, left))
            step = min(step * 2, 0.02)
        return True


def stop_and_wait(done):
    """Asks the call under way to stop and waits until it has returned; a
    further Ctrl-C meanwhile does not cut the wait short. The request is
    repeated: a run clears the flag when it starts, so one request could
    arrive just before that and be lost."""
    while not done.flag:
        try:
            _lib.lib.ss_interrupt()
            done.wait(0.05)
        except KeyboardInterrupt:
            pass
    _lib.lib.ss_interrupt_clear()


class _HeldSigint:
    """Ctrl-C held back while the worker thread starts: Thread.start() is
    Python code, and a KeyboardInterrupt inside it could leave a thread
    that runs (or never will) with nobody knowing which, so a signal that
    arrives meanwhile is only recorded, and release() delivers it again
    through the handler that was in place. SIGINT handlers belong to the
    main thread; elsewhere no KeyboardInterrupt arrives and nothing is held."""

    def __init__(self):
        self.pending = False
        self.old = None
        # (a handler Python did not install could not be put back: then none is held)
        if (threading.current_thread() is threading.main_thread()
                and signal.getsignal(signal.SIGINT) is not None):
            self.old = signal.signal(signal.SIGINT, self._record)

    def _record(self, _signum, _frame):
        self.pending = True

    def release(self):
        if self.old is None:
            return
        signal.signal(signal.SIGINT, self.old)
        self.old = None
        if self.pending:
            signal.raise_signal(signal.SIGINT)


def run_long(call, progress=True, what="scan", unit="prompts"):
    """call(progress_fn) runs the C function and returns its code; it runs in
    a worker thread. Returns the code; KeyboardInterrupt stops the C side
    (ss_interrupt) and is re-raised once it has returned."""
    bar = _Progress(progress, what, unit)

    def on_progress(_user, done, total):
        bar.update(done, total)
        return 0

    cb = _lib.PROGRESS_FN(on_progress)
    result = {}
    done = _Done()

    def work():
        # SIGINT belongs to the main thread, which turns it into ss_interrupt:
        # blocked here, so the threads the library starts (OpenMP, OpenBLAS)
        # inherit the mask and a Ctrl-C never lands inside a BLAS kernel.
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            result["rc"] = call(cb)
        except BaseException as e:  # reported in the calling thread
            result["exc"] = e
        finally:
            done.flag = True

    t = threading.Thread(target=work, name="slashscope-" + what, daemon=True)
    interrupted = False
    held = _HeldSigint()
    try:
        t.start()
    except BaseException:  # no thread: nothing runs, nothing to wait for
        bar.close()
        held.release()
        raise
    try:
        # a Ctrl-C from here on (the one held during the start included) is
        # caught below, and the call is always stopped and waited for before
        # this returns (else a second call, or the source's close, would run
        # beside a call still under way)
        held.release()
        while not done.wait(0.1):
            pass
    except KeyboardInterrupt:
        interrupted = True
        stop_and_wait(done)
    except BaseException:
        stop_and_wait(done)
        raise
    finally:
        bar.close()
    if interrupted:
        raise KeyboardInterrupt
    if "exc" in result:
        raise result["exc"]
    return result["rc"]


def run_pass(model, c_fn, spec, temp, p, what, progress, *args):
    """Opens the prompt source `spec` (temp: a temporary file behind it, removed
    afterwards), runs c_fn(model, src, *args, params, out, err) in a worker
    thread with p.progress set, and returns the result handle."""
    src = ctypes.c_void_p()  # NULL until opened; ss_source_close(NULL) does nothing
    try:
        err = _lib.new_error()
        try:
            # inside the try that closes it: a Ctrl-C that Python raises just
            # after the open returned does not leak the source
            _lib.check(_lib.lib.ss_source_open(model._handle(), ctypes.byref(spec),
                                               ctypes.byref(src), ctypes.byref(err)), err)
            out = ctypes.c_void_p()

            def call(cb):
                p.progress = cb
                return c_fn(model._handle(), src, *args, ctypes.byref(p), ctypes.byref(out),
                            ctypes.byref(err))

            rc = run_long(call, progress, what, "prompts")
            if rc == _lib.SS_STOP:
                raise KeyboardInterrupt
            _lib.check(rc, err)
            return out
        finally:
            _lib.lib.ss_source_close(src)
    finally:
        if temp:
            os.unlink(temp)
