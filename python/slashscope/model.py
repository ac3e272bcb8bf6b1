"""ss.Model: a model file opened by the library, its dimensions and RoPE
schedule, tokenization, logits and one head's attention."""
import ctypes
import json
import os
import weakref

import numpy as np

from . import _lib
from ._arrays import as_ids, as_int, view
from ._lib import Error, check, lib


def run_opts(rope_remove=None, p_rope=None, allow_long=False, ablate=None,
             head_rope_remove=None):
    """The C ss_run_opts for the RoPE ablations and the head interventions
    (ablate="L1H3,L2H0[:zero|:mean]", head_rope_remove="L1H3:1-3" or a list
    of such, as the program's --ablate / --head-rope-remove); the returned
    list keeps the arrays alive while the struct is in use."""
    o = _lib.RunOpts()
    keep = []
    if ablate is not None:
        if not isinstance(ablate, str):
            raise Error("ablate: want heads like \"L1H3,L2H0\" (optionally :zero or :mean), "
                        "got %s" % type(ablate).__name__)
        o.ablate = ablate.encode()
    if head_rope_remove is not None:
        specs = [head_rope_remove] if isinstance(head_rope_remove, str) else list(head_rope_remove)
        if not all(isinstance(x, str) for x in specs):
            raise Error("head_rope_remove: want \"L1H3:1,2,5-8\" or a list of such")
        arr = (ctypes.c_char_p * max(len(specs), 1))(*[x.encode() for x in specs])
        keep.append(arr)
        o.head_rope_remove, o.n_head_rope_remove = arr, len(specs)
    if rope_remove is not None:
        if isinstance(rope_remove, (int, np.integer)):
            rope_remove = [rope_remove]
        l = np.asarray(list(rope_remove))
        if l.size and not np.issubdtype(l.dtype, np.integer):
            raise Error("rope_remove: want 1-based frequency indices (integers), got %s"
                        % l.dtype)
        arr = (ctypes.c_int * max(l.size, 1))(*[int(x) for x in l])
        keep.append(arr)
        o.rope_remove, o.n_rope_remove = arr, int(l.size)
    if p_rope is not None:
        o.use_p_rope, o.p_rope = 1, float(p_rope)
    o.allow_long = 1 if allow_long else 0
    return o, keep


