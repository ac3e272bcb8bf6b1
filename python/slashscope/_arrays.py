"""NumPy arrays over memory the library owns, without copying: the array's
base chain ends in a ctypes buffer that holds a reference to the owning
Python object, so the C memory lives as long as any view of it."""
import ctypes

import numpy as np


def view(ptr, shape, ctype, dtype, owner):
    """A read-only array of `shape` over ptr (a ctypes pointer into memory
    owned by `owner`, whose lifetime the array extends)."""
    n = int(np.prod(shape, dtype=np.int64))
    addr = ctypes.cast(ptr, ctypes.c_void_p).value
    if n == 0 or not addr:
        return np.zeros(shape, dtype=dtype)
    buf = (ctype * n).from_address(addr)
    buf._owner = owner  # keeps the handle (and so the memory) alive
    a = np.frombuffer(buf, dtype=dtype).reshape(shape)
    a.flags.writeable = False
    return a


def as_ids(ids, what="ids"):
    """A C-contiguous int32 array of token ids from any 1-D sequence of
    integers; values that do not fit int32 are refused, not wrapped."""
    from ._lib import Error
    try:
        a = np.asarray(ids)
    except (TypeError, ValueError) as e:
        raise Error("%s: not a sequence of token ids (%s)" % (what, e))
    if a.ndim != 1:
        raise Error("%s: want a 1-D sequence of token ids, got shape %s" % (what, a.shape))
    if a.size == 0:
        raise Error("%s: the sequence is empty" % what)
    if not np.issubdtype(a.dtype, np.integer):
        raise Error("%s: token ids must be integers, got dtype %s" % (what, a.dtype))
    if a.min() < 0 or a.max() > np.iinfo(np.int32).max:
        bad = a[(a < 0) | (a > np.iinfo(np.int32).max)][0]
        raise Error("%s: token id %d is not a valid id (0..2^31-1)" % (what, bad), "value")
    return np.ascontiguousarray(a, dtype=np.int32)


def as_int(x, what):
    """An int from an integer-like argument, else Error naming it."""
    from ._lib import Error
    if isinstance(x, bool) or not isinstance(x, (int, np.integer)):
        raise Error("%s must be an integer, got %r" % (what, x))
    return int(x)
