"""Loading libslashscope and declaring its C functions (include/slashscope.h).

The library is looked for, in order: the file named by $SLASHSCOPE_LIB; a
copy installed inside this package (pip install ./python); the build tree
this package sits in (../../build/libslashscope.so, so the package works from
a checkout after `cmake --build build`); the system's library path.
"""
import ctypes
import ctypes.util
import os
from pathlib import Path

from . import _blas

c_int, c_int64, c_double, c_char_p, c_void_p = (ctypes.c_int, ctypes.c_int64, ctypes.c_double,
                                                ctypes.c_char_p, ctypes.c_void_p)
P = ctypes.POINTER


class Error(Exception):
    """A slashscope error: `code` is the library's code name ("io", "format",
    "usage", ...), the message says which file, field or parameter is wrong."""

    def __init__(self, message, code="usage"):
        super().__init__(message)
        self.code = code


class _Error(ctypes.Structure):
    _fields_ = [("code", c_int), ("msg", ctypes.c_char * 1024)]


class ModelDims(ctypes.Structure):
    _fields_ = [(n, c_int) for n in ("n_layers", "n_heads", "n_kv_heads", "head_dim", "d_model",
                                     "d_ff", "vocab", "context", "n_freq", "bos_id", "eos_id")]


class RunOpts(ctypes.Structure):
    _fields_ = [("rope_remove", P(c_int)), ("n_rope_remove", c_int), ("use_p_rope", c_int),
                ("p_rope", c_double), ("allow_long", c_int), ("ablate", c_char_p),
                ("head_rope_remove", P(c_char_p)), ("n_head_rope_remove", c_int)]


class PromptSpec(ctypes.Structure):
    _fields_ = [("kind", c_int), ("path", c_char_p), ("field", c_char_p),
                ("tokenizer", c_char_p), ("len", c_int), ("chunk", c_int), ("count", c_int64),
                ("seed", ctypes.c_uint64), ("segment", c_int), ("vocab", c_int), ("bos", c_int),
                ("allow_long", c_int)]


PROGRESS_FN = ctypes.CFUNCTYPE(c_int, c_void_p, c_int64, c_int64)


class ScanParams(ctypes.Structure):
    _fields_ = [("skip", c_int), ("block_rows", c_int), ("threads", c_int), ("run", RunOpts),
                ("progress", PROGRESS_FN), ("progress_user", c_void_p), ("maps", c_char_p),
                ("map_size", c_int)]


class ScanDims(ctypes.Structure):
    _fields_ = [("n_layers", c_int), ("n_heads", c_int), ("len", c_int), ("skip", c_int),
                ("prompts", c_int64)]


class SdhEntry(ctypes.Structure):
    _fields_ = [("layer", c_int), ("head", c_int), ("delta", c_int), ("score", c_double)]


class CompareEntry(ctypes.Structure):
    _fields_ = [("layer", c_int), ("head", c_int), ("delta", c_int), ("score_id", c_double),
                ("score_ood", c_double), ("ratio", c_double)]


class FiveNumbers(ctypes.Structure):
    _fields_ = [("n", c_int)] + [(n, c_double) for n in ("min", "q1", "median", "q3", "max")]


class Array(ctypes.Structure):
    _fields_ = [("name", c_char_p), ("type", c_int), ("ndim", c_int),
                ("shape", c_int64 * 4), ("data", c_void_p)]


class PassParams(ctypes.Structure):
    _fields_ = [("run", RunOpts), ("threads", c_int), ("progress", PROGRESS_FN),
                ("progress_user", c_void_p)]


class FreqParams(ctypes.Structure):
    _fields_ = [("heads", P(c_int)), ("n_heads", c_int), ("row", c_int), ("skip", c_int),
                ("inp_rows", c_int), ("max_delta", c_int), ("active_frac", c_double),
                ("bands", c_int), ("remove", P(c_int)), ("n_remove", c_int)]


class ConeParams(ctypes.Structure):
    _fields_ = [("tau", c_double), ("max_delta", c_int), ("seed", ctypes.c_uint64),
                ("chunk", c_int), ("heads", P(c_int)), ("n_heads", c_int)]


