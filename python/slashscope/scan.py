"""Scans (SPEC.md section 2): ss.scan, the Scan result, save/load in the
program's folder format, merge, SDHs and compare."""
import ctypes
import json
import os
import tempfile

import numpy as np

from . import _lib
from ._arrays import as_ids, as_int, view
from ._lib import Error, check, lib
from ._run import run_pass
from .model import Model, run_opts


def _pandas():
    try:
        import pandas
    except ImportError:
        raise ImportError("to_pandas() needs pandas (apt-get install python3-pandas)") from None
    return pandas


def _delta_range(delta):
    try:
        lo, hi = delta
    except (TypeError, ValueError):
        raise Error("delta must be a (d_min, d_max) pair of offsets, got %r" % (delta,))
    return as_int(lo, "delta[0]"), as_int(hi, "delta[1]")


class Scan:
    """The result of a scan: average slash score of every layer, head and
    offset. `sum`, `count` are read-only views of the library's arrays;
    `slash` = sum / count (NaN where nothing was counted)."""

    def __init__(self, handle):
        self._h = handle
        d = _lib.ScanDims()
        lib.ss_scan_get_dims(handle, ctypes.byref(d))
        self.n_layers, self.n_heads, self.length = d.n_layers, d.n_heads, d.len
        self.skip, self.prompts = d.skip, d.prompts
        self._slash = self._sd = self._half = self._maps = None

    def __del__(self):
        if getattr(self, "_h", None):
            lib.ss_scan_free(self._h)
            self._h = None

    def __repr__(self):
        return "Scan(%d prompts of %d tokens, %d layers x %d heads, skip %d)" % (
            self.prompts, self.length, self.n_layers, self.n_heads, self.skip)

    @property
    def shape(self):
        return (self.n_layers, self.n_heads, self.length)

    @property
    def sum(self):
        """float64 [L, H, N]: per-prompt mean slash scores summed over prompts."""
        return view(lib.ss_scan_slash_sum(self._h), self.shape, ctypes.c_double, np.float64,
                    self)

    @property
    def count(self):
        """int64 [L, H, N]: prompts counted at each offset."""
        return view(lib.ss_scan_slash_count(self._h), self.shape, ctypes.c_int64, np.int64,
                    self)

    @property
    def sumsq(self):
        """float64 [L, H, N]: squares of the per-prompt mean scores summed
        (None for a folder written before slashscope kept them)."""
        ptr = lib.ss_scan_slash_sumsq(self._h)
        if not ptr:
            return None
        return view(ptr, self.shape, ctypes.c_double, np.float64, self)

    def _spread(self):
        if self._sd is None:
            sd = np.empty(self.shape, dtype=np.float64)
            half = np.empty(self.shape, dtype=np.float64)
            err = _lib.new_error()
            dp = ctypes.POINTER(ctypes.c_double)
            check(lib.ss_scan_spread(self._h, sd.ctypes.data_as(dp), half.ctypes.data_as(dp),
                                     ctypes.byref(err)), err)
            sd.flags.writeable = half.flags.writeable = False
            self._sd, self._half = sd, half
        return self._sd, self._half

    @property
    def std(self):
        """float64 [L, H, N]: standard deviation of the per-prompt scores
        (sample, n - 1; NaN where fewer than 2 prompts were counted)."""
        return self._spread()[0]

    @property
    def ci95(self):
        """(low, high), each [L, H, N]: the 95% Student-t interval of the
        average slash score over prompts (as sdh.csv's ci_low, ci_high)."""
        sd, half = self._spread()
        return self.slash - half, self.slash + half

    @property
    def slash(self):
        """float64 [L, H, N]: the average slash score (the program's slash.npy)."""
        if self._slash is None:
            out = np.empty(self.shape, dtype=np.float64)
            err = _lib.new_error()
            check(lib.ss_scan_slash(self._h, out.ctypes.data_as(ctypes.POINTER(ctypes.c_double)),
                                    ctypes.byref(err)), err)
            out.flags.writeable = False
            self._slash = out
        return self._slash

    @property
    def maps(self):
        """The pooled mean attention maps kept (scan's maps=): a dict from
        head name ("L0H1") to float64 [B, B] block means, heads ascending;
        the program's maps/LxHy.npy hold the same values as float32."""
        if self._maps is None:
            out = {}
            bins = lib.ss_scan_map_bins(self._h)
            for k in range(lib.ss_scan_n_maps(self._h)):
                layer, head = ctypes.c_int(), ctypes.c_int()
                lib.ss_scan_map_head(self._h, k, ctypes.byref(layer), ctypes.byref(head))
                m = np.empty((bins, bins), dtype=np.float64)
                err = _lib.new_error()
                check(lib.ss_scan_map_mean(self._h, k,
                                           m.ctypes.data_as(ctypes.POINTER(ctypes.c_double)),
                                           ctypes.byref(err)), err)
                m.flags.writeable = False
                out["L%dH%d" % (layer.value, head.value)] = m
            self._maps = out
        return self._maps

    @property
    def map_sums(self):
        """float64 [n_maps, B, B]: the block sums behind `maps` (a view; the
        program's maps/sums.npy, what merge adds); None without maps."""
        ptr = lib.ss_scan_map_sums(self._h)
        if not ptr:
            return None
        bins = lib.ss_scan_map_bins(self._h)
        return view(ptr, (lib.ss_scan_n_maps(self._h), bins, bins), ctypes.c_double,
                    np.float64, self)

    @property
    def meta(self):
        """scan.json as a dict: settings, model, prompt sources, counts, timing."""
        err = _lib.new_error()
        return json.loads(_lib.take_string(lib.ss_scan_meta_json(self._h, ctypes.byref(err)), err))

    def sdh(self, kappa=0.1, delta=(0, 4)):
        """Slash-dominant heads: (layer, head, delta, score) with score >=
        kappa and delta in the inclusive range, strongest first."""
        lo, hi = _delta_range(delta)
        out = ctypes.POINTER(_lib.SdhEntry)()
        n = ctypes.c_int()
        err = _lib.new_error()
        check(lib.ss_scan_sdh(self._h, float(kappa), lo, hi, ctypes.byref(out), ctypes.byref(n),
                              ctypes.byref(err)), err)
        try:
            rows = [(out[k].layer, out[k].head, out[k].delta, out[k].score) for k in range(n.value)]
        finally:
            lib.ss_free(out)
        return sorted(rows, key=lambda r: (-r[3], r[0], r[1], r[2]))

    def save(self, directory, force=False):
        """Writes the program's scan folder (slash*.npy, scan.json, sdh.csv,
        SHA256SUMS) in one transaction; a finished result there is refused
        unless force, which replaces it whole (docs/results.md)."""
        err = _lib.new_error()
        fn = lib.ss_scan_save_replace if force else lib.ss_scan_save
        check(fn(self._h, _lib.fspath(directory, "directory"), ctypes.byref(err)), err)

    def to_pandas(self):
        """One row per (layer, head, delta): slash, std, sum, count."""
        pd = _pandas()
        L, H, N = self.shape
        l, h, d = np.meshgrid(np.arange(L), np.arange(H), np.arange(N), indexing="ij")
        return pd.DataFrame({"layer": l.ravel(), "head": h.ravel(), "delta": d.ravel(),
                             "slash": self.slash.ravel(), "std": self.std.ravel(),
                             "sum": self.sum.ravel(),
                             "count": self.count.ravel()})


