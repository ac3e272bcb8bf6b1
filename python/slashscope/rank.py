"""ss.rank: low rank of pre-PE queries, keys, hidden states and weights
(SPEC.md section 3; the paper's Tables 3-4, Figures 9, 10, 14)."""
import ctypes

import numpy as np

from . import _lib
from ._lib import Error, lib
from ._run import run_pass
from .model import Model, run_opts
from .result import Result, column_means, head_list
from .scan import _pandas, _spec


class Rank(Result):
    """Means over prompts. Arrays (views): q_r [L,H,d_head] (spectrum r_l),
    q_R [L,H,n_tau], k_r/k_R (per KV head), h_r [L,d_model], h_R [L,n_tau],
    wq_r/wq_R, wk_r/wk_R (weights), q_norm_mean/q_norm_rv [L,H],
    k_norm_mean/k_norm_rv [L,H_kv]; `heads` the listed heads."""

    def __init__(self, handle, heads, n_heads, n_kv_heads):
        super().__init__(handle)
        self.heads = heads
        self._n_heads, self._n_kv = n_heads, n_kv_heads

    @property
    def columns(self):
        tau = self.meta["tau"]
        cols = []
        for kind in ("Q", "K", "H", "WQ", "WK"):
            cols += ["r1_" + kind] + ["R%s_%s" % (_g(t), kind) for t in tau]
        return cols + ["q_norm_mean", "q_norm_rv", "k_norm_mean", "k_norm_rv"]

    def table(self):
        """One dict per query head, the program's rank.csv columns."""
        H, K = self._n_heads, self._n_kv
        listed = set(self.heads)
        rows = []
        for l in range(self.q_r.shape[0]):
            for h in range(H):
                kv = h // (H // K)
                row = {"layer": l, "head": h, "name": "L%dH%d" % (l, h), "kv_head": kv,
                       "listed": int((l, h) in listed)}
                for kind, r, R in (("Q", self.q_r[l, h], self.q_R[l, h]),
                                   ("K", self.k_r[l, kv], self.k_R[l, kv]),
                                   ("H", self.h_r[l], self.h_R[l]),
                                   ("WQ", self.wq_r[l, h], self.wq_R[l, h]),
                                   ("WK", self.wk_r[l, kv], self.wk_R[l, kv])):
                    row["r1_" + kind] = float(r[0])
                    for t, v in zip(self.meta["tau"], R):
                        row["R%s_%s" % (_g(t), kind)] = float(v)
                row["q_norm_mean"] = float(self.q_norm_mean[l, h])
                row["q_norm_rv"] = float(self.q_norm_rv[l, h])
                row["k_norm_mean"] = float(self.k_norm_mean[l, kv])
                row["k_norm_rv"] = float(self.k_norm_rv[l, kv])
                rows.append(row)
        return rows

    @property
    def summary(self):
        """Means over the listed heads and over all heads (rank_summary.csv)."""
        rows = self.table()
        return {"listed": column_means(rows, self.columns, True),
                "all": column_means(rows, self.columns, False)}

    def to_pandas(self):
        return _pandas().DataFrame(self.table())


def _g(t):
    """A threshold as the program's column names write it (%g)."""
    return "%g" % t


def pass_params(threads, rope_remove, p_rope, allow_long, ablate=None, head_rope_remove=None):
    p = _lib.PassParams()
    ro, keep = run_opts(rope_remove, p_rope, allow_long, ablate, head_rope_remove)
    p.run = ro
    if threads is not None:
        from ._arrays import as_int
        p.threads = as_int(threads, "threads")
    return p, keep


def rank(model, heads=None, prompts=None, ids=None, ood=None, repeat=None, length=None,
         tau=0.95, seed=0, count=None, field=None, chunk=False, tokenizer=None, vocab=None,
         bos=False, threads=None, progress=True, rope_remove=None, p_rope=None,
         allow_long=False, ablate=None, head_rope_remove=None):
    """Per head r_1 and R_tau of Q, K (its KV head), H (its layer), W_Q, W_K
    over a prompt source given as for ss.scan; `heads` (None/"all", a list,
    "L0H1,...", or a Scan for its SDHs) are the ones `summary` averages."""
    if not isinstance(model, Model):
        raise Error("rank: model must be an ss.Model, got %s" % type(model).__name__)
    listed = head_list(heads, model.n_layers, model.n_heads)
    taus = [tau] if isinstance(tau, (int, float, np.floating)) else list(tau)
    try:
        tau_arr = (ctypes.c_double * max(len(taus), 1))(*[float(t) for t in taus])
    except (TypeError, ValueError):
        raise Error("tau: want a fraction or a list of fractions, got %r" % (tau,))
    spec, temp = _spec(model, prompts, ids, ood, repeat, length, seed, count, field, chunk,
                       tokenizer, vocab, bos, allow_long)
    p, keep = pass_params(threads, rope_remove, p_rope, allow_long, ablate, head_rope_remove)
    h = run_pass(model, lib.ss_run_rank, spec, temp, p, "rank", progress, tau_arr, len(taus))
    del keep
    return Rank(h, listed, model.n_heads, model.n_kv_heads)