class TheoryParams(ctypes.Structure):
    _fields_ = [("n_in", c_int), ("features", c_int), ("d_x", c_int), ("d_c", c_int),
                ("delta", c_int), ("freqs", c_char_p), ("base", c_double), ("p_rope", c_double),
                ("eta1", c_double), ("eta2", c_double), ("tau1", c_int), ("tau2", c_int),
                ("batch", c_int), ("seed", ctypes.c_uint64), ("kappa", c_double),
                ("L", c_double), ("eval_prompts", c_int)]


PROMPTS_TEXT, PROMPTS_IDS, PROMPTS_OOD, PROMPTS_REPEAT = range(4)
SS_STOP = 10

# name: (restype, argtypes)
_PROTOTYPES = {
    "ss_version": (c_char_p, []),
    "ss_code_name": (c_char_p, [c_int]),
    "ss_free": (None, [c_void_p]),
    "ss_set_threads": (None, [c_int]),
    "ss_interrupt": (None, []),
    "ss_interrupted": (c_int, []),
    "ss_interrupt_clear": (None, []),
    "ss_model_open": (c_int, [c_char_p, P(c_void_p), P(_Error)]),
    "ss_model_close": (None, [c_void_p]),
    "ss_model_with_lowrank": (c_int, [c_void_p, c_char_p, P(c_void_p), P(_Error)]),
    "ss_model_get_dims": (None, [c_void_p, P(ModelDims)]),
    "ss_model_config_json": (c_void_p, [c_void_p, P(_Error)]),
    "ss_model_theta": (P(c_double), [c_void_p, P(c_int)]),
    "ss_logits": (c_int, [c_void_p, P(ctypes.c_int32), c_int, P(RunOpts), P(ctypes.c_float),
                          P(_Error)]),
    "ss_attention": (c_int, [c_void_p, P(ctypes.c_int32), c_int, c_int, c_int, P(RunOpts),
                             P(ctypes.c_float), P(_Error)]),
    "ss_tokenizer_open": (c_int, [c_char_p, P(c_void_p), P(_Error)]),
    "ss_tokenizer_free": (None, [c_void_p]),
    "ss_tokenizer_encode": (c_int, [c_void_p, c_char_p, ctypes.c_size_t, c_int,
                                    P(P(ctypes.c_int32)), P(ctypes.c_size_t), P(_Error)]),
    "ss_tokenizer_decode": (c_int, [c_void_p, P(ctypes.c_int32), ctypes.c_size_t,
                                    P(c_void_p), P(ctypes.c_size_t), P(_Error)]),
    "ss_tokenizer_adds_bos": (c_int, [c_void_p]),
    "ss_tokenizer_vocab_size": (c_int, [c_void_p]),
    "ss_tokenizer_piece": (c_char_p, [c_void_p, c_int]),
    "ss_source_open": (c_int, [c_void_p, P(PromptSpec), P(c_void_p), P(_Error)]),
    "ss_source_close": (None, [c_void_p]),
    "ss_source_records": (c_int64, [c_void_p]),
    "ss_source_sha256": (c_char_p, [c_void_p]),
    "ss_scan_defaults": (ScanParams, []),
    "ss_run_scan": (c_int, [c_void_p, c_void_p, P(ScanParams), P(c_void_p), P(_Error)]),
    "ss_scan_free": (None, [c_void_p]),
    "ss_scan_get_dims": (None, [c_void_p, P(ScanDims)]),
    "ss_scan_slash_sum": (P(c_double), [c_void_p]),
    "ss_scan_slash_count": (P(c_int64), [c_void_p]),
    "ss_scan_slash": (c_int, [c_void_p, P(c_double), P(_Error)]),
    "ss_scan_slash_sumsq": (P(c_double), [c_void_p]),
    "ss_scan_n_maps": (c_int, [c_void_p]),
    "ss_scan_map_bins": (c_int, [c_void_p]),
    "ss_scan_map_head": (None, [c_void_p, c_int, P(c_int), P(c_int)]),
    "ss_scan_map_mean": (c_int, [c_void_p, c_int, P(c_double), P(_Error)]),
    "ss_scan_map_sums": (P(c_double), [c_void_p]),
    "ss_scan_spread": (c_int, [c_void_p, P(c_double), P(c_double), P(_Error)]),
    "ss_scan_meta_json": (c_void_p, [c_void_p, P(_Error)]),
    "ss_scan_save": (c_int, [c_void_p, c_char_p, P(_Error)]),
    "ss_scan_save_replace": (c_int, [c_void_p, c_char_p, P(_Error)]),
    "ss_scan_load": (c_int, [c_char_p, P(c_void_p), P(_Error)]),
    "ss_scan_merge_all": (c_int, [P(c_void_p), c_int, P(c_void_p), P(_Error)]),
    "ss_scan_sdh": (c_int, [c_void_p, c_double, c_int, c_int, P(P(SdhEntry)), P(c_int),
                            P(_Error)]),
    "ss_scan_compare": (c_int, [c_void_p, c_void_p, c_double, c_int, c_int,
                                P(P(CompareEntry)), P(c_int), P(FiveNumbers), P(_Error)]),
    "ss_result_kind": (c_char_p, [c_void_p]),
    "ss_result_n_arrays": (c_int, [c_void_p]),
    "ss_result_array": (P(Array), [c_void_p, c_int]),
    "ss_result_json": (c_void_p, [c_void_p, P(_Error)]),
    "ss_result_free": (None, [c_void_p]),
    "ss_run_rank": (c_int, [c_void_p, c_void_p, P(c_double), c_int, P(PassParams), P(c_void_p),
                            P(_Error)]),
    "ss_run_ppl": (c_int, [c_void_p, c_void_p, P(PassParams), P(c_void_p), P(_Error)]),
    "ss_freq_defaults": (FreqParams, []),
    "ss_run_freq": (c_int, [c_void_p, c_void_p, P(FreqParams), P(PassParams), P(c_void_p),
                            P(_Error)]),
    "ss_cone_defaults": (ConeParams, []),
    "ss_run_cone": (c_int, [c_void_p, P(ConeParams), P(c_void_p), P(_Error)]),
    "ss_theory_defaults": (TheoryParams, []),
    "ss_run_theory": (c_int, [P(TheoryParams), P(c_void_p), P(_Error)]),
}


