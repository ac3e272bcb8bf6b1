"""Model.with_lowrank: the program's --lowrank PLAN[@THRE,RANK_THRE] as a new
model through the C API, against `slashscope scan/logits --lowrank` bit for
bit, with its record in the scan's interventions (docs/compress.md)."""
import json
import os
import pathlib
import shutil

import numpy as np
import pytest

from conftest import MODEL, PROMPTS_IDS, cli

IDS = [1, 403, 407, 261, 378, 410, 270, 422, 261, 300, 343, 402, 439, 411, 261, 300]
SRC = ["--ids-file", PROMPTS_IDS, "--len", 32]


@pytest.fixture(scope="module")
def plan(tmp_path_factory):
    """A compress plan of stories260K with two pairs (0.9/2 compresses)."""
    d = tmp_path_factory.mktemp("lowrank") / "plan"
    cli("compress", MODEL, *SRC, "--count", 4, "--thre", "0.9,1", "--rank-thre", "2,8",
        "--quiet", "--out", d)
    return d


def test_scan_and_logits_equal_the_program(ss, model, plan, tmp_path):
    spec = "%s@0.9,2" % plan
    lr = model.with_lowrank(spec)
    cli("scan", MODEL, *SRC, "--count", 3, "--lowrank", spec, "--quiet", "--out", tmp_path / "s")
    r = ss.scan(lr, ids=str(PROMPTS_IDS), length=32, count=3, progress=False)
    assert np.load(tmp_path / "s" / "slash.npy").tobytes() == r.slash.tobytes()
    plain = ss.scan(model, ids=str(PROMPTS_IDS), length=32, count=3, progress=False)
    assert not np.array_equal(plain.slash, r.slash)
    # the record is the program's: the spec as given, the plan folder's digest
    want = json.load(open(tmp_path / "s" / "scan.json"))["interventions"]
    assert r.meta["interventions"] == want
    assert want["lowrank"] == spec and want["lowrank_plan"]["path"] == str(plan)
    with pytest.raises(ss.Error, match="intervention"):
        ss.merge([r, plain])
    ids = " ".join(map(str, IDS))
    cli("logits", MODEL, "--ids", ids, "--lowrank", spec, "--quiet", "--out", tmp_path / "l.npy")
    assert np.load(tmp_path / "l.npy").tobytes() == lr.logits(IDS).tobytes()
    cli("attn", MODEL, "--ids", ids, "--layer", 2, "--head", 5, "--lowrank", spec, "--quiet",
        "--out", tmp_path / "a.npy")
    assert np.load(tmp_path / "a.npy").tobytes() == lr.attention(IDS, 2, 5).tobytes()
    cfg = lr.config["lowrank"]
    assert cfg["spec"] == spec and cfg["plan"] == want["lowrank_plan"] and cfg["compressed"] > 0
    assert "lowrank" not in model.config
    lr.close()


def test_the_source_model_is_untouched_and_owns_the_new_one(ss, plan):
    base = ss.Model(MODEL)
    before = base.logits(IDS)
    nothing = base.with_lowrank("%s@1,8" % plan)  # thre 1 keeps every direction
    assert nothing.logits(IDS).tobytes() == before.tobytes()
    assert nothing.config["lowrank"]["compressed"] == 0
    lr = base.with_lowrank("%s@0.9,2" % plan)
    assert not np.array_equal(lr.logits(IDS), before)
    assert base.logits(IDS).tobytes() == before.tobytes()
    assert "low-rank plan" in repr(lr)
    with pytest.raises(ss.Error, match="already carries the plan"):
        lr.with_lowrank("%s@0.9,2" % plan)
    base.close()  # closes the models made from it first: they share its tensors
    with pytest.raises(ss.Error, match="closed"):
        lr.logits(IDS)
    with pytest.raises(ss.Error, match="closed"):
        nothing.logits(IDS)


def test_bad_plans(ss, model, plan, tmp_path):
    with pytest.raises(ss.Error, match="choose one pair as"):
        model.with_lowrank(str(plan))
    with pytest.raises(ss.Error, match="expected PLAN@THRE,RANK_THRE"):
        model.with_lowrank("%s@2,1" % plan)
    with pytest.raises(ss.Error, match="plan.json"):
        model.with_lowrank(str(tmp_path))
    with pytest.raises(ss.Error, match="with_lowrank: the plan must be a path"):
        model.with_lowrank(0.9)


def test_plan_paths_as_bytes_and_path_likes(ss, model, plan, tmp_path):
    # the plan path goes through the helper every path does: a bytes path
    # whose name is not UTF-8 and an os.PathLike work as the str one
    odd = os.fsencode(tmp_path) + b"/pl\xffan"
    shutil.copytree(plan, os.fsdecode(odd))
    want = model.with_lowrank("%s@0.9,2" % plan).logits(IDS)
    lr = model.with_lowrank(odd + b"@0.9,2")
    assert lr.lowrank == os.fsdecode(odd + b"@0.9,2")
    assert lr.logits(IDS).tobytes() == want.tobytes()
    assert model.with_lowrank(pathlib.Path(str(plan) + "@0.9,2")).logits(IDS).tobytes() == \
        want.tobytes()


def test_explain_results_equal_the_program_and_record_it(ss, model, plan, tmp_path):
    # rank and ppl of the low-rank model (rank with an ablation on top): the
    # program's files bit for bit and its "interventions" record in each
    # result's meta, as in rank.json and ppl.json
    spec = "%s@0.9,2" % plan
    lr = model.with_lowrank(spec)
    src = ["--ids-file", PROMPTS_IDS, "--len", 32, "--count", 2]
    cli("rank", MODEL, *src, "--lowrank", spec, "--ablate", "L1H3", "--heads", "L1H3",
        "--quiet", "--out", tmp_path / "r")
    r = ss.rank(lr, "L1H3", ids=str(PROMPTS_IDS), length=32, count=2, ablate="L1H3",
                progress=False)
    for name, arr in (("q", r.q_r), ("k", r.k_r), ("wq", r.wq_r), ("wk", r.wk_r)):
        assert np.load(tmp_path / "r" / ("spectra_%s.npy" % name)).tobytes() == arr.tobytes()
    want = json.load(open(tmp_path / "r" / "rank.json"))["interventions"]
    assert r.meta["interventions"] == want
    assert want["lowrank"] == spec and want["ablate"] == "L1H3"
    plain = ss.rank(model, "L1H3", ids=str(PROMPTS_IDS), length=32, count=2, progress=False)
    assert "interventions" not in plain.meta and not np.array_equal(plain.wq_r, r.wq_r)
    cli("ppl", MODEL, *src, "--lowrank", spec, "--quiet", "--out", tmp_path / "p")
    p = ss.ppl(lr, ids=str(PROMPTS_IDS), length=32, count=2, progress=False)
    pj = json.load(open(tmp_path / "p" / "ppl.json"))
    assert p.loss == pj["loss"] and p.meta["interventions"] == pj["interventions"]
    # the program's cone takes no --lowrank: the API's cone of a low-rank
    # model says whose W_Q / W_K it measured with the same record
    c = ss.cone(lr)
    assert c.meta["interventions"] == {k: want[k] for k in ("lowrank", "lowrank_plan")}
    assert "interventions" not in ss.cone(model).meta
