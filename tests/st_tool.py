#!/usr/bin/python3
"""Independent safetensors reader/editor for the intervention and compression
tests (numpy only; never the code under test).

  st_tool.py copy SRC_DIR DST_DIR [EDIT ...]
      copies an HF folder (config.json, shards, index) applying edits to F32
      tensors, each EDIT one argument:
        zero:NAME                 every element 0
        rows:NAME:A:B:VALUE       rows A..B-1 set to VALUE
  st_tool.py rank DIR NAME A B TOL
      prints the numerical rank (singular values > TOL * largest) of rows
      A..B-1 of tensor NAME (one head's block of a q/k projection).
"""
import json
import os
import shutil
import struct
import sys

import numpy as np

DTYPES = {"F32": np.float32, "F16": np.float16, "F64": np.float64}


def read_file(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if info["dtype"] not in DTYPES:
            raise SystemExit(f"{path}: {name}: dtype {info['dtype']} not supported here")
        a, b = info["data_offsets"]
        tensors[name] = np.frombuffer(data[a:b], dtype=DTYPES[info["dtype"]]).reshape(
            info["shape"]).copy()
    return header.get("__metadata__"), tensors


def write_file(path, meta, tensors):
    header, blobs, off = {}, [], 0
    if meta is not None:
        header["__metadata__"] = meta
    for name, t in tensors.items():
        raw = np.ascontiguousarray(t).tobytes()
        dt = {v: k for k, v in DTYPES.items()}[t.dtype.type]
        header[name] = {"dtype": dt, "shape": list(t.shape), "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h)
        for b in blobs:
            f.write(b)


def shards(folder):
    idx = os.path.join(folder, "model.safetensors.index.json")
    if os.path.exists(idx):
        return sorted(set(json.load(open(idx))["weight_map"].values()))
    return ["model.safetensors"]


def find(folder, name):
    for s in shards(folder):
        meta, t = read_file(os.path.join(folder, s))
        if name in t:
            return t[name]
    raise SystemExit(f"{folder}: no tensor {name}")


def edit(tensors, spec):
    kind, rest = spec.split(":", 1)
    if kind == "zero":
        tensors[rest][...] = 0
    elif kind == "rows":
        name, a, b, v = rest.rsplit(":", 3)
        tensors[name][int(a):int(b)] = float(v)
    else:
        raise SystemExit(f"unknown edit {spec}")


def copy(src, dst, edits):
    os.makedirs(dst, exist_ok=True)
    for f in os.listdir(src):
        if not f.endswith(".safetensors"):
            shutil.copy(os.path.join(src, f), dst)
    done = set()
    for s in shards(src):
        meta, t = read_file(os.path.join(src, s))
        for e in edits:
            name = e.split(":", 1)[1].rsplit(":", 3)[0] if e.startswith("rows:") else e.split(":", 1)[1]
            if name in t:
                edit(t, e)
                done.add(e)
        write_file(os.path.join(dst, s), meta, t)
    missing = [e for e in edits if e not in done]
    if missing:
        raise SystemExit(f"{src}: no tensor for {missing}")


def main():
    if sys.argv[1] == "copy":
        copy(sys.argv[2], sys.argv[3], sys.argv[4:])
    elif sys.argv[1] == "rank":
        folder, name, a, b, tol = sys.argv[2:7]
        w = find(folder, name)[int(a):int(b)].astype(np.float64)
        s = np.linalg.svd(w, compute_uv=False)
        print(int(np.sum(s > float(tol) * s[0])) if s[0] > 0 else 0)
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
