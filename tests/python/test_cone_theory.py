"""ss.cone and ss.theory against the program's folders (digit for digit,
bit for bit) and the paper's predicted outcomes."""
import csv
import json

import numpy as np
import pytest

from conftest import MODEL, cli
from test_rank import fmt


def test_cone_equals_the_program(ss, model, tmp_path):
    cli("cone", MODEL, "--heads", "L0H1,L0H5", "--max-delta", 3, "--quiet", "--out", tmp_path)
    c = ss.cone(model, heads="L0H1,L0H5", max_delta=3)
    with open(tmp_path / "cone.csv") as f:
        want = list(csv.DictReader(f))
    got = c.table()
    assert len(got) == len(want) == model.n_heads
    for g, w in zip(got, want):
        for k, v in w.items():
            if k in ("listed",):
                continue
            assert (fmt(g[k]) if isinstance(g[k], float) else str(g[k])) == v, (w["name"], k)
    with open(tmp_path / "alignment.csv") as f:
        rows = list(csv.DictReader(f))
    assert [int(x) for x in c.heads] == [1, 5] and len(rows) == 2 * 4
    for x in rows:
        s, d = [1, 5].index(int(x["head"])), int(x["delta"])
        assert int(x["pairs"]) == c.cs_pairs[s, d]
        for k, name in (("ratio_mean", "cs_mean"), ("ratio_min", "cs_min"),
                        ("ratio_max", "cs_max"), ("bound_mean", "cs_bound_mean")):
            assert fmt(getattr(c, name)[s, d]) == x[k]
    # closed forms: energy shares are fractions; ranks within 1..head_dim
    share = c.q[:, c.columns.index("dominant_share")]
    assert np.all((share > 0) & (share <= 1))
    R = c.q[:, c.columns.index("R")]
    assert np.all((R >= 1) & (R <= model.head_dim))
    assert np.all(np.abs(c.cs_max) <= 1 + 1e-9)
    with pytest.raises(ss.Error, match="none of the heads is in layer 0"):
        ss.cone(model, heads="L1H0")


SMALL = dict(tau1=30, tau2=30, batch=128, eval_prompts=64)


def test_theory_equals_the_program(ss, tmp_path):
    cli("theory", "--tau1", 30, "--tau2", 30, "--batch", 128, "--eval-prompts", 64, "--quiet",
        "--out", tmp_path)
    t = ss.theory(**SMALL)
    assert np.load(tmp_path / "layer1.npy").tobytes() == t.S1.tobytes()
    with open(tmp_path / "trajectory.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == t.trajectory.shape[0] == 61
    for row, got in zip(rows, t.trajectory):
        for k, v in zip(t.trajectory_columns, got):
            assert fmt(v) == row[k] or (k in ("step", "stage") and int(v) == int(row[k])), k
    cases = json.loads((tmp_path / "ood.json").read_text())["cases"]
    assert [c["name"] for c in cases] == t.meta["ood_cases"]
    for c, got in zip(cases, t.ood):
        assert got[0] == pytest.approx(c["loss"], rel=1e-14)
        assert got[3] == pytest.approx(c["relative_mse"], rel=1e-14)


def test_theory_reproduces_the_prediction(ss):
    """Theorem 5.3: frequencies that satisfy the condition make layer 1
    slash-dominant; low frequencies never do."""
    high = ss.theory(**SMALL)
    low = ss.theory(freqs="low", **SMALL)
    assert high.slash_dominant and high.meta["loss_converged"] and high.meta["slash_step"] > 0
    assert not low.slash_dominant and low.meta["slash_step"] == -1
    # the trajectory's s1_mean crosses kappa at slash_step
    s1 = high.trajectory[:, 3]
    assert s1[high.meta["slash_step"]] >= 0.95 > s1[high.meta["slash_step"] - 1]
    with pytest.raises(ss.Error, match="unknown setting 'tau3'"):
        ss.theory(tau3=1)
    with pytest.raises(ss.Error, match="delta: wants an offset >= 1 that divides n_in = 32"):
        ss.theory(delta=5, **SMALL)
