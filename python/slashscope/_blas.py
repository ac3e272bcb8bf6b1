"""The BLAS kernels, chosen before the library loads. OpenBLAS picks its
kernels when it is loaded and reads OPENBLAS_CORETYPE only then, so the
choice the slashscope program makes at start-up (ss_blas_select_core: the
best core the CPU supports, a self-check, SLASHSCOPE_BLAS_CORE) runs here
in a short child process that loads the library, runs itself again when
asked to, and reports the core and how it was chosen. This process then
sets OPENBLAS_CORETYPE and the program's record of the decision (keyed by
its own pid, read by every result's "blas" object) before loading the
library itself. An OPENBLAS_CORETYPE set by the user is left as it is."""
import os
import subprocess
import sys

STATE = "SLASHSCOPE_BLAS_STATE"  # engine/blas.c's record: "PID done TEXT"

# Runs itself again (sys.orig_argv: the same command line, the same pid)
# when the selection asks for it, then prints the core and the record.
_CHILD = r"""
import ctypes, os, sys
lib = ctypes.CDLL(sys.argv[1])
if lib.ss_blas_select_core():
    os.execv(sys.executable, sys.orig_argv)
getenv = ctypes.CDLL(None).getenv
getenv.restype = ctypes.c_char_p
for name in (b"OPENBLAS_CORETYPE", b"SLASHSCOPE_BLAS_STATE"):
    print((getenv(name) or b"").decode())
"""


def _record(text):
    os.environ[STATE] = "%d done %s" % (os.getpid(), text)


def choose(libpath):
    """Sets OPENBLAS_CORETYPE (unless the user has) and the record of the
    choice for the library at libpath, which is not loaded yet."""
    user = os.environ.get("OPENBLAS_CORETYPE")
    if user:
        _record("OPENBLAS_CORETYPE=%s set by the caller (kept)" % user)
        return
    try:
        p = subprocess.run([sys.executable, "-S", "-c", _CHILD, str(libpath)],
                           capture_output=True, text=True, timeout=120)
        lines = p.stdout.splitlines()
        ok = p.returncode == 0 and len(lines) == 2
    except (OSError, subprocess.SubprocessError) as e:
        p, lines, ok, why = None, [], False, str(e)
    if p is not None and p.stderr:
        sys.stderr.write(p.stderr)  # the program's note when a core failed its check
    if not ok:
        if p is not None:
            why = "exit %d: %s" % (p.returncode, p.stderr.strip()[-200:])
        _record("OpenBLAS's own choice (the selection's child process failed, %s)" % why)
        return
    core, state = lines
    _pid, sep, rest = state.partition(" done ")
    if core:
        os.environ["OPENBLAS_CORETYPE"] = core
    _record(rest if sep else "OpenBLAS's own choice (the selection left no record)")
