"""ss.freq: how the RoPE frequencies make the slash (SPEC.md section 5; the
paper's Figures 15-17 and Table 5, Barbero et al. Figures 3-4)."""
import ctypes

from ._arrays import as_int
from ._lib import Error, lib
from .model import Model
from ._run import run_pass
from .rank import pass_params
from .result import Result, head_list
from .scan import _pandas, _spec


class Freq(Result):
    """Arrays (views) for the S chosen heads (`heads`, in the order of the
    first axis), V variants (`variants`: "none" then each band ablation),
    F frequencies (l = 1 first): scores [S,V,N], inp [S,row+1,F],
    inp_mean_abs / inp_share / active [S,F], n_active, cond_* [S],
    curve [S,N+1], cs_* [S,max_delta+1], usage_q [L,H,F], usage_k
    [L,H_kv,F], usage_layer_q / usage_layer_k [L,F]."""

    @property
    def heads(self):
        """The chosen heads as (layer, head), the order of the first axis."""
        return [tuple(int(v) for v in x) for x in self._arrays["heads"]]

    @property
    def variants(self):
        return [v["name"] for v in self.meta["variants"]]

    def table(self):
        """One dict per chosen head, variant and offset 0..max_delta: the
        score and its ratio to the unablated one (ablation.csv's numbers)."""
        rows = []
        D = min(self.meta["max_delta"] + 1, self.scores.shape[2])
        for s, (layer, head) in enumerate(self.heads):
            for v, name in enumerate(self.variants):
                for d in range(D):
                    score, base = float(self.scores[s, v, d]), float(self.scores[s, 0, d])
                    rows.append({"layer": layer, "head": head, "variant": name, "delta": d,
                                 "score": score, "ratio": score / base if base else float("nan")})
        return rows

    def to_pandas(self):
        return _pandas().DataFrame(self.table())

    def ratio(self, variant):
        """score under an ablation / unablated score, [S, N] (Figure 16)."""
        v = self.variants.index(variant) if isinstance(variant, str) else int(variant)
        return self.scores[:, v, :] / self.scores[:, 0, :]


def freq(model, heads=None, prompts=None, ids=None, ood=None, repeat=None, length=None,
         row=None, skip=4, inp_rows=64, max_delta=4, active_frac=0.1, bands=True, remove=None,
         seed=0, count=None, field=None, chunk=False, tokenizer=None, vocab=None, bos=False,
         threads=None, progress=True, rope_remove=None, p_rope=None, allow_long=False,
         ablate=None, head_rope_remove=None):
    """The frequency analysis of the chosen heads (None/"all", a list,
    "L0H1,...", or a Scan for its SDHs) over a prompt source given as for
    ss.scan; remove= adds a custom ablation (1-based frequencies)."""
    if not isinstance(model, Model):
        raise Error("freq: model must be an ss.Model, got %s" % type(model).__name__)
    chosen = head_list(heads, model.n_layers, model.n_heads)
    f = lib.ss_freq_defaults()
    flat = [v for lh in chosen for v in lh]
    heads_arr = (ctypes.c_int * len(flat))(*flat)
    f.heads, f.n_heads = heads_arr, len(chosen)
    f.row = -1 if row is None else as_int(row, "row")
    f.skip, f.inp_rows = as_int(skip, "skip"), as_int(inp_rows, "inp_rows")
    f.max_delta = as_int(max_delta, "max_delta")
    f.active_frac, f.bands = float(active_frac), int(bool(bands))
    keep = [heads_arr]
    if remove is not None:
        rem = [as_int(x, "remove[]") for x in ([remove] if isinstance(remove, int) else remove)]
        arr = (ctypes.c_int * max(len(rem), 1))(*rem)
        keep.append(arr)
        f.remove, f.n_remove = arr, len(rem)
    spec, temp = _spec(model, prompts, ids, ood, repeat, length, seed, count, field, chunk,
                       tokenizer, vocab, bos, allow_long)
    p, keep_p = pass_params(threads, rope_remove, p_rope, allow_long, ablate, head_rope_remove)
    h = run_pass(model, lib.ss_run_freq, spec, temp, p, "freq", progress, ctypes.byref(f))
    del keep, keep_p
    return Freq(h)
