"""Independent checks of `slashscope compress` output.

usage: compress_ref.py PLAN_DIR [LLAMA2C_BIN TOKEN]
 - kept ranks (eq. 20) recomputed with numpy from energy_q/k.npy for every thre
   in plan.csv; the saved share of every (thre, rank_thre) in summary.csv by
   hand: R (d_head + d) per compressed matrix (R <= rank_thre, R < d_head),
   d_head d otherwise, over every W_Q and W_K;
 - every head's shares sum to 1;
 - with a llama2.c checkpoint and the token a one-token-repeated prompt was
   made of: layer 0's shares of W_Q and W_K from the checkpoint's own bytes
   (every row of H is the token's RMS-normed embedding, so r_l is
   (sigma_l v_l . h)^2 normalised; the norm's scale cancels)."""
import csv
import json
import sys

import numpy as np


def kept_rank(r, thre):
    dh = len(r) - 1
    cum = r[0]
    for R, x in enumerate(sorted(r[1:], reverse=True)):
        if cum > thre:
            return R
        cum += x
    return dh  # never above thre (thre = 1): everything kept


def main():
    out = sys.argv[1]
    eq, ek = np.load(f"{out}/energy_q.npy"), np.load(f"{out}/energy_k.npy")
    L, H, dh1 = eq.shape
    K = ek.shape[1]
    dh = dh1 - 1
    d = json.load(open(f"{out}/plan.json"))["model"]["d_model"]
    bad = []
    for name, e in (("Q", eq), ("K", ek)):
        if not np.allclose(e.sum(axis=2), 1, atol=1e-9):
            bad.append(f"{name} shares do not sum to 1")
    plan = list(csv.DictReader(open(f"{out}/plan.csv")))
    R = {}
    for row in plan:
        e = eq if row["matrix"] == "Q" else ek
        want = kept_rank(e[int(row["layer"]), int(row["head"])], float(row["thre"]))
        got = int(row["kept_rank"])
        if got != want:
            bad.append(f"{row}: kept rank {got}, numpy {want}")
        R.setdefault(row["thre"], []).append(got)
    for s in csv.DictReader(open(f"{out}/summary.csv")):
        rt = int(s["rank_thre"])
        ranks = R[s["thre"]]
        total = len(ranks) * dh * d
        kept = sum(r * (dh + d) if r <= rt and r < dh else dh * d for r in ranks)
        if int(s["params_total"]) != total or int(s["params_kept"]) != kept or \
           abs(float(s["saved_share"]) - (total - kept) / total) > 1e-15:
            bad.append(f"summary {s}: by hand total {total} kept {kept}")
    if len(sys.argv) > 3:
        raw = open(sys.argv[2], "rb").read()
        dim, hid, nl, nh, nkv, vocab, seq = np.frombuffer(raw[:28], dtype=np.int32)
        vocab = abs(vocab)
        f = np.frombuffer(raw[28:], dtype=np.float32)
        emb = f[:vocab * dim].reshape(vocab, dim)
        o = vocab * dim
        att = f[o:o + dim]                      # layer 0's attention RMSNorm weight
        o += nl * dim                           # rms_att of every layer, then wq, wk
        kv = dim * nkv // nh
        wq = f[o:o + dim * dim].reshape(dim, dim)
        o += nl * dim * dim
        wk = f[o:o + kv * dim].reshape(kv, dim)
        x = emb[int(sys.argv[3])].astype(np.float64)
        h = x / np.sqrt(np.mean(x * x) + 1e-5) * att
        for name, w, heads, e in (("Q", wq, nh, eq), ("K", wk, nkv, ek)):
            for j in range(heads):
                _, s, vt = np.linalg.svd(w[j * dh:(j + 1) * dh].astype(np.float64),
                                         full_matrices=False)
                p = (s * (vt @ h)) ** 2
                want = p / p.sum()
                if not np.allclose(e[0, j, 1:], want, atol=1e-6) or e[0, j, 0] != 0:
                    bad.append(f"layer 0 {name} head {j}: {e[0, j]} vs numpy {want}")
    if bad:
        print("\n".join(bad[:10]))
        sys.exit(1)
    print(f"{len(plan)} kept ranks, {len(R)} thresholds agree")


main()
