"""ss.cone (layer 0 over the whole vocabulary, SPEC.md section 4) and
ss.theory (the paper's section-5 theory lab)."""
import ctypes
import os

from . import _lib
from ._arrays import as_int
from ._lib import Error, check, lib
from ._run import run_long
from .model import Model
from .result import Result, head_list
from .scan import _pandas


class Cone(Result):
    """q [H, 12] per layer-0 query head and k [H_kv, 12] per KV head with the
    columns in `columns`; alignment cs_* [n, max_delta + 1] for `heads`."""

    @property
    def columns(self):
        return self.meta["columns"]

    def table(self):
        """One dict per layer-0 query head, the program's cone.csv columns."""
        H, K = self.q.shape[0], self.k.shape[0]
        rows = []
        for h in range(H):
            kv = h // (H // K)
            row = {"layer": 0, "head": h, "name": "L0H%d" % h, "kv_head": kv}
            for side, arr in (("Q", self.q[h]), ("K", self.k[kv])):
                for c, v in zip(self.columns, arr):
                    row["%s_%s" % (c, side)] = float(v)
            row["rv_random"] = self.meta["rv_random"]
            rows.append(row)
        return rows

    def to_pandas(self):
        return _pandas().DataFrame(self.table())


def _call(fn):
    out = ctypes.c_void_p()
    err = _lib.new_error()
    rc = run_long(lambda _cb: fn(ctypes.byref(out), ctypes.byref(err)), False)
    check(rc, err)
    return out


def cone(model, heads=None, tau=0.95, max_delta=4, seed=0, chunk=None):
    """Layer-0 analysis over the vocabulary; heads (layer-0 query heads: ints,
    "L0H1,...", pairs, or a Scan) choose the alignment statistics."""
    if not isinstance(model, Model):
        raise Error("cone: model must be an ss.Model, got %s" % type(model).__name__)
    p = lib.ss_cone_defaults()
    p.tau, p.max_delta = float(tau), as_int(max_delta, "max_delta")
    p.seed = as_int(seed, "seed")
    p.chunk = as_int(chunk, "chunk") if chunk is not None else 0
    keep = None
    if heads is not None:
        if isinstance(heads, (list, tuple)) and all(isinstance(h, int) for h in heads):
            chosen = [as_int(h, "heads[]") for h in heads]
        else:
            chosen = [h for l, h in head_list(heads, model.n_layers, model.n_heads) if l == 0]
            if not chosen:
                raise Error("cone: none of the heads is in layer 0 (a layer-0 analysis)")
        keep = (ctypes.c_int * len(chosen))(*chosen)
        p.heads, p.n_heads = keep, len(chosen)
    h = _call(lambda out, err: lib.ss_run_cone(model._handle(), ctypes.byref(p), out, err))
    del keep
    return Cone(h)


class Theory(Result):
    """theta, trajectory [steps + 1, 6] (`trajectory_columns`), S1 [N, N]
    (layer 1's final attention), ood [6, 5]; meta: slash_step,
    slash_dominant, loss_converged, the frequency condition, ..."""

    trajectory_columns = ("step", "stage", "loss", "s1_mean", "s1_min", "s2_match")
    ood_columns = ("loss", "mse", "sq_target", "rel_mse", "s2_match")

    @property
    def slash_dominant(self):
        return bool(self.meta["slash_dominant"])

    def to_pandas(self):
        """The training trajectory, one row per step (trajectory.csv)."""
        return _pandas().DataFrame(self.trajectory, columns=list(self.trajectory_columns))


def theory(**settings):
    """Trains the paper's reduced two-layer model with Algorithm 1 (the
    program's `slashscope theory`): n_in, features, d_x, d_c, delta,
    freqs ("high", "low", "standard" or a file), base, p_rope, eta1, eta2,
    tau1, tau2, batch, seed, kappa, L, eval_prompts."""
    p = lib.ss_theory_defaults()
    names = {f[0] for f in _lib.TheoryParams._fields_}
    for k, v in settings.items():
        if k not in names:
            raise Error("theory: unknown setting %r (settings: %s)" % (k, ", ".join(sorted(names))))
        if k == "freqs":
            v = os.fsencode(os.fspath(v))
        elif isinstance(getattr(p, k), int):
            v = as_int(v, k)
        else:
            v = float(v)
        setattr(p, k, v)
    keep = p.freqs
    h = _call(lambda out, err: lib.ss_run_theory(ctypes.byref(p), out, err))
    del keep
    return Theory(h)
