#!/usr/bin/python3
"""Checks a model written by `compress --write-model` against a Hugging Face
folder of the same model and the plan, with numpy only (tests/st_tool.py
reads the safetensors):
  - every W_Q / W_K head block the plan compresses (plan.csv kept_rank R <=
    rank_thre and R < d_head) has numerical rank exactly R (numpy SVD,
    singular values above 1e-5 of the largest) and differs from the source;
  - every other block, every other row of a fused q/k/v tensor (phi3
    qkv_proj: all q, all k, all v rows; gpt_neox query_key_value: per head
    q, k, v) and every other tensor is the source's, byte for byte;
  - the saved share recomputed from those ranks, R (d_head + d) per
    compressed matrix instead of d_head d, equals summary.csv's;
  - config.json is the source's.
With --converted[=KEY,...] the written folder comes from a llama2.c / GGUF
model and SRC_HF is the HF folder made from it by the data set's own
converter: the written config's keys are the source's with equal values
except the KEYs (and initializer_range, which no checkpoint records; keys
for training / generation may be absent: NO_EFFECT_IF_ABSENT), and
lm_head.weight may be absent when the written config ties it.
usage: lowrank_ref.py SRC_HF WRITTEN PLAN_DIR THRE RANK_THRE [--converted[=KEYS]]
"""
import csv
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import st_tool  # noqa: E402


def load_all(folder):
    out = {}
    for s in st_tool.shards(folder):
        out.update(st_tool.read_file(os.path.join(folder, s))[1])
    return out


# config keys no checkpoint records and the forward pass does not read
NO_EFFECT = {"initializer_range"}
# keys with their class's default or only for training / generation, which
# the data set's converter wrote and a converted model may leave out
NO_EFFECT_IF_ABSENT = {"attention_dropout", "hidden_dropout", "classifier_dropout", "embd_pdrop",
                       "resid_pdrop", "use_cache", "pad_token_id", "cache_implementation",
                       "max_window_layers", "pretraining_tp"}


def check_config(src, dst, converted):
    a = json.load(open(os.path.join(src, "config.json")))
    b = json.load(open(os.path.join(dst, "config.json")))
    if converted is None:
        if a != b:
            raise SystemExit("config.json differs")
        return b
    free = set(converted) | NO_EFFECT
    for k in set(a) | set(b):
        if k in free or (k in NO_EFFECT_IF_ABSENT and k not in b):
            continue
        if a.get(k) != b.get(k):  # absent = null (rope_scaling)
            raise SystemExit(f"config.json: {k}: source {a.get(k, '(absent)')}, "
                             f"written {b.get(k, '(absent)')}")
    return b


def block(cfg, layer, mat, head, dh):
    """(tensor name, first row) of one head's W_Q (mat Q) or W_K block."""
    t, H = cfg["model_type"], cfg["num_attention_heads"]
    k = mat == "K"
    if t == "phi3":
        return f"model.layers.{layer}.self_attn.qkv_proj.weight", (H * k + head) * dh
    if t == "gpt_neox":
        return f"gpt_neox.layers.{layer}.attention.query_key_value.weight", (head * 3 + k) * dh
    return f"model.layers.{layer}.self_attn.{'k' if k else 'q'}_proj.weight", head * dh


def main():
    src, dst, plan, thre, rank_thre = sys.argv[1:6]
    converted = None
    for opt in sys.argv[6:]:
        if opt.startswith("--converted"):
            converted = [k for k in opt.partition("=")[2].split(",") if k]
    thre, rank_thre = float(thre), int(rank_thre)
    cfg = check_config(src, dst, converted)
    d, H = cfg["hidden_size"], cfg["num_attention_heads"]
    dh = cfg.get("head_dim") or d // H
    a, b = load_all(src), load_all(dst)
    missing = set(a) - set(b)
    if converted is not None and cfg.get("tie_word_embeddings"):
        missing -= {"lm_head.weight"}
    if missing or set(b) - set(a):
        raise SystemExit(f"tensor names differ: {missing | (set(b) - set(a))}")
    ranks = {}
    with open(os.path.join(plan, "plan.csv")) as f:
        for row in csv.DictReader(f):
            if abs(float(row["thre"]) - thre) < 1e-12:
                ranks[(int(row["layer"]), row["matrix"], int(row["head"]))] = int(row["kept_rank"])
    kept = total = checked = 0
    covered = {}  # tensor name -> rows checked block by block
    for (l, mat, h), R in ranks.items():
        name, r0 = block(cfg, l, mat, h, dh)
        covered.setdefault(name, np.zeros(a[name].shape[0], bool))[r0:r0 + dh] = True
        x, y = a[name][r0:r0 + dh], b[name][r0:r0 + dh]
        if converted is not None:
            x = x.astype(y.dtype)  # a converted F16 GGUF: the F16 of the HF folder's F32
        total += dh * d
        if R <= rank_thre and R < dh:
            s = np.linalg.svd(y.astype(np.float64), compute_uv=False)
            got = int(np.sum(s > 1e-5 * s[0]))
            if got != R:
                raise SystemExit(f"{name} {mat} head {h}: rank {got}, the plan keeps {R} (sv {s})")
            if np.array_equal(x, y):
                raise SystemExit(f"{name} {mat} head {h}: compressed but unchanged")
            # and of the right directions: along each of the source's own singular directions
            # the written block is either the source's (kept) or zero (dropped), R kept
            _, sx, vt = np.linalg.svd(x.astype(np.float64), full_matrices=False)
            cy, cx = y.astype(np.float64) @ vt.T, x.astype(np.float64) @ vt.T
            tol = (1e-3 if y.dtype == np.float16 else 1e-5) * sx[0]
            on = [np.allclose(cy[:, j], cx[:, j], atol=tol) for j in range(len(sx))]
            off = [np.allclose(cy[:, j], 0, atol=tol) for j in range(len(sx))]
            if not all(k or z for k, z in zip(on, off)) or sum(on) != R:
                raise SystemExit(f"{name} {mat} head {h}: not the source restricted to {R} of "
                                 f"its singular directions (kept {on}, dropped {off})")
            kept += R * (dh + d)
            checked += 1
        else:
            if x.tobytes() != y.tobytes():
                raise SystemExit(f"{name} {mat} head {h}: not compressed but changed")
            kept += dh * d
    for n in b:
        rest = ~covered[n] if n in covered else slice(None)
        x = a[n][rest]
        y = b[n][rest]
        if converted is not None or n in covered:
            x = x.astype(b[n].dtype)
        if converted is not None and cfg["model_type"] in ("gemma", "gemma2") and \
                n.endswith("norm.weight"):
            # Gemma's GGUF holds 1 + w: what both run with is 1 + w
            one = np.float32(1)
            x, y = one + x, one + y
        if x.dtype != y.dtype or x.tobytes() != y.tobytes() or a[n].shape != b[n].shape:
            raise SystemExit(f"{n}: changed")
    with open(os.path.join(plan, "summary.csv")) as f:
        rows = [r for r in csv.DictReader(f) if abs(float(r["thre"]) - thre) < 1e-12
                and int(r["rank_thre"]) == rank_thre]
    share = (total - kept) / total
    if len(rows) != 1 or abs(float(rows[0]["saved_share"]) - share) > 1e-12:
        raise SystemExit(f"saved share {share} vs summary.csv {rows}")
    print(f"{checked} compressed matrices at their kept rank, saved share {share:.6f}")


if __name__ == "__main__":
    main()