class Model:
    """A model: a Hugging Face folder, a .gguf file or a llama2.c checkpoint.

    >>> m = Model("../shared/models/stories260K/stories260K.bin")
    >>> m.n_layers, m.n_heads, m.head_dim
    """

    def __init__(self, path, _handle=None, _base=None):
        self.path = str(path)
        self._base = _base  # a low-rank model's source, kept open while it is
        self._derived = weakref.WeakSet()
        self.lowrank = None
        if _handle is None:
            err = _lib.new_error()
            h = ctypes.c_void_p()
            check(lib.ss_model_open(_lib.fspath(path, "model path"), ctypes.byref(h),
                                    ctypes.byref(err)), err)
        else:
            h = _handle
        self._h = h
        self._tok = None
        d = _lib.ModelDims()
        lib.ss_model_get_dims(h, ctypes.byref(d))
        self._dims = d
        self.n_layers, self.n_heads, self.n_kv_heads = d.n_layers, d.n_heads, d.n_kv_heads
        self.head_dim, self.context, self.vocab = d.head_dim, d.context, d.vocab
        self.d_model, self.bos_id, self.eos_id = d.d_model, d.bos_id, d.eos_id

    def with_lowrank(self, plan):
        """A NEW Model: this one with a compress plan's low-rank W_Q / W_K, as
        the program's --lowrank PLAN[@THRE,RANK_THRE] (plan: a `slashscope
        compress` result folder, "@THRE,RANK_THRE" choosing its pair; a plan
        of one pair needs none). It shares every other tensor with this
        model, which stays open while it is (closing this one closes it
        too); its numbers are the program's under --lowrank bit for bit and
        its scans record the plan in meta["interventions"]."""
        # the path helper every path argument goes through: str, bytes or
        # os.PathLike, non-UTF-8 names as the filesystem has them
        raw = _lib.fspath(plan, "with_lowrank: the plan")
        err = _lib.new_error()
        h = ctypes.c_void_p()
        check(lib.ss_model_with_lowrank(self._handle(), raw, ctypes.byref(h),
                                        ctypes.byref(err)), err)
        m = Model(self.path, _handle=h, _base=self)
        m.lowrank = os.fsdecode(raw)
        self._derived.add(m)
        return m

    # -- lifetime
    def close(self):
        for d in list(getattr(self, "_derived", ())):
            d.close()  # they share this model's tensors
        if getattr(self, "_tok", None):
            lib.ss_tokenizer_free(self._tok)
            self._tok = None
        if getattr(self, "_h", None):
            lib.ss_model_close(self._h)
            self._h = None

    def __del__(self):
        self.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _handle(self):
        if not self._h:
            raise Error("the model is closed")
        return self._h

    def __repr__(self):
        return "Model(%r%s: %d layers x %d heads (%d KV), head_dim %d, context %d)" % (
            self.path, " with low-rank plan %r" % self.lowrank if self.lowrank else "",
            self.n_layers, self.n_heads, self.n_kv_heads, self.head_dim, self.context)

    # -- description
    @property
    def config(self):
        """The model's description as a dict (the program's `info --json`
        without its "blas" block, which describes the machine)."""
        err = _lib.new_error()
        return json.loads(_lib.take_string(lib.ss_model_config_json(self._handle(),
                                                                   ctypes.byref(err)), err))

    @property
    def theta(self):
        """RoPE angle per frequency, radians per token, l = 1 (highest)
        first: a read-only view of the model's own table."""
        n = ctypes.c_int()
        ptr = lib.ss_model_theta(self._handle(), ctypes.byref(n))
        return view(ptr, (n.value,), ctypes.c_double, np.float64, self)

    # -- tokens
    def _tokenizer(self):
        if self._tok is None:
            err = _lib.new_error()
            t = ctypes.c_void_p()
            check(lib.ss_tokenizer_open(self.path.encode(), ctypes.byref(t), ctypes.byref(err)),
                  err)
            self._tok = t
        return self._tok

    def tokenize(self, text, bos=None):
        """Token ids of text (list[int]); BOS first when the model's tokenizer
        adds it (bos=True/False to force)."""
        if not isinstance(text, str):
            raise Error("tokenize: text must be a str, got %s" % type(text).__name__)
        t = self._tokenizer()
        add = lib.ss_tokenizer_adds_bos(t) if bos is None else int(bool(bos))
        data = text.encode("utf-8")
        ids = ctypes.POINTER(ctypes.c_int32)()
        n = ctypes.c_size_t()
        err = _lib.new_error()
        rc = lib.ss_tokenizer_encode(t, data, len(data), add, ctypes.byref(ids), ctypes.byref(n),
                                     ctypes.byref(err))
        try:
            check(rc, err)
            return [ids[i] for i in range(n.value)]
        finally:
            lib.ss_free(ids)

    def detokenize(self, ids, raw=False):
        """The text of token ids (str; bytes with raw=True, for ids that cut a
        UTF-8 character, which str shows as U+FFFD)."""
        a = as_ids(ids) if len(ids) else np.zeros(0, dtype=np.int32)
        text = ctypes.c_void_p()
        n = ctypes.c_size_t()
        err = _lib.new_error()
        rc = lib.ss_tokenizer_decode(self._tokenizer(),
                                     a.ctypes.data_as(ctypes.POINTER(ctypes.c_int32)), a.size,
                                     ctypes.byref(text), ctypes.byref(n), ctypes.byref(err))
        try:
            check(rc, err)
            data = ctypes.string_at(text, n.value)
        finally:
            lib.ss_free(text)
        return data if raw else data.decode("utf-8", "replace")

    def piece(self, token_id):
        """The stored piece of a token (for display), or None."""
        p = lib.ss_tokenizer_piece(self._tokenizer(), as_int(token_id, "token_id"))
        return None if p is None else p.decode("utf-8", "replace")

    # -- forward passes
    def logits(self, ids, rope_remove=None, p_rope=None, allow_long=False, ablate=None,
               head_rope_remove=None):
        """np.float32 [T, vocab]: row p predicts token p + 1 (ablate= and
        head_rope_remove= as the program's --ablate / --head-rope-remove)."""
        a = as_ids(ids)
        out = np.empty((a.size, self.vocab), dtype=np.float32)
        o, keep = run_opts(rope_remove, p_rope, allow_long, ablate, head_rope_remove)
        err = _lib.new_error()
        check(lib.ss_logits(self._handle(), a.ctypes.data_as(ctypes.POINTER(ctypes.c_int32)),
                            a.size, ctypes.byref(o),
                            out.ctypes.data_as(ctypes.POINTER(ctypes.c_float)),
                            ctypes.byref(err)), err)
        del keep
        return out

    def attention(self, ids, layer, head, rope_remove=None, p_rope=None, allow_long=False,
                  ablate=None, head_rope_remove=None):
        """np.float32 [T, T]: post-softmax attention of query head `head` of
        `layer` (query, key), zero above the diagonal."""
        a = as_ids(ids)
        out = np.empty((a.size, a.size), dtype=np.float32)
        o, keep = run_opts(rope_remove, p_rope, allow_long, ablate, head_rope_remove)
        err = _lib.new_error()
        check(lib.ss_attention(self._handle(), a.ctypes.data_as(ctypes.POINTER(ctypes.c_int32)),
                               a.size, as_int(layer, "layer"), as_int(head, "head"),
                               ctypes.byref(o),
                               out.ctypes.data_as(ctypes.POINTER(ctypes.c_float)),
                               ctypes.byref(err)), err)
        del keep
        return out
