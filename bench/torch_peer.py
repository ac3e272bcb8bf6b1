#!/usr/bin/python3
"""The peer a researcher would use instead of a scan: a PyTorch forward of a
Llama-family Hugging Face folder (F32/BF16 safetensors) that materialises
every layer's attention probabilities the way transformers' eager attention
does with output_attentions=True, then computes the average slash score of
every layer, head and offset (SPEC.md section 2) from those [H, N, N] maps.

  torch_peer.py HF_DIR IDS_FILE OUT.npy [--threads T] [--skip K] [--per-layer]

Default: like `model(ids, output_attentions=True)`, all layers' maps are
kept until the forward ends (and the logits of every position computed),
then scored; memory grows as L * H * N^2. --per-layer scores each layer's
maps and frees them at once (the frugal variant). Writes slash [L, H, N]
float64 (NaN where no pair exists) and prints one JSON line with the time
of the forward and of the scoring. Only the plain Llama math is supported
(RMSNorm, SwiGLU, half-pairing RoPE without scaling, GQA); that is what the
bench model is."""
import argparse
import json
import os
import struct
import sys
import time

import numpy as np
import torch


def load_safetensors(path):
    """name -> float32 torch tensor (BF16 widened), from a memory map."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
    data = np.memmap(path, dtype=np.uint8, mode="r", offset=8 + n)
    out = {}
    for name, t in header.items():
        if name == "__metadata__":
            continue
        a, b = t["data_offsets"]
        raw = data[a:b]
        if t["dtype"] == "F32":
            arr = raw.view(np.float32)
        elif t["dtype"] == "BF16":
            arr = (raw.view(np.uint16).astype(np.uint32) << 16).view(np.float32)
        else:
            sys.exit(f"{path}: tensor {name} has dtype {t['dtype']}; this peer reads F32 or BF16")
        out[name] = torch.from_numpy(np.array(arr).reshape(t["shape"]))
    return out


def rms_norm(x, w, eps):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)


def slash_scores(p, skip):
    """p [H, N, N] causal probabilities -> [H, N] scores: mean over i of
    p[i, i - d] for j = i - d >= skip (rows i in [d + skip, N - 1])."""
    H, N, _ = p.shape
    out = torch.full((H, N), float("nan"), dtype=torch.float64)
    i = torch.arange(N).unsqueeze(1)
    d = torch.arange(N).unsqueeze(0)
    valid = (i - d) >= skip
    rows = (N - torch.arange(N) - skip).clamp(min=0)
    for h in range(H):
        # flipped rows: f[i, m] = p[i, N-1-m]; then p[i, i-d] = f[i, N-1-i+d],
        # at flat offset (N-1) + i(N-1) + d: a strided view of every offset
        f = torch.flip(p[h], dims=[1]).contiguous()
        t = f.as_strided((N, N), (N - 1, 1), N - 1)
        sums = torch.where(valid, t, torch.zeros((), dtype=t.dtype)).sum(0, dtype=torch.float64)
        ok = rows > 0
        out[h, ok] = sums[ok] / rows[ok]
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("hf")
    ap.add_argument("ids")
    ap.add_argument("out")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--skip", type=int, default=4)
    ap.add_argument("--per-layer", action="store_true")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.set_grad_enabled(False)
    t0 = time.time()
    cfg = json.load(open(os.path.join(a.hf, "config.json")))
    if cfg.get("rope_scaling"):
        sys.exit(f"{a.hf}/config.json: rope_scaling is set; this peer supports plain RoPE only")
    W = load_safetensors(os.path.join(a.hf, "model.safetensors"))
    ids = torch.tensor([int(x) for x in open(a.ids).readline().split()])
    N, L = len(ids), cfg["num_hidden_layers"]
    H, K = cfg["num_attention_heads"], cfg.get("num_key_value_heads", cfg["num_attention_heads"])
    D = cfg["hidden_size"]
    dh = cfg.get("head_dim", D // H)
    eps = cfg.get("rms_norm_eps", 1e-6)
    inv = 1.0 / (cfg.get("rope_theta", 10000.0) ** (torch.arange(0, dh, 2, dtype=torch.float64) / dh))
    ang = torch.arange(N, dtype=torch.float64).unsqueeze(1) * inv.unsqueeze(0)
    cos = torch.cat((ang.cos(), ang.cos()), -1).float()
    sin = torch.cat((ang.sin(), ang.sin()), -1).float()
    mask = torch.full((N, N), float("-inf")).triu(1)
    t_load = time.time() - t0

    t1 = time.time()
    x = W["model.embed_tokens.weight"][ids]
    attentions, scores = [], []
    for l in range(L):
        p = f"model.layers.{l}."
        h = rms_norm(x, W[p + "input_layernorm.weight"], eps)
        q = (h @ W[p + "self_attn.q_proj.weight"].T).view(N, H, dh).transpose(0, 1)
        k = (h @ W[p + "self_attn.k_proj.weight"].T).view(N, K, dh).transpose(0, 1)
        v = (h @ W[p + "self_attn.v_proj.weight"].T).view(N, K, dh).transpose(0, 1)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        k = k.repeat_interleave(H // K, dim=0)
        v = v.repeat_interleave(H // K, dim=0)
        w = torch.softmax(q @ k.transpose(1, 2) / dh ** 0.5 + mask, dim=-1, dtype=torch.float32)
        o = (w @ v).transpose(0, 1).reshape(N, H * dh)
        if a.per_layer:
            scores.append(slash_scores(w, a.skip))
        else:
            attentions.append(w)
        del w
        x = x + o @ W[p + "self_attn.o_proj.weight"].T
        h = rms_norm(x, W[p + "post_attention_layernorm.weight"], eps)
        g = h @ W[p + "mlp.gate_proj.weight"].T
        u = h @ W[p + "mlp.up_proj.weight"].T
        x = x + (torch.nn.functional.silu(g) * u) @ W[p + "mlp.down_proj.weight"].T
    x = rms_norm(x, W["model.norm.weight"], eps)
    head = W.get("lm_head.weight", W["model.embed_tokens.weight"])
    logits = x @ head.T  # what model(...) returns next to the attentions
    t_fwd = time.time() - t1

    t2 = time.time()
    if not a.per_layer:
        scores = [slash_scores(w, a.skip) for w in attentions]
    slash = torch.stack(scores).numpy()
    t_score = time.time() - t2
    np.save(a.out, slash)
    print(json.dumps({"peer": "torch", "mode": "per_layer" if a.per_layer else "output_attentions",
                      "n": N, "threads": a.threads, "torch": torch.__version__,
                      "load_s": round(t_load, 3), "forward_s": round(t_fwd, 3),
                      "score_s": round(t_score, 3), "logits_shape": list(logits.shape)}))


if __name__ == "__main__":
    main()
