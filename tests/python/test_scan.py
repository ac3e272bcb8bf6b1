"""ss.scan and its results against the program's scan folders, bit for bit,
for every kind of prompt source; zero-copy views; merge = one shot; the
program's merge, sdh and compare; errors."""
import csv
import ctypes
import json

import numpy as np
import pytest

from conftest import MODEL, PROMPTS_IDS, PROMPTS_JSONL, cli

ARRAYS = ("slash_sum", "slash_sumsq", "slash_count", "slash")


def cli_scan(out, *source):
    cli("scan", MODEL, *source, "--threads", 2, "--quiet", "--out", out)
    return out


def assert_same_as_folder(r, d):
    """The Scan's arrays are the folder's arrays, bit for bit."""
    assert r.sum.tobytes() == np.load(d / "slash_sum.npy").tobytes()
    assert r.sumsq.tobytes() == np.load(d / "slash_sumsq.npy").tobytes()
    assert r.count.tobytes() == np.load(d / "slash_count.npy").tobytes()
    assert r.slash.tobytes() == np.load(d / "slash.npy").tobytes()


def assert_same_files(a, b):
    for name in ARRAYS:
        assert (a / (name + ".npy")).read_bytes() == (b / (name + ".npy")).read_bytes(), name
    assert (a / "sdh.csv").read_bytes() == (b / "sdh.csv").read_bytes()


@pytest.fixture(scope="module")
def ood(ss, model, tmp_path_factory):
    """A 3-prompt OOD scan through Python and through the program."""
    d = cli_scan(tmp_path_factory.mktemp("cli") / "ood", "--ood", 3, "--seed", 5, "--len", 96)
    return ss.scan(model, ood=3, seed=5, length=96, threads=2, progress=False), d


def test_ood_scan_equals_the_program(ss, ood, tmp_path):
    r, d = ood
    assert r.shape == (5, 8, 96) and r.prompts == 3 and r.skip == 4
    assert_same_as_folder(r, d)
    r.save(tmp_path / "py")
    assert_same_files(tmp_path / "py", d)
    mine, theirs = (json.loads((p / "scan.json").read_text()) for p in (tmp_path / "py", d))
    for key in ("model", "rope", "prompts", "length", "skip", "seed", "sources"):
        assert mine[key] == theirs[key], key
    # one transaction, as the program's: a finished result is replaced only with force
    with pytest.raises(ss.Error, match="finished result"):
        r.save(tmp_path / "py")
    r.save(tmp_path / "py", force=True)
    assert_same_files(tmp_path / "py", d)


def test_text_and_ids_sources_equal_the_program(ss, model, tmp_path):
    d = cli_scan(tmp_path / "text", "--prompts", PROMPTS_JSONL, "--len", 64, "--count", 4)
    r = ss.scan(model, prompts=PROMPTS_JSONL, length=64, count=4, threads=2, progress=False)
    assert r.prompts == 4
    assert_same_as_folder(r, d)
    d = cli_scan(tmp_path / "ids", "--ids-file", PROMPTS_IDS, "--len", 80, "--count", 3)
    r = ss.scan(model, ids=PROMPTS_IDS, length=80, count=3, threads=2, progress=False)
    assert_same_as_folder(r, d)
    # the same ids given in memory
    rows = [[int(x) for x in l.split()][:80] for l in PROMPTS_IDS.read_text().splitlines()[:3]]
    m = ss.scan(model, ids=np.array(rows), length=80, threads=2, progress=False)
    assert m.sum.tobytes() == r.sum.tobytes() and m.count.tobytes() == r.count.tobytes()


def test_repeat_and_rope_options_equal_the_program(ss, model, tmp_path):
    d = cli_scan(tmp_path / "rep", "--repeat", 16, "--count", 2, "--seed", 3, "--len", 64,
                 "--skip", 2, "--p-rope", 0.5)
    r = ss.scan(model, repeat=16, count=2, seed=3, length=64, skip=2, p_rope=0.5, threads=2,
                progress=False)
    assert_same_as_folder(r, d)
    r2 = ss.scan(model, repeat=(16, 2), seed=3, length=64, skip=2, p_rope=0.5, threads=2,
                 progress=False)
    assert r2.sum.tobytes() == r.sum.tobytes()
    d = cli_scan(tmp_path / "rm", "--ood", 2, "--len", 48, "--rope-remove", "2-3")
    r = ss.scan(model, ood=2, length=48, rope_remove=[2, 3], threads=2, progress=False)
    assert_same_as_folder(r, d)


