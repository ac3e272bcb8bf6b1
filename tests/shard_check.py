#!/usr/bin/python3
"""Checks a sharded --write-model folder against the same model written as
one file (numpy-free, standard library only; never the code under test).

  shard_check.py ONE_DIR SHARDED_DIR MAX_BYTES

ONE_DIR/model.safetensors is the reference. The expected split is
huggingface_hub's split_torch_state_dict_into_shards rule, reimplemented
here from its documentation: tensors in order; a tensor larger than
MAX_BYTES gets a shard of its own (numbered before the one being filled);
otherwise a new shard starts when the next tensor would take the current
one past MAX_BYTES. Checked: no model.safetensors beside the shards; the
index's total_size and weight_map; each shard holds exactly its tensors in
the reference's order, contiguous, with {"format": "pt"} metadata and the
reference's dtype, shape and bytes; every other file is the same.
Prints a one-line summary; exits 1 on the first mismatch.
"""
import filecmp
import json
import os
import struct
import sys


def read(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    meta = header.pop("__metadata__", None)
    return meta, header, data


def expect_split(names, sizes, cap):
    shards, current, size = [], None, 0
    for name in names:
        b = sizes[name]
        if b > cap:
            shards.append([name])
            continue
        if current is None or size + b > cap:
            current, size = [], 0
            shards.append(current)
        current.append(name)
        size += b
    return shards


def fail(msg):
    print(msg)
    sys.exit(1)


def main():
    one, sharded, cap = sys.argv[1], sys.argv[2], int(sys.argv[3])
    _, ref, ref_data = read(os.path.join(one, "model.safetensors"))
    names = list(ref)  # the file's order (json keeps it)
    sizes = {k: v["data_offsets"][1] - v["data_offsets"][0] for k, v in ref.items()}
    split = expect_split(names, sizes, cap)
    count = len(split)
    if count < 2:
        fail(f"max {cap}: the reference fits one shard; choose a smaller size")
    if os.path.exists(os.path.join(sharded, "model.safetensors")):
        fail("model.safetensors beside the shards")
    index = json.load(open(os.path.join(sharded, "model.safetensors.index.json")))
    if index.get("metadata", {}).get("total_size") != sum(sizes.values()):
        fail(f"total_size {index.get('metadata')} != {sum(sizes.values())}")
    want_map = {}
    for k, group in enumerate(split):
        fname = f"model-{k + 1:05d}-of-{count:05d}.safetensors"
        for name in group:
            want_map[name] = fname
        meta, header, data = read(os.path.join(sharded, fname))
        if meta != {"format": "pt"}:
            fail(f"{fname}: metadata {meta}")
        if list(header) != group:
            fail(f"{fname}: tensors {list(header)}, expected {group}")
        off = 0
        for name in group:
            h, r = header[name], ref[name]
            a, b = h["data_offsets"]
            ra, rb = r["data_offsets"]
            if (h["dtype"], h["shape"]) != (r["dtype"], r["shape"]) or a != off or \
                    data[a:b] != ref_data[ra:rb]:
                fail(f"{fname}: {name} differs from the one-file model's")
            off = b
        if off != len(data):
            fail(f"{fname}: {len(data) - off} bytes after the last tensor")
    if index.get("weight_map") != want_map:
        fail("weight_map differs from the expected split")
    files = lambda d: sorted(f for f in os.listdir(d) if "safetensors" not in f and f != "SHA256SUMS")
    if files(one) != files(sharded) or any(not filecmp.cmp(os.path.join(one, f), os.path.join(sharded, f), shallow=False) for f in files(one)):
        fail(f"other files differ: {files(one)} vs {files(sharded)}")
    print(f"{count} shards of at most {cap} bytes (alone: {sum(len(g) == 1 and sizes[g[0]] > cap for g in split)}), "
          f"{len(names)} tensors as the one file's")


main()
