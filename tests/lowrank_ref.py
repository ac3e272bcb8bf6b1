#!/usr/bin/python3
"""Checks a model written by `compress --write-model` against its source and
its plan, with numpy only (tests/st_tool.py reads the safetensors):
  - every W_Q / W_K head block the plan compresses (plan.csv kept_rank R <=
    rank_thre and R < d_head) has numerical rank exactly R (numpy SVD,
    singular values above 1e-5 of the largest) and differs from the source;
  - every other block and every other tensor is the source's, byte for byte;
  - the saved share recomputed from those ranks, R (d_head + d) per
    compressed matrix instead of d_head d, equals summary.csv's;
  - config.json is the source's.
usage: lowrank_ref.py SRC_HF WRITTEN PLAN_DIR THRE RANK_THRE
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


def main():
    src, dst, plan, thre, rank_thre = sys.argv[1:6]
    thre, rank_thre = float(thre), int(rank_thre)
    cfg = json.load(open(os.path.join(src, "config.json")))
    if json.load(open(os.path.join(dst, "config.json"))) != cfg:
        raise SystemExit("config.json differs")
    d, H = cfg["hidden_size"], cfg["num_attention_heads"]
    K = cfg.get("num_key_value_heads", H)
    dh = cfg.get("head_dim") or d // H
    a, b = load_all(src), load_all(dst)
    if set(a) != set(b):
        raise SystemExit(f"tensor names differ: {set(a) ^ set(b)}")
    ranks = {}
    with open(os.path.join(plan, "plan.csv")) as f:
        for row in csv.DictReader(f):
            if abs(float(row["thre"]) - thre) < 1e-12:
                ranks[(int(row["layer"]), row["matrix"], int(row["head"]))] = int(row["kept_rank"])
    kept = total = checked = 0
    names = {}
    for (l, mat, h), R in ranks.items():
        name = f"model.layers.{l}.self_attn.{'q' if mat == 'Q' else 'k'}_proj.weight"
        names[name] = 1
        x, y = a[name][h * dh:(h + 1) * dh], b[name][h * dh:(h + 1) * dh]
        total += dh * d
        if R <= rank_thre and R < dh:
            s = np.linalg.svd(y.astype(np.float64), compute_uv=False)
            got = int(np.sum(s > 1e-5 * s[0]))
            if got != R:
                raise SystemExit(f"{name} head {h}: rank {got}, the plan keeps {R} (sv {s})")
            if np.array_equal(x, y):
                raise SystemExit(f"{name} head {h}: compressed but unchanged")
            kept += R * (dh + d)
            checked += 1
        else:
            if x.tobytes() != y.tobytes():
                raise SystemExit(f"{name} head {h}: not compressed but changed")
            kept += dh * d
    for n in a:
        if n not in names and a[n].tobytes() != b[n].tobytes():
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