def _write_ids(ids):
    """Sequences of ids given in memory: a temporary ids file (one sequence
    per line), the form the library reads and hashes."""
    try:
        seqs = [as_ids(s, "ids[%d]" % k) for k, s in enumerate(ids)]
    except TypeError:
        raise Error("ids: want a path or a sequence of token-id sequences")
    if not seqs:
        raise Error("ids: no sequences given")
    fd, path = tempfile.mkstemp(prefix="slashscope-ids-", suffix=".txt")
    with os.fdopen(fd, "w") as f:
        for s in seqs:
            f.write(" ".join(map(str, s.tolist())) + "\n")
    return path


def _spec(model, prompts, ids, ood, repeat, length, seed, count, field, chunk, tokenizer,
          vocab, bos, allow_long):
    given = [k for k, v in (("prompts", prompts), ("ids", ids), ("ood", ood),
                            ("repeat", repeat)) if v is not None]
    if len(given) != 1:
        raise Error("give exactly one of prompts=, ids=, ood=, repeat= (got %s)"
                    % (", ".join(given) or "none"))
    if length is None:
        raise Error("length= (tokens per prompt) is required")
    s = _lib.PromptSpec()
    s.len = as_int(length, "length")
    seed = as_int(seed, "seed") if seed is not None else 0
    if not 0 <= seed < 2 ** 64:
        raise Error("seed must be from 0 to 2^64-1, got %d" % seed)
    s.seed = seed
    s.count = as_int(count, "count") if count is not None else 0
    s.chunk, s.bos, s.allow_long = int(bool(chunk)), int(bool(bos)), int(bool(allow_long))
    s.vocab = as_int(vocab, "vocab") if vocab is not None else 0
    s.field = field.encode() if field is not None else None
    s.tokenizer = _lib.fspath(tokenizer, "tokenizer") if tokenizer is not None else None
    temp = None
    if prompts is not None:
        s.kind, s.path = _lib.PROMPTS_TEXT, _lib.fspath(prompts, "prompts")
    elif ids is not None:
        s.kind = _lib.PROMPTS_IDS
        if isinstance(ids, (str, bytes, os.PathLike)):
            s.path = _lib.fspath(ids, "ids")
        else:
            temp = _write_ids(ids)
            s.path = temp.encode()
    elif ood is not None:
        if count is not None:
            raise Error("ood= is the number of prompts itself: drop count=")
        s.kind, s.count = _lib.PROMPTS_OOD, as_int(ood, "ood")
    else:
        s.kind = _lib.PROMPTS_REPEAT
        if isinstance(repeat, tuple):
            if len(repeat) != 2 or count is not None:
                raise Error("repeat= is SEG with count=P, or (SEG, P)")
            repeat, s.count = repeat[0], as_int(repeat[1], "repeat[1]")
        elif count is None:
            raise Error("repeat=SEG needs count=P (the number of prompts)")
        s.segment = as_int(repeat, "repeat")
    return s, temp


