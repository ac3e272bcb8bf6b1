"""slashscope: find and explain slash-dominant attention heads (SDHs) in RoPE
language models, from Python. A thin layer over libslashscope (ctypes):
the numbers are those of the `slashscope` program, bit for bit.

    import slashscope as ss
    m = ss.Model("../shared/models/stories260K/stories260K.bin")
    r = ss.scan(m, ood=8, length=256, seed=1)
    r.sdh(kappa=0.1, delta=(0, 4))

docs/python.md walks through the paper's study."""
from ._lib import Error, lib as _clib
from .model import Model
from .cone import Cone, Theory, cone, theory
from .freq import Freq, freq
from .ppl import Ppl, ppl
from .rank import Rank, rank
from .result import Result
from .scan import Comparison, Scan, compare, load_scan, merge, scan

__version__ = _clib.ss_version().decode()


def set_threads(n):
    """Threads for the library's OpenMP and OpenBLAS (process-wide)."""
    _clib.ss_set_threads(int(n))


__all__ = ["Error", "Model", "Scan", "Comparison", "Result", "Rank", "scan", "load_scan", "merge",
           "compare", "rank", "freq", "Freq", "ppl", "Ppl", "cone", "Cone", "theory", "Theory",
           "set_threads", "__version__"]
