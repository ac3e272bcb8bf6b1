"""ss.freq against the program's freq folder (arrays bit for bit, CSV
digit for digit) and closed forms."""
import csv

import numpy as np
import pytest

from conftest import MODEL, cli
from test_rank import fmt


@pytest.fixture(scope="module")
def both(ss, model, tmp_path_factory):
    d = tmp_path_factory.mktemp("freq") / "out"
    cli("freq", MODEL, "--ood", 2, "--seed", 4, "--len", 64, "--heads", "L1H3,L3H6",
        "--remove", "2,4", "--threads", 2, "--quiet", "--out", d)
    r = ss.freq(model, "L1H3,L3H6", ood=2, seed=4, length=64, remove=[2, 4], threads=2,
                progress=False)
    return r, d


def test_freq_equals_the_program(both):
    r, d = both
    assert r.heads == [(1, 3), (3, 6)]
    assert r.variants == ["none", "high", "medium", "low", "custom"]
    assert np.load(d / "ablation_scores.npy").tobytes() == r.scores.tobytes()
    assert np.load(d / "usage_q.npy").tobytes() == r.usage_q.tobytes()
    assert np.load(d / "usage_k.npy").tobytes() == r.usage_k.tobytes()
    assert np.load(d / "freqcond_curve.npy").tobytes() == r.curve.tobytes()
    for s, (l, h) in enumerate(r.heads):
        assert np.load(d / "inp" / ("L%dH%d.npy" % (l, h))).tobytes() == r.inp[s].tobytes()
    with open(d / "active.csv") as f:
        rows = list(csv.DictReader(f))
    for x in rows:
        s = r.heads.index((int(x["layer"]), int(x["head"])))
        f_ = int(x["l"]) - 1
        assert fmt(r.inp_mean_abs[s, f_]) == x["mean_abs_inp"]
        assert int(x["active"]) == r.active[s, f_]
    with open(d / "freqcond.csv") as f:
        for x in csv.DictReader(f):
            s = r.heads.index((int(x["layer"]), int(x["head"])))
            assert int(x["n_active"]) == r.n_active[s]
            for k in ("C1", "C2", "eps_fn", "L_min", "peak_gap"):
                assert fmt(getattr(r, "cond_" + k)[s]) == x[k], k


def test_freq_closed_forms(both):
    r, _ = both
    # the variant with nothing removed is the head's own slash score (ratio
    # 1); removing a band changes it
    np.testing.assert_array_equal(r.ratio("none")[np.isfinite(r.ratio("none"))], 1.0)
    assert not np.allclose(r.ratio("high")[:, 5:], 1.0)
    # active frequencies are those with a share >= active_frac of the largest
    share = r.inp_mean_abs / r.inp_mean_abs.max(axis=1, keepdims=True)
    np.testing.assert_array_equal(r.active, (share >= r.meta["active_frac"]).astype(np.int64))
    np.testing.assert_array_equal(r.n_active, r.active.sum(axis=1))
    # the condition's fit: C1 + C2 = f(0) = n_active (the curve at x = 0)
    np.testing.assert_allclose(r.cond_C1 + r.cond_C2, r.n_active, rtol=1e-12)
    np.testing.assert_allclose(r.curve[:, 0], r.n_active, rtol=1e-12)
    # Cauchy-Schwarz: |logit| never exceeds s |q| |k|
    assert np.all(np.abs(r.cs_max) <= 1 + 1e-9) and np.all(np.abs(r.cs_min) <= 1 + 1e-9)


def test_freq_errors(ss, model):
    with pytest.raises(ss.Error, match="row 64 must be from 0 to len - 1 = 63"):
        ss.freq(model, "L1H3", ood=1, length=64, row=64, progress=False)
    with pytest.raises(ss.Error, match="frequency index 9 is outside 1..4"):
        ss.freq(model, "L1H3", ood=1, length=64, remove=[9], progress=False)
    with pytest.raises(ss.Error, match="active_frac must be from 0 to 1"):
        ss.freq(model, "L1H3", ood=1, length=64, active_frac=2, progress=False)
