"""Results of the explaining analyses (rank, ...): named arrays that view
the library's memory, and the settings and scalars as a dict."""
import ctypes
import json

import numpy as np

from . import _lib
from ._arrays import view
from ._lib import Error, lib

_TYPES = {0: (ctypes.c_double, np.float64), 1: (ctypes.c_int64, np.int64)}


class Result:
    """A library result: `names` lists its arrays, each an attribute (a
    read-only view, no copy); `meta` holds the settings and scalars."""

    def __init__(self, handle):
        self._h = handle
        self.kind = lib.ss_result_kind(handle).decode()
        self._arrays = {}
        for i in range(lib.ss_result_n_arrays(handle)):
            a = lib.ss_result_array(handle, i).contents
            ctype, dtype = _TYPES[a.type]
            shape = tuple(a.shape[k] for k in range(a.ndim))
            self._arrays[a.name.decode()] = view(ctypes.cast(a.data, ctypes.POINTER(ctype)), shape,
                                                 ctype, dtype, self)
        err = _lib.new_error()
        self.meta = json.loads(_lib.take_string(lib.ss_result_json(handle, ctypes.byref(err)),
                                                err))

    def __del__(self):
        if getattr(self, "_h", None):
            self._arrays = {}
            lib.ss_result_free(self._h)
            self._h = None

    @property
    def names(self):
        return list(self._arrays)

    def __getattr__(self, name):
        arrays = self.__dict__.get("_arrays", {})
        if name in arrays:
            return arrays[name]
        raise AttributeError("%s result has no %r (arrays: %s)" % (
            self.__dict__.get("kind", "?"), name, ", ".join(arrays)))

    def __repr__(self):
        return "%s result (%s)" % (self.kind, ", ".join(
            "%s %s" % (n, "x".join(map(str, a.shape))) for n, a in self._arrays.items()))


def head_list(heads, n_layers, n_heads):
    """The listed heads as a sorted list of (layer, head): None or "all" for
    every head; "L0H1,L3H2"; an iterable of (layer, head) or "LxHy"; or a
    Scan (its SDHs at kappa 0.1, offsets 0..4, the program's --sdh default)."""
    from .scan import Scan
    if heads is None or (isinstance(heads, str) and heads == "all"):
        return [(l, h) for l in range(n_layers) for h in range(n_heads)]
    if isinstance(heads, Scan):
        return sorted({(l, h) for l, h, _, _ in heads.sdh(kappa=0.1, delta=(0, 4))})
    if isinstance(heads, str):
        heads = heads.split(",")
    out = set()
    for x in heads:
        if isinstance(x, str):
            import re
            m = re.fullmatch(r"\s*L(\d+)H(\d+)\s*", x)
            if not m:
                raise Error("heads: %r is not LxHy (e.g. L3H6)" % x)
            x = (int(m.group(1)), int(m.group(2)))
        try:
            l, h = (int(v) for v in x)
        except (TypeError, ValueError):
            raise Error("heads: %r is not a (layer, head) pair" % (x,))
        if not (0 <= l < n_layers and 0 <= h < n_heads):
            raise Error("heads: L%dH%d is outside the model's %d layers x %d heads"
                        % (l, h, n_layers, n_heads))
        out.add((l, h))
    if not out:
        raise Error("heads: no head given")
    return sorted(out)


def column_means(rows, columns, listed):
    """Means of each column over the rows (all, or listed ones), NaN skipped,
    summed in row order as the program's *_summary.csv does."""
    out = {}
    for c in columns:
        s, n = 0.0, 0
        for r in rows:
            if listed and not r["listed"]:
                continue
            v = r[c]
            if v == v:
                s += v
                n += 1
        out[c] = s / n if n else float("nan")
    return out
