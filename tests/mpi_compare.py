"""Compares a distributed run's output folder with a one-process run's
(tests/cli_mpi.sh): every .npy of the reference must exist; integer arrays
(counts) equal bit for bit, float arrays within 1e-12 relative (float64
sums reassociated across ranks); CSV text fields equal and numbers within
1e-6 relative (they are printed rounded, so the last digit may flip); the
"prompts" counts of the JSON records equal.
usage: mpi_compare.py REF_DIR OTHER_DIR"""
import json
import os
import sys

import numpy as np


def close(a, b, rel):
    return abs(a - b) <= rel * max(1.0, abs(a), abs(b))


def cmp_npy(ref, oth):
    a, b = np.load(ref), np.load(oth)
    if a.shape != b.shape or a.dtype != b.dtype:
        return f"shape/dtype {a.shape} {a.dtype} vs {b.shape} {b.dtype}"
    if a.dtype.kind in "iub":
        return None if np.array_equal(a, b) else "integer arrays differ"
    fa, fb = a.astype(np.float64), b.astype(np.float64)
    if not np.array_equal(np.isnan(fa), np.isnan(fb)):
        return "NaN positions differ"
    m = ~np.isnan(fa)
    d = np.abs(fa[m] - fb[m]) / np.maximum(1.0, np.maximum(np.abs(fa[m]), np.abs(fb[m])))
    worst = float(d.max()) if d.size else 0.0
    return None if worst <= 1e-12 else f"relative difference {worst:.3g} > 1e-12"


def cmp_csv(ref, oth):
    ra, rb = open(ref).read().split("\n"), open(oth).read().split("\n")
    if len(ra) != len(rb):
        return "row counts differ"
    for i, (x, y) in enumerate(zip(ra, rb)):
        fx, fy = x.split(","), y.split(",")
        if len(fx) != len(fy):
            return f"row {i}: field counts differ"
        for u, v in zip(fx, fy):
            try:
                if not close(float(u), float(v), 1e-6):
                    return f"row {i}: {u} vs {v}"
            except ValueError:
                if u != v:
                    return f"row {i}: {u!r} vs {v!r}"
    return None


def prompts_of(path):
    j = json.load(open(path))
    found = []

    def walk(o):
        if isinstance(o, dict):
            for k, v in o.items():
                if k == "prompts" and isinstance(v, (int, float)):
                    found.append(v)
                walk(v)
        elif isinstance(o, list):
            for v in o:
                walk(v)
    walk(j)
    return found


def main():
    ref, oth = sys.argv[1], sys.argv[2]
    bad, checked = [], 0
    for root, _, files in os.walk(ref):
        for f in sorted(files):
            r = os.path.join(root, f)
            o = os.path.join(oth, os.path.relpath(r, ref))
            kind = os.path.splitext(f)[1]
            if kind not in (".npy", ".csv", ".json"):
                continue
            if not os.path.exists(o):
                bad.append(f"{o}: missing")
                continue
            if kind == ".npy":
                msg = cmp_npy(r, o)
            elif kind == ".csv":
                msg = cmp_csv(r, o)
            else:
                msg = None if prompts_of(r) == prompts_of(o) else "prompt counts differ"
            checked += 1
            if msg:
                bad.append(f"{o}: {msg}")
    if checked == 0:
        bad.append(f"{ref}: nothing to compare")
    for b in bad:
        print(b)
    print(f"{checked} files compared, {len(bad)} differ")
    sys.exit(1 if bad else 0)


main()