def scan(model, prompts=None, ids=None, ood=None, repeat=None, length=None, skip=4, seed=0,
         threads=None, progress=True, rope_remove=None, p_rope=None, count=None, field=None,
         chunk=False, tokenizer=None, vocab=None, bos=False, allow_long=False, block_rows=None,
         maps=None, map_size=None, ablate=None, head_rope_remove=None):
    """Average slash score of every head and offset over one prompt source
    (exactly one of):

    prompts=PATH   text: one prompt per line, JSONL (field=, default "context"
                   then "text"), or a folder of .txt files; tokenized by the
                   model's tokenizer (or tokenizer=), cut to `length`
    ids=PATH | [[id, ...], ...]   token-id sequences
    ood=COUNT      COUNT prompts of uniform random ids (seed=, vocab=, bos=)
    repeat=SEG     a random segment of SEG ids repeated (count= prompts)

    maps= keeps pooled mean attention maps (r.maps) as `scan --maps`:
    "L0H1,L3H2", "all", "sdh" (this scan's SDHs) or "sdh:DIR"; map_size=
    bins per side (default 256).

    ablate="L1H3,L2H0[:zero|:mean]" and head_rope_remove="L1H3:1-3" (or a
    list) intervene as the program's --ablate / --head-rope-remove.

    The same settings as `slashscope scan` give the same numbers bit for bit.
    Ctrl-C stops the scan (KeyboardInterrupt)."""
    if not isinstance(model, Model):
        raise Error("scan: model must be an ss.Model, got %s" % type(model).__name__)
    spec, temp = _spec(model, prompts, ids, ood, repeat, length, seed, count, field, chunk,
                       tokenizer, vocab, bos, allow_long)
    p = lib.ss_scan_defaults()
    p.skip = as_int(skip, "skip")
    p.threads = as_int(threads, "threads") if threads is not None else 0
    p.block_rows = as_int(block_rows, "block_rows") if block_rows is not None else 0
    p.run, keep = run_opts(rope_remove, p_rope, allow_long, ablate, head_rope_remove)
    if maps is not None:
        if isinstance(maps, (list, tuple)):
            maps = ",".join(maps)
        if not isinstance(maps, (str, os.PathLike)):
            raise Error("maps must be a head list like \"L0H1,L3H2\", \"all\", \"sdh\" or "
                        "\"sdh:DIR\", got %s" % type(maps).__name__)
        p.maps = os.fsencode(maps)
    p.map_size = as_int(map_size, "map_size") if map_size is not None else 0
    h = run_pass(model, lib.ss_run_scan, spec, temp, p, "scan", progress)
    del keep
    return Scan(h)


