"""The BLAS kernels a Python process runs: the package makes the program's
start-up choice (engine/blas.h) before the library loads, and results
record it. The expected core comes from /proc/cpuinfo (as cli_blas.sh), the
expected record from the program's `info --json` under the same settings."""
import json
import os
import platform
import subprocess
import sys

import pytest

from conftest import BIN, MODEL, ROOT

pytestmark = pytest.mark.skipif(platform.machine() != "x86_64", reason="x86-64 cores only")

SCRIPT = r"""
import json, os, sys
sys.path.insert(0, %r)
import slashscope as ss
r = ss.scan(ss.Model(%r), ood=1, length=8, skip=0, progress=False)
print(json.dumps({"env": os.environ.get("OPENBLAS_CORETYPE"), "blas": r.meta["blas"]}))
"""


def environment(**extra):
    env = {k: v for k, v in os.environ.items()
           if k not in ("OPENBLAS_CORETYPE", "SLASHSCOPE_BLAS_CORE", "SLASHSCOPE_BLAS_STATE")}
    env.update(extra)
    return env


def python_blas(**extra):
    p = subprocess.run([sys.executable, "-c", SCRIPT % (str(ROOT / "python"), str(MODEL))],
                       capture_output=True, text=True, env=environment(**extra), timeout=120)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def program_blas(**extra):
    p = subprocess.run([str(BIN), "info", str(MODEL), "--json"], capture_output=True, text=True,
                       env=environment(**extra), timeout=120)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)["blas"]


def cpu_flags():
    with open("/proc/cpuinfo") as f:
        info = f.read()
    flags = next(l for l in info.splitlines() if l.startswith("flags")).split(":")[1].split()
    return set(flags), "AuthenticAMD" in info


def best_core():
    flags, amd = cpu_flags()
    if {"avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"} <= flags:
        return "SkylakeX"
    if {"avx2", "fma"} <= flags:
        return "Zen" if amd else "Haswell"
    return "Sandybridge" if "avx" in flags else None


def test_python_runs_the_core_the_program_selects():
    got, want = python_blas(), program_blas()
    assert (got["blas"]["core"], got["blas"]["selection"]) == (want["core"], want["selection"])
    best = best_core()
    if best:
        assert got["blas"]["core"] == best, got


def test_a_core_asked_for_is_selected_before_the_library_loads():
    if "avx" not in cpu_flags()[0]:
        pytest.skip("the CPU has no AVX")
    got = python_blas(SLASHSCOPE_BLAS_CORE="Sandybridge")
    want = program_blas(SLASHSCOPE_BLAS_CORE="Sandybridge")
    assert got["env"] == "Sandybridge" and got["blas"]["core"] == "Sandybridge", got
    assert got["blas"]["selection"].startswith("selected Sandybridge"), got
    assert got["blas"]["selection"] == want["selection"]


def test_a_core_failing_its_check_is_not_used():
    if "avx" not in cpu_flags()[0]:
        pytest.skip("the CPU has no AVX")
    extra = dict(SLASHSCOPE_BLAS_CORE="Sandybridge", SLASHSCOPE_BLAS_SELFCHECK_FAIL="1")
    got, want = python_blas(**extra), program_blas(**extra)
    assert got["env"] is None and got["blas"]["core"] != "Sandybridge", got
    assert got["blas"]["selection"].startswith("kept OpenBLAS's choice"), got
    assert (got["blas"]["core"], got["blas"]["selection"]) == (want["core"], want["selection"])


def test_the_users_openblas_coretype_is_kept():
    got = python_blas(OPENBLAS_CORETYPE="Prescott")
    assert got["env"] == "Prescott" and got["blas"]["core"] == "Prescott", got
    assert got["blas"]["selection"] == "OPENBLAS_CORETYPE=Prescott set by the caller (kept)"
