"""ss.rank against the program's rank folder (spectra .npy bit for bit,
rank.csv and rank_summary.csv digit for digit) and against closed forms."""
import csv

import numpy as np
import pytest

from conftest import MODEL, PROMPTS_IDS, cli


def fmt(v):
    """The program's CSV number format (cli/explain_out.c)."""
    return "nan" if v != v else "%.10g" % v


@pytest.fixture(scope="module")
def both(ss, model, tmp_path_factory):
    d = tmp_path_factory.mktemp("rank") / "out"
    cli("rank", MODEL, "--ood", 2, "--seed", 3, "--len", 64, "--heads", "L1H3,L3H6",
        "--tau", "0.9", "--threads", 2, "--quiet", "--out", d)
    r = ss.rank(model, ["L1H3", (3, 6)], ood=2, seed=3, length=64, tau=[0.95, 0.9], threads=2,
                progress=False)
    return r, d


def test_rank_equals_the_program(both):
    r, d = both
    for name, arr in (("q", r.q_r), ("k", r.k_r), ("h", r.h_r), ("wq", r.wq_r), ("wk", r.wk_r)):
        assert np.load(d / ("spectra_%s.npy" % name)).tobytes() == arr.tobytes(), name
    with open(d / "rank.csv") as f:
        want = list(csv.DictReader(f))
    got = r.table()
    assert len(got) == len(want) == 40
    for g, w in zip(got, want):
        for k, v in w.items():
            assert (fmt(g[k]) if isinstance(g[k], float) else str(g[k])) == v, (g["name"], k)
    with open(d / "rank_summary.csv") as f:
        summary = {row["group"]: row for row in csv.DictReader(f)}
    for group in ("listed", "all"):
        for k, v in r.summary[group].items():
            assert fmt(v) == summary[group][k], (group, k)
    assert summary["listed"]["heads"] == "2" and r.heads == [(1, 3), (3, 6)]


def test_rank_closed_forms(both, ss, model):
    r, _ = both
    # spectra are energy fractions: non-negative, sorted, summing to 1
    for a in (r.q_r, r.k_r, r.h_r, r.wq_r, r.wk_r):
        assert np.all(a >= -1e-12)
        np.testing.assert_allclose(a.sum(axis=-1), 1.0, rtol=1e-9)
        assert np.all(np.diff(a, axis=-1) <= 1e-12)
    # R_tau is the smallest l whose cumulative energy reaches tau, for weights
    # (one matrix, no averaging over prompts): check it from the spectrum
    cum = np.cumsum(r.wq_r, axis=-1)
    for t_i, tau in enumerate(r.meta["tau"]):
        want = (cum < tau - 1e-12).sum(axis=-1) + 1
        np.testing.assert_array_equal(r.wq_R[..., t_i], want)
    # weights do not depend on prompts
    other = ss.rank(model, ids=PROMPTS_IDS, length=32, count=1, progress=False)
    assert other.wq_r.tobytes() == r.wq_r.tobytes()
    assert not np.array_equal(other.q_r, r.q_r)


def test_rank_views_and_errors(both, ss, model):
    r, _ = both
    assert np.shares_memory(r.q_r, r.q_r) and not r.q_r.flags.writeable
    base = r.q_r
    while isinstance(base, np.ndarray):
        base = base.base
    assert base._owner is r
    with pytest.raises(AttributeError, match="no 'nope'"):
        r.nope
    with pytest.raises(ss.Error, match="tau\\[0\\] = 1.5"):
        ss.rank(model, ood=1, length=16, tau=1.5, progress=False)
    with pytest.raises(ss.Error, match="L9H0 is outside"):
        ss.rank(model, "L9H0", ood=1, length=16, progress=False)
    with pytest.raises(ss.Error, match="exactly one of"):
        ss.rank(model, length=16, progress=False)
