"""Independent check of `slashscope sparsity` (tests/cli_sparsity.sh).

Recomputes, from the attention maps `slashscope attn` wrote for the same ids
(one [N, N] float32 .npy per prompt, layer and head), with NumPy and the
definition in docs/sparsity.md: every head's coverage and kept fraction at
every (v, s) of the grid, the column mass, and checks the command's CSV, grids,
JSON and MInference config against them.

usage: sparsity_check.py OUT_DIR ATTN_DIR PROMPTS LAYERS HEADS
(ATTN_DIR/p{p}_L{l}H{h}.npy for p < PROMPTS)
"""
import csv
import json
import sys

import numpy as np


def pattern(a, v, s):
    """Coverage and kept fraction of the top-v columns and top-s diagonals of
    one causal map a [N, N]: heaviest first, ties to the lower index."""
    n = a.shape[0]
    a = np.tril(a.astype(np.float64))
    i, j = np.indices((n, n))
    causal = j <= i
    col = a.sum(axis=0)
    diag = np.array([np.trace(a, offset=-d) for d in range(n)])
    top_c = np.lexsort((np.arange(n), -col))[:v]
    top_d = np.lexsort((np.arange(n), -diag))[:s]
    keep = causal & (np.isin(j, top_c) | np.isin(i - j, top_d))
    return a[keep].sum() / n, keep.sum() / (n * (n + 1) / 2)


def main():
    out, attn_dir = sys.argv[1], sys.argv[2]
    P, L, H = (int(x) for x in sys.argv[3:6])
    meta = json.load(open(f"{out}/sparsity.json"))
    vg, sg, target = meta["v_grid"], meta["s_grid"], meta["target"]
    cov = np.load(f"{out}/coverage_grid.npy")
    kept = np.load(f"{out}/kept_grid.npy")
    colmass = np.load(f"{out}/colmass.npy")
    n = meta["len"]
    assert cov.shape == (L, H, len(vg), len(sg)) and kept.shape == cov.shape, cov.shape
    assert colmass.shape == (L, H, n), colmass.shape
    assert meta["measured_prompts"] == P
    for name, mean in (("coverage_sum", cov), ("kept_sum", kept)):
        assert np.allclose(np.load(f"{out}/{name}.npy") / P, mean, rtol=0, atol=1e-15), name

    ref_c = np.zeros(cov.shape)
    ref_k = np.zeros(cov.shape)
    ref_m = np.zeros(colmass.shape)
    for p in range(P):
        for l in range(L):
            for h in range(H):
                a = np.load(f"{attn_dir}/p{p}_L{l}H{h}.npy")
                assert a.shape == (n, n), a.shape
                ref_m[l, h] += np.tril(a.astype(np.float64)).sum(axis=0) / (n - np.arange(n)) / P
                for x, v in enumerate(vg):
                    for y, s in enumerate(sg):
                        c, k = pattern(a, v, s)
                        ref_c[l, h, x, y] += c / P
                        ref_k[l, h, x, y] += k / P
    worst = np.abs(cov - ref_c).max()
    print(f"coverage grid: {cov.size} values, worst difference {worst:.3g}")
    assert worst <= 1e-6, worst
    assert np.abs(kept - ref_k).max() <= 1e-12, np.abs(kept - ref_k).max()
    assert np.abs(colmass - ref_m).max() <= 1e-6, np.abs(colmass - ref_m).max()

    rows = list(csv.DictReader(open(f"{out}/sparsity.csv")))
    assert len(rows) == L * H, len(rows)
    config = json.load(open(f"{out}/minference.json"))
    assert isinstance(config, list) and len(config) == L, "one object per layer"
    for r in rows:
        l, h, v, s = int(r["layer"]), int(r["head"]), int(r["v"]), int(r["s"])
        x, y = vg.index(v), sg.index(s)
        c = float(r["coverage"])
        assert abs(c - ref_c[l, h, x, y]) <= 1e-6, (l, h, c, ref_c[l, h, x, y])
        assert abs(float(r["sparsity"]) - ref_k[l, h, x, y]) <= 1e-9
        reached = int(float(r["reached"]))
        assert reached == (c >= target), (l, h, c, reached)
        if reached:
            # nothing clearly cheaper reaches the target
            cheaper = (ref_k[l, h] < ref_k[l, h, x, y] - 1e-12) & (ref_c[l, h] >= target + 1e-6)
            assert not cheaper.any(), (l, h, v, s)
        else:
            assert ref_c[l, h, x, y] >= ref_c[l, h].max() - 1e-6
        layer = config[l]
        assert isinstance(layer, dict) and sorted(layer, key=int) == [str(k) for k in range(H)]
        e = layer[str(h)]
        assert isinstance(e, list) and len(e) == 4 and e[0] == "vertical_and_slash", e
        assert isinstance(e[1], int) and isinstance(e[2], int) and isinstance(e[3], (int, float)), e
        assert (e[1], e[2]) == (v, s) and abs(e[3] - ref_c[l, h, x, y]) <= 1e-6, e
        assert 0 <= e[3] <= 1 + 1e-6
    print(f"{L * H} heads: chosen patterns, CSV and minference.json agree with NumPy")


if __name__ == "__main__":
    main()