def test_arrays_are_views_of_the_library_memory(ss, ood):
    r, _ = ood
    lib = ss._lib.lib
    s, c = r.sum, r.count
    assert s.ctypes.data == ctypes.cast(lib.ss_scan_slash_sum(r._h), ctypes.c_void_p).value
    assert c.ctypes.data == ctypes.cast(lib.ss_scan_slash_count(r._h), ctypes.c_void_p).value
    assert np.shares_memory(s, r.sum) and not s.flags.writeable and not s.flags.owndata
    # the base chain ends in a buffer that keeps the result alive
    base = s
    while isinstance(base, np.ndarray):
        base = base.base
    assert base._owner is r


def test_a_view_keeps_its_scan_alive(ss, model):
    r = ss.scan(model, ood=1, length=32, progress=False)
    want = r.sum.copy()
    view = r.sum
    del r
    import gc
    gc.collect()
    assert view.tobytes() == want.tobytes()


def test_load_scan_and_sdh_equal_the_program(ss, ood):
    _, d = ood
    r = ss.load_scan(d)
    assert_same_as_folder(r, d)
    with open(d / "sdh.csv") as f:
        small = {(int(x["layer"]), int(x["head"]), int(x["delta"]), float(x["score"]))
                 for x in csv.DictReader(f) if x["regime"] == "small"}
    got = r.sdh(kappa=0.1, delta=(0, 4))
    assert small and {(l, h, dl, round(s, 6)) for l, h, dl, s in got} == \
        {(l, h, dl, round(s, 6)) for l, h, dl, s in small}
    scores = [x[3] for x in got]
    assert scores == sorted(scores, reverse=True)  # strongest first
    # a threshold nothing reaches
    assert r.sdh(kappa=2.0) == []


def test_merge_equals_one_shot_and_the_program(ss, model, tmp_path):
    lines = PROMPTS_IDS.read_text().splitlines()
    (tmp_path / "a.ids").write_text("\n".join(lines[:3]) + "\n")
    (tmp_path / "b.ids").write_text("\n".join(lines[3:5]) + "\n")
    (tmp_path / "ab.ids").write_text("\n".join(lines[:5]) + "\n")
    kw = dict(length=64, threads=2, progress=False)
    a = ss.scan(model, ids=tmp_path / "a.ids", **kw)
    b = ss.scan(model, ids=tmp_path / "b.ids", **kw)
    whole = ss.scan(model, ids=tmp_path / "ab.ids", **kw)
    m = ss.merge([a, b])
    assert m.prompts == 5 and m.count.tobytes() == whole.count.tobytes()
    # sums add: equal to the one-shot run up to reassociation of 5 terms
    np.testing.assert_allclose(m.sum, whole.sum, rtol=1e-13, atol=1e-15)
    np.testing.assert_array_equal(m.sum, a.sum + b.sum)
    # and the same bytes as the program's merge of the program's scans
    for name in ("a", "b"):
        cli_scan(tmp_path / ("cli_" + name), "--ids-file", tmp_path / (name + ".ids"), "--len", 64)
    cli("merge", tmp_path / "cli_a", tmp_path / "cli_b", "--out", tmp_path / "cli_m")
    assert_same_as_folder(m, tmp_path / "cli_m")
    m.save(tmp_path / "py_m")
    assert_same_files(tmp_path / "py_m", tmp_path / "cli_m")
    with pytest.raises(ss.Error, match="share a prompt source"):
        ss.merge([a, a])
    with pytest.raises(ss.Error, match="at least two"):
        ss.merge([a])
    c = ss.scan(model, ids=tmp_path / "b.ids", length=48, threads=2, progress=False)
    with pytest.raises(ss.Error) as e:
        ss.merge([a, c])
    assert e.value.code == "incompatible"


def test_compare_equals_the_program(ss, model, ood, tmp_path):
    r_ood, d_ood = ood
    d_id = cli_scan(tmp_path / "id", "--ids-file", PROMPTS_IDS, "--len", 96, "--count", 4)
    r_id = ss.load_scan(d_id)
    got = ss.compare(r_id, r_ood, kappa=0.1, delta=(0, 4))
    # the CSV form prints every double with 17 digits: exact (cJSON's JSON
    # numbers may drop the last digit)
    out = cli("compare", d_id, d_ood, "--kappa", 0.1, "--delta", "0:4").splitlines()
    rows = list(csv.DictReader([l for l in out if not l.startswith("#")]))
    assert len(got) == len(rows) > 0
    for g, w in zip(got.rows, rows):
        assert (g[0], g[1], g[2]) == (int(w["layer"]), int(w["head"]), int(w["delta"]))
        w = [float(w[k]) for k in ("score_id", "score_ood", "ratio")]
        assert np.array(g[3:]).tobytes() == np.array(w).tobytes()
    summary = json.loads(cli("compare", d_id, d_ood, "--kappa", 0.1, "--delta", "0:4",
                             "--json"))["ratio_summary"][0]
    for k in ("n", "min", "q1", "median", "q3", "max"):
        assert got.summary[k] == pytest.approx(summary[k], rel=1e-14), k
    ratios = np.array([x[5] for x in got.rows])
    assert got.summary["median"] == pytest.approx(np.median(ratios[np.isfinite(ratios)]))


