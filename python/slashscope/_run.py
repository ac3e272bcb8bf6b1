"""Long library calls: run in a worker thread so that Ctrl-C reaches Python
while the C code works (the GIL is released during the call), stop it
through the library's interrupt flag, and show progress."""
import ctypes
import os
import sys
import signal
import threading

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


def stop_and_wait(t):
    """Asks the call under way to stop and waits until it has returned; a
    further Ctrl-C meanwhile does not cut the wait short. The request is
    repeated: a run clears the flag when it starts, so one request could
    arrive just before that and be lost."""
    while t.is_alive():
        try:
            _lib.lib.ss_interrupt()
            t.join(0.05)
        except KeyboardInterrupt:
            pass
    _lib.lib.ss_interrupt_clear()


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

    def work():
        # SIGINT belongs to the main thread, which turns it into ss_interrupt:
        # blocked here, so the threads the library starts (OpenMP, OpenBLAS)
        # inherit the mask and a Ctrl-C never lands inside a BLAS kernel.
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            result["rc"] = call(cb)
        except BaseException as e:  # reported in the calling thread
            result["exc"] = e

    t = threading.Thread(target=work, name="slashscope-" + what, daemon=True)
    interrupted = False
    try:
        # started inside the try: a Ctrl-C that Python delivers at any point
        # from here on is caught below, and the call is always stopped and
        # waited for before this returns (else a second call, or the source's
        # close, would run beside a call still under way)
        t.start()
        while t.is_alive():
            t.join(0.1)
    except KeyboardInterrupt:
        interrupted = True
        stop_and_wait(t)
    except BaseException:
        stop_and_wait(t)
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
    try:
        err = _lib.new_error()
        src = ctypes.c_void_p()
        _lib.check(_lib.lib.ss_source_open(model._handle(), ctypes.byref(spec),
                                           ctypes.byref(src), ctypes.byref(err)), err)
        try:
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
