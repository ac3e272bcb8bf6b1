"""The head interventions (ablate=, head_rope_remove=) and ss.ppl through the
C API against the program's --ablate / --head-rope-remove and `ppl`, bit for
bit, and the identities behind them (docs/compress.md)."""
import json

import numpy as np
import pytest

from conftest import MODEL, PROMPTS_IDS, cli

IDS = [1, 403, 407, 261, 378, 410, 270, 422, 261, 300, 343, 402, 439, 411, 261, 300]


def test_logits_and_attention_equal_the_program(ss, model, tmp_path):
    ids = " ".join(map(str, IDS))
    for flags, kw in ((["--ablate", "L1H3,L2H0:mean"], {"ablate": "L1H3,L2H0:mean"}),
                      (["--head-rope-remove", "L1H3:1-3", "--head-rope-remove", "L2H5:2"],
                       {"head_rope_remove": ["L1H3:1-3", "L2H5:2"]}),
                      (["--ablate", "L0H1", "--head-rope-remove", "L1H3:1"],
                       {"ablate": "L0H1", "head_rope_remove": "L1H3:1"})):
        cli("logits", MODEL, "--ids", ids, *flags, "--quiet", "--out", tmp_path / "l.npy")
        got = model.logits(IDS, **kw)
        assert np.load(tmp_path / "l.npy").tobytes() == got.tobytes(), flags
        assert not np.array_equal(got, model.logits(IDS)), flags
        cli("attn", MODEL, "--ids", ids, "--layer", 2, "--head", 5, *flags, "--quiet",
            "--out", tmp_path / "a.npy")
        a = model.attention(IDS, 2, 5, **kw)
        assert np.load(tmp_path / "a.npy").tobytes() == a.tobytes(), flags


def test_head_rope_remove_equals_the_model_wide_removal_on_its_head(model):
    # layer 0: nothing before changes the head's input, so its map is the
    # model-wide removal's, the other heads' the plain ones
    plain = model.attention(IDS, 0, 2)
    wide = model.attention(IDS, 0, 3, rope_remove=[1, 2, 3])
    assert model.attention(IDS, 0, 3, head_rope_remove="L0H3:1-3").tobytes() == wide.tobytes()
    assert model.attention(IDS, 0, 2, head_rope_remove="L0H3:1-3").tobytes() == plain.tobytes()


def test_scan_and_ppl_equal_the_program(ss, model, tmp_path):
    src = ["--ids-file", PROMPTS_IDS, "--len", 32, "--count", 3]
    flags = ["--ablate", "L1H3", "--head-rope-remove", "L3H6:1-2"]
    kw = {"ablate": "L1H3", "head_rope_remove": "L3H6:1-2"}
    cli("scan", MODEL, *src, *flags, "--quiet", "--out", tmp_path / "s")
    r = ss.scan(model, ids=str(PROMPTS_IDS), length=32, count=3, progress=False, **kw)
    assert np.load(tmp_path / "s" / "slash.npy").tobytes() == r.slash.tobytes()
    plain = ss.scan(model, ids=str(PROMPTS_IDS), length=32, count=3, progress=False)
    assert not np.array_equal(plain.slash, r.slash)
    want = json.load(open(tmp_path / "s" / "scan.json"))["interventions"]
    assert r.meta["interventions"] == want == {"ablate": "L1H3", "head_rope_remove": ["L3H6:1-2"]}
    with pytest.raises(ss.Error, match="intervention"):
        ss.merge([r, plain])
    for f, k in (([], {}), (flags, kw)):
        d = tmp_path / ("p%d" % len(f))
        cli("ppl", MODEL, *src, *f, "--quiet", "--out", d)
        want = json.load(open(d / "ppl.json"))
        p = ss.ppl(model, ids=str(PROMPTS_IDS), length=32, count=3, progress=False, **k)
        assert p.loss == want["loss"] and p.tokens_scored == want["tokens_scored"] == 3 * 31
        assert list(p.prompt_nll) == want["prompt_nll"]
        assert np.load(d / "loss_by_pos.npy").tobytes() == p.loss_by_pos.tobytes()
        assert p.perplexity == pytest.approx(np.exp(p.loss), rel=1e-15)


def test_ppl_is_the_logits_nll(ss, model):
    # ppl's loss = the mean of logsumexp(z) - z[next] over the logits' rows
    rows = [list(map(int, l.split()))[:24] for l in open(PROMPTS_IDS).read().splitlines()[:2]]
    p = ss.ppl(model, ids=rows, length=24, progress=False, ablate="L2H1:mean")
    nll = []
    for ids in rows:
        z = model.logits(ids, ablate="L2H1:mean").astype(np.float64)
        m = z.max(axis=1, keepdims=True)
        lse = (m[:, 0] + np.log(np.exp(z - m).sum(axis=1)))[:-1]
        nll.append(lse - z[np.arange(len(ids) - 1), ids[1:]])
    assert p.loss == pytest.approx(np.mean(np.concatenate(nll)), rel=1e-12, abs=1e-12)


def test_bad_specs(ss, model):
    with pytest.raises(ss.Error, match="ablate 'L9H0': expected|no head L9H0"):
        model.logits(IDS, ablate="L9H0")
    with pytest.raises(ss.Error, match="mode after ':'"):
        model.logits(IDS, ablate="L1H3:half")
    with pytest.raises(ss.Error, match="head_rope_remove 'L1H3'"):
        ss.ppl(model, ids=str(PROMPTS_IDS), length=16, count=1, progress=False,
               head_rope_remove="L1H3")
    with pytest.raises(ss.Error, match="ablate: want heads"):
        model.logits(IDS, ablate=3)
