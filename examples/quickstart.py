#!/usr/bin/env python3
"""The paper's study (Cheng, Zhang, Hou et al., "Demystifying the Slash
Pattern in Attention: The Role of RoPE") on the 260K-parameter TinyStories
model, from Python in a minute. docs/python.md explains each step.

    /usr/bin/python3 examples/quickstart.py [SHARED_DIR] [OUT_DIR]

SHARED_DIR defaults to ../shared next to this checkout ($SS_SHARED too);
OUT_DIR (default: a temporary folder) receives the scan folders.
"""
import os
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "python"))  # a checkout; an installed package works too
import numpy as np  # noqa: E402

import slashscope as ss  # noqa: E402

shared = Path(sys.argv[1] if len(sys.argv) > 1 else
              os.environ.get("SS_SHARED", HERE.parent.parent / "shared"))
out = Path(sys.argv[2]) if len(sys.argv) > 2 else Path(tempfile.mkdtemp(prefix="quickstart-"))
N = 256  # tokens per prompt

# 1. The model and its RoPE schedule: theta_l = base^(-2(l-1)/d_head), radians per token.
m = ss.Model(shared / "models" / "stories260K" / "stories260K.bin")
print(m)
print("RoPE angles per token:", np.array2string(m.theta, precision=4))

# 2. One sequence: tokens, logits, one head's attention map.
ids = m.tokenize("Once upon a time, there was a little girl named Lily. She loved to play.")
logits = m.logits(ids)
print("next token after the sentence:", m.piece(int(logits[-1].argmax())))
a = m.attention(ids, layer=3, head=6)
print("L3H6 on its first sub-diagonal (previous token):",
      np.round(np.diagonal(a, offset=-1)[:8], 3))

# 3. Scan in-distribution text: the average slash score of every head and offset.
r_id = ss.scan(m, prompts=shared / "prompts" / "stories260K-samples.jsonl", length=N, count=16,
               progress=False)
print(r_id)
sdh = r_id.sdh(kappa=0.1, delta=(0, 4))
print("%d slash-dominant (head, offset) pairs at kappa 0.1; the strongest:" % len(sdh))
for layer, head, delta, score in sdh[:5]:
    i = (layer, head, delta)
    lo, hi = r_id.ci95
    print("  L%dH%d  delta %d  score %.3f  (95%% interval %.3f..%.3f over %d prompts)"
          % (layer, head, delta, score, lo[i], hi[i], r_id.count[i]))

# 4. Takeaway 1: SDHs are intrinsic -- they keep their score on random tokens.
r_ood = ss.scan(m, ood=16, length=N, seed=1, progress=False)
cmp = ss.compare(r_id, r_ood, kappa=0.1, delta=(0, 4))
s = cmp.summary
print("OOD / text score ratio over %d SDHs: median %.2f (quartiles %.2f..%.2f)"
      % (s["n"], s["median"], s["q1"], s["q3"]))
late = [row for row in cmp.rows if row[0] > 0]
print("  without layer 0 (content-driven there): median %.2f"
      % np.median([row[5] for row in late if np.isfinite(row[5])]))

# 5. Takeaway 2: the SDHs' pre-RoPE keys are nearly rank one (SPEC.md section 3).
k = ss.rank(m, r_id, ood=4, length=N, progress=False)  # heads = the SDHs of r_id
print("r1(K): %.3f over the SDHs, %.3f over all heads; r1(H) %.3f"
      % (k.summary["listed"]["r1_K"], k.summary["all"]["r1_K"], k.summary["all"]["r1_H"]))

# 6. Takeaway 3: the embedding cone, layer 0 over the whole vocabulary.
cone = ss.cone(m)
share = cone.q[:, cone.columns.index("dominant_share")]
print("layer 0: the dominant direction of W_Q holds %.2f..%.2f of each token's energy"
      % (share.min(), share.max()))

# 7. Takeaway 4: which RoPE frequencies make the slash (band ablations, Figure 16).
f = ss.freq(m, [(3, 6), (1, 3)], ood=4, length=N, progress=False)
for s, (layer, head) in enumerate(f.heads):
    kept = ["%s %.2f" % (v, f.ratio(v)[s, 1]) for v in f.variants[1:]]
    print("L%dH%d at delta 1, score kept without each band: %s" % (layer, head, ", ".join(kept)))

# 8. Theorem 5.3 in the theory lab: high frequencies make layer 1 slash-dominant, low never.
for freqs in ("high", "low"):
    t = ss.theory(freqs=freqs, tau1=40, tau2=40, batch=256, eval_prompts=128)
    print("theory lab, %s frequencies: slash-dominant %s (step %d)"
          % (freqs, t.slash_dominant, t.meta["slash_step"]))

# 9. Results are the program's scan folders: save, reload, merge shards exactly.
r_id.save(out / "scan-id", force=True)  # a re-run of this example replaces its results
r_ood.save(out / "scan-ood", force=True)
again = ss.load_scan(out / "scan-id")
assert again.sum.tobytes() == r_id.sum.tobytes()
more = ss.scan(m, ood=16, length=N, seed=2, progress=False)
both = ss.merge([r_ood, more])
print("merged OOD scans: %d prompts; `slashscope sdh %s` lists the same SDHs"
      % (both.prompts, out / "scan-id"))
