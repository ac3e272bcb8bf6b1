"""Independent reference for `slashscope ppl`: the NLL of every token from
the logits `slashscope logits` wrote (one .npy per prompt) and the ids
themselves, with numpy's own log-sum-exp in float64.

usage: ppl_ref.py PPL_DIR IDS_FILE LEN LOGITS.npy...   (one logits file per prompt)
Exits 1 with a message when any number differs by more than 1e-9 (relative)."""
import csv
import json
import math
import sys

import numpy as np


def nll_rows(logits, ids):
    z = logits.astype(np.float64)[:-1]
    mx = z.max(axis=1, keepdims=True)
    lse = mx[:, 0] + np.log(np.exp(z - mx).sum(axis=1))
    return lse - z[np.arange(len(ids) - 1), ids[1:]]


def close(a, b):
    return abs(a - b) <= 1e-9 * max(1.0, abs(b))


def main():
    out, ids_file, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    lines = [l.split() for l in open(ids_file) if l.strip()]
    per = []
    for line, lf in zip(lines, sys.argv[4:]):
        ids = np.array([int(t) for t in line[:n]])
        per.append(nll_rows(np.load(lf), ids))
    per = np.array(per)
    got = json.load(open(f"{out}/ppl.json"))
    bad = []
    want_loss = per.mean()
    if not close(got["loss"], want_loss):
        bad.append(f"loss {got['loss']} vs {want_loss}")
    if not close(got["perplexity"], math.exp(want_loss)):
        bad.append(f"perplexity {got['perplexity']} vs {math.exp(want_loss)}")
    if got["tokens_scored"] != per.size:
        bad.append(f"tokens_scored {got['tokens_scored']} vs {per.size}")
    rows = list(csv.DictReader(open(f"{out}/ppl.csv")))
    if len(rows) != len(per):
        bad.append(f"{len(rows)} csv rows vs {len(per)} prompts")
    for r, p in zip(rows, per):
        if not close(float(r["nll"]), p.mean()) or int(r["tokens"]) != n:
            bad.append(f"prompt {r['prompt']}: nll {r['nll']} vs {p.mean()}")
    pos = np.load(f"{out}/loss_by_pos.npy")
    if pos.shape != (n,) or not math.isnan(pos[0]):
        bad.append(f"loss_by_pos shape {pos.shape}, entry 0 {pos[0]} (want ({n},), NaN)")
    elif not np.allclose(pos[1:], per.mean(axis=0), rtol=1e-9, atol=1e-12):
        bad.append("loss_by_pos differs from the per-position mean")
    if bad:
        print("\n".join(bad))
        sys.exit(1)
    print(f"loss {want_loss:.6f} over {per.size} tokens agrees")


main()
