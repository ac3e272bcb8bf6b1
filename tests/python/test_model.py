"""ss.Model against the shared references (llama.cpp, the float64 PyTorch
forward, HF's inv_freq) and against the program's own files, bit for bit."""
import json

import numpy as np
import pytest

from conftest import MODEL, STORIES, cli


def test_dims_and_config(model):
    hf = json.loads((STORIES / "hf" / "config.json").read_text())
    assert model.n_layers == hf["num_hidden_layers"] == 5
    assert model.n_heads == hf["num_attention_heads"]
    assert model.n_kv_heads == hf["num_key_value_heads"]
    assert model.head_dim == hf["hidden_size"] // hf["num_attention_heads"]
    assert model.context == hf["max_position_embeddings"]
    # .config is the program's `info --json`, field for field, but for the
    # machine's BLAS, which the program adds and which is no part of the model
    info = json.loads(cli("info", MODEL, "--json"))
    info.pop("blas", None)
    assert model.config == info


def test_theta_matches_reference_and_is_a_view(model, ss):
    ref = np.load(STORIES / "ref" / "rope_inv_freq.npy")
    full = json.loads((STORIES / "ref" / "summary.json").read_text())["rope_inv_freq"]
    th = model.theta
    assert th.dtype == np.float64 and th.shape == ref.shape
    np.testing.assert_allclose(th, np.asarray(full, dtype=np.float64), rtol=1e-12, atol=0)
    # zero-copy: two reads see the same memory, owned by the model
    assert np.shares_memory(th, model.theta)
    assert th.base.base._owner is model
    assert not th.flags.writeable
    with pytest.raises(ValueError):
        th[0] = 0


def test_tokenize_matches_the_program(model):
    text = "Once upon a time, there was a little girl named Lily."
    want = [int(x) for x in cli("tokenize", MODEL, "--text", text).split()]
    assert model.tokenize(text) == want
    assert want[0] == 1  # llama2.c adds BOS
    assert model.tokenize(text, bos=False) == want[1:]


def test_detokenize_inverts_tokenize_and_matches_the_program(model, ss):
    text = "Once upon a time, there was a little girl named Lily."
    ids = model.tokenize(text, bos=False)
    assert model.detokenize(ids) == text
    want = cli("detokenize", MODEL, "--ids", " ".join(map(str, ids)))
    assert model.detokenize(ids) == want.rstrip("\n")
    assert model.detokenize(ids, raw=True) == text.encode()
    with pytest.raises(ss.Error, match="512"):
        model.detokenize([1, 512])


def test_logits_match_llamacpp_and_the_program(model, tokens, tmp_path):
    ids = tokens[0]
    lg = model.logits(ids)
    assert lg.dtype == np.float32 and lg.shape == (len(ids), model.vocab)
    ref = np.load(STORIES / "ref" / "llamacpp_logits_s0.npy")
    assert np.max(np.abs(lg - ref)) < 1e-4  # docs/accuracy.md's bar
    cli("logits", MODEL, "--ids", " ".join(map(str, ids)), "--out", tmp_path / "l.npy",
        "--quiet")
    assert np.load(tmp_path / "l.npy").tobytes() == lg.tobytes()


def test_attention_matches_llamacpp_and_the_program(model, tokens, tmp_path):
    ids = tokens[0]
    ref = np.load(STORIES / "ref" / "llamacpp_attn_s0.npy")
    for layer, head in [(0, 0), (1, 3), (4, 7)]:
        a = model.attention(ids, layer, head)
        assert a.shape == (len(ids), len(ids)) and a.dtype == np.float32
        assert np.max(np.abs(a - ref[layer, head])) < 1e-4
        assert np.all(np.triu(a, 1) == 0)
    for flags, kw in [((), {}), (("--p-rope", "0.5"), {"p_rope": 0.5}),
                      (("--rope-remove", "1,3"), {"rope_remove": [1, 3]})]:
        out = tmp_path / "a.npy"
        cli("attn", MODEL, "--ids", " ".join(map(str, ids)), "--layer", 2, "--head", 5,
            "--out", out, "--quiet", *flags)
        assert np.load(out).tobytes() == model.attention(ids, 2, 5, **kw).tobytes(), flags


def test_rope_ablation_identities(model, tokens):
    ids = tokens[0]
    base = model.logits(ids)
    # removing no frequency, or keeping all (p = 1), is the model itself
    assert model.logits(ids, rope_remove=[]).tobytes() == base.tobytes()
    assert model.logits(ids, p_rope=1.0).tobytes() == base.tobytes()
    # removing every frequency is NoPE (p = 0); and it does change the logits
    every = list(range(1, model.head_dim // 2 + 1))
    nope = model.logits(ids, p_rope=0.0)
    assert model.logits(ids, rope_remove=every).tobytes() == nope.tobytes()
    assert np.max(np.abs(nope - base)) > 1e-3


def test_bad_model(ss, tmp_path):
    with pytest.raises(ss.Error) as e:
        ss.Model(tmp_path / "missing.bin")
    assert "missing.bin" in str(e.value)
    bad = tmp_path / "junk.gguf"
    bad.write_bytes(b"GGUF\x03\x00\x00\x00" + b"\xff" * 40)
    with pytest.raises(ss.Error) as e:
        ss.Model(bad)
    assert "junk.gguf" in str(e.value) and e.value.code in ("format", "unsupported")
    with pytest.raises(ss.Error, match="must be a path"):
        ss.Model(42)


def test_bad_ids(model, ss):
    with pytest.raises(ss.Error, match=r"token id 512 at position 2 is outside the vocabulary"):
        model.logits([1, 2, 512])
    with pytest.raises(ss.Error, match="empty"):
        model.logits([])
    with pytest.raises(ss.Error, match="integers"):
        model.logits([1.5, 2.0])
    with pytest.raises(ss.Error, match="not a valid id"):
        model.logits([1, -3])
    with pytest.raises(ss.Error, match="1-D"):
        model.logits([[1, 2], [3, 4]])
    with pytest.raises(ss.Error, match="more than the model's context of 512.*allow_long"):
        model.logits([1] * 513)


def test_bad_arguments(model, ss, tokens):
    ids = tokens[0]
    with pytest.raises(ss.Error, match="layer 5 is out of range: the model has layers 0..4"):
        model.attention(ids, 5, 0)
    with pytest.raises(ss.Error, match="head -1 is out of range"):
        model.attention(ids, 0, -1)
    with pytest.raises(ss.Error, match="layer must be an integer"):
        model.attention(ids, "0", 0)
    with pytest.raises(ss.Error, match="p_rope must be from 0 to 1, got 1.5"):
        model.logits(ids, p_rope=1.5)
    with pytest.raises(ss.Error, match="frequency index 9 is outside 1..4"):
        model.logits(ids, rope_remove=[9])
    with pytest.raises(ss.Error) as e:
        model.tokenize(b"bytes")
    assert e.value.code == "usage"