def _candidates():
    env = os.environ.get("SLASHSCOPE_LIB")
    if env:
        return [Path(env)]  # asked for: only that one
    here = Path(__file__).resolve().parent
    out = [here / "libslashscope.so", here.parent.parent / "build" / "libslashscope.so"]
    system = ctypes.util.find_library("slashscope")
    if system:
        out.append(Path(system))
    return out


def _load():
    tried = []
    for path in _candidates():
        if path.is_absolute() and not path.exists():
            tried.append(str(path))
            continue
        _blas.choose(path)  # before OpenBLAS loads with the library
        lib = ctypes.CDLL(str(path))  # CDLL: every call releases the GIL
        for name, (res, args) in _PROTOTYPES.items():
            fn = getattr(lib, name)
            fn.restype, fn.argtypes = res, args
        return lib, str(path)
    raise ImportError("slashscope: libslashscope.so not found (tried %s); build it with "
                      "`cmake --build build` or set SLASHSCOPE_LIB to its path"
                      % ", ".join(tried or ["the system library path"]))


lib, path = _load()


def new_error():
    return _Error()


def check(rc, err):
    """Raises Error with the library's message for a non-zero code."""
    if rc:
        code = lib.ss_code_name(rc).decode()
        raise Error(err.msg.decode("utf-8", "replace") or code, code)


def take_string(ptr, err):
    """A malloc'd C string returned by the library, as str (and freed)."""
    if not ptr:
        check(err.code or 8, err)
    try:
        return ctypes.string_at(ptr).decode("utf-8")
    finally:
        lib.ss_free(ptr)


def fspath(p, what):
    try:
        return os.fsencode(os.fspath(p))
    except TypeError:
        raise Error("%s must be a path (str or os.PathLike), got %s" % (what, type(p).__name__))