def test_bad_scan_arguments(ss, model, tmp_path):
    cases = [
        (dict(length=32), "exactly one of prompts=, ids=, ood=, repeat="),
        (dict(ood=2, repeat=4, length=32), "exactly one of"),
        (dict(ood=2), "length= .* is required"),
        (dict(ood=2, length=32, skip=32), "skip 32 must be from 0 to len - 1 = 31"),
        (dict(ood=0, length=32), "count .* must be at least 1"),
        (dict(ood=2, length=600), "len 600 is longer than the model's context of 512"),
        (dict(repeat=4, length=32), "needs count="),
        (dict(ood=2, length=32, field="text"), "apply to text and ids sources"),
        (dict(prompts=tmp_path / "none.jsonl", length=32), "none.jsonl"),
        (dict(ids=[[1, 2, 999]], length=3, skip=0), "999"),
        (dict(ood=2, length=32, seed=-1), "seed must be"),
        (dict(ood=2, length="32"), "length must be an integer"),
        (dict(ood=2, length=32, p_rope=-0.5), "p_rope must be from 0 to 1"),
    ]
    for kw, msg in cases:
        with pytest.raises(ss.Error, match=msg):
            ss.scan(model, progress=False, **kw)
    with pytest.raises(ss.Error, match="no prompt of 300 tokens"):
        ss.scan(model, ids=PROMPTS_IDS, length=300, progress=False)
    with pytest.raises(ss.Error, match="must be an ss.Model"):
        ss.scan("model", ood=1, length=8)
    with pytest.raises(ss.Error) as e:
        ss.load_scan(tmp_path)
    assert str(tmp_path) in str(e.value)


def test_spread_over_prompts(ss, model, tmp_path):
    """std and the 95% interval against per-prompt scores computed one
    prompt at a time, and against the program's sdh.csv."""
    lines = PROMPTS_IDS.read_text().splitlines()[:4]
    kw = dict(length=64, threads=2, progress=False)
    single = []
    for k, line in enumerate(lines):
        (tmp_path / ("p%d.ids" % k)).write_text(line + "\n")
        single.append(ss.scan(model, ids=tmp_path / ("p%d.ids" % k), **kw))
    (tmp_path / "all.ids").write_text("\n".join(lines) + "\n")
    r = ss.scan(model, ids=tmp_path / "all.ids", **kw)
    per_prompt = np.stack([s.sum for s in single])       # each: one prompt's own scores
    assert np.all(np.stack([s.count for s in single]) <= 1)
    want = np.std(per_prompt, axis=0, ddof=1)
    ok = r.count == 4
    assert ok.sum() > 100
    np.testing.assert_allclose(r.std[ok], want[ok], rtol=1e-8, atol=1e-12)
    from math import sqrt
    t975_3 = 3.182446305284263  # Student t, 3 degrees of freedom, 0.975 quantile
    lo, hi = r.ci95
    np.testing.assert_allclose((hi - lo)[ok] / 2, t975_3 * want[ok] / sqrt(4), rtol=1e-8,
                               atol=1e-12)
    assert np.all(np.isnan(single[0].std[single[0].count == 1]))  # one prompt: no spread
    # the program's sdh.csv shows the same numbers
    d = cli_scan(tmp_path / "cli", "--ids-file", tmp_path / "all.ids", "--len", 64)
    with open(d / "sdh.csv") as f:
        rows = list(csv.DictReader(f))
    assert rows
    for x in rows:
        i = (int(x["layer"]), int(x["head"]), int(x["delta"]))
        assert float(x["std"]) == r.std[i] and float(x["ci_low"]) == lo[i], x
    # a merge keeps the spread exact: the sums of squares add
    m = ss.merge(single)
    np.testing.assert_allclose(m.std[ok], r.std[ok], rtol=1e-9, atol=1e-12)