def load_scan(directory):
    """A scan folder written by `slashscope scan`/`merge` or Scan.save."""
    err = _lib.new_error()
    h = ctypes.c_void_p()
    check(lib.ss_scan_load(_lib.fspath(directory, "directory"), ctypes.byref(h),
                           ctypes.byref(err)), err)
    return Scan(h)


def merge(scans):
    """One scan from scans of the same model and settings over disjoint
    prompt sets: sums and counts add, exactly."""
    scans = list(scans)
    for k, s in enumerate(scans):
        if not isinstance(s, Scan):
            raise Error("merge: item %d is a %s, not a Scan" % (k, type(s).__name__))
    arr = (ctypes.c_void_p * max(len(scans), 1))(*[s._h for s in scans])
    out = ctypes.c_void_p()
    err = _lib.new_error()
    check(lib.ss_scan_merge_all(arr, len(scans), ctypes.byref(out), ctypes.byref(err)), err)
    return Scan(out)


class Comparison:
    """In-distribution vs OOD (Figure 7): per SDH of the first scan its score
    on both and the ratio OOD / ID; `summary` is the five-number summary of
    the finite ratios (numpy's default quantiles)."""

    columns = ("layer", "head", "delta", "score_id", "score_ood", "ratio")

    def __init__(self, rows, summary, kappa, delta):
        self.rows, self.summary, self.kappa, self.delta = rows, summary, kappa, delta

    def __len__(self):
        return len(self.rows)

    def __iter__(self):
        return iter(self.rows)

    def __repr__(self):
        s = self.summary
        return "Comparison(%d SDHs at kappa %g, delta %d..%d; median ratio %.4g)" % (
            len(self.rows), self.kappa, self.delta[0], self.delta[1], s["median"])

    def to_pandas(self):
        return _pandas().DataFrame(self.rows, columns=list(self.columns))


def compare(r_id, r_ood, kappa=0.1, delta=(0, 4)):
    """Does each SDH of r_id keep its score in r_ood? Same model and skip."""
    for name, s in (("r_id", r_id), ("r_ood", r_ood)):
        if not isinstance(s, Scan):
            raise Error("compare: %s is a %s, not a Scan" % (name, type(s).__name__))
    lo, hi = _delta_range(delta)
    rows = ctypes.POINTER(_lib.CompareEntry)()
    n = ctypes.c_int()
    five = _lib.FiveNumbers()
    err = _lib.new_error()
    check(lib.ss_scan_compare(r_id._h, r_ood._h, float(kappa), lo, hi, ctypes.byref(rows),
                              ctypes.byref(n), ctypes.byref(five), ctypes.byref(err)), err)
    try:
        out = [tuple(getattr(rows[k], c) for c in Comparison.columns) for k in range(n.value)]
    finally:
        lib.ss_free(rows)
    summary = {c: getattr(five, c) for c in ("n", "min", "q1", "median", "q3", "max")}
    return Comparison(out, summary, float(kappa), (lo, hi))
