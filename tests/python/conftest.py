"""Shared set-up of the Python tests: where the shared data, the program and
the package are. CTest sets SS_SHARED, SS_BIN, SLASHSCOPE_LIB and PYTHONPATH;
by hand, from the worktree: `/usr/bin/python3 -m pytest tests/python` after
`cmake --build build` uses ../shared and build/."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "python"))
SHARED = Path(os.environ.get("SS_SHARED", ROOT.parent / "shared"))
BIN = Path(os.environ.get("SS_BIN", ROOT / "build" / "slashscope"))
os.environ.setdefault("OMP_WAIT_POLICY", "passive")

STORIES = SHARED / "models" / "stories260K"
MODEL = STORIES / "stories260K.bin"  # llama2.c checkpoint with tok512.bin beside it
PROMPTS_JSONL = SHARED / "prompts" / "stories260K-samples.jsonl"
PROMPTS_IDS = SHARED / "prompts" / "stories260K-samples.ids"


def cli(*args, check=True):
    """Runs the slashscope program; returns its stdout."""
    p = subprocess.run([str(BIN), *map(str, args)], capture_output=True, text=True)
    if check and p.returncode != 0:
        raise AssertionError("slashscope %s failed (%d): %s" % (" ".join(map(str, args)),
                                                               p.returncode, p.stderr))
    return p.stdout


@pytest.fixture(scope="session")
def ss():
    import slashscope
    return slashscope


@pytest.fixture(scope="session")
def model(ss):
    return ss.Model(MODEL)


@pytest.fixture(scope="session")
def tokens():
    """The reference token sequences s0, s1, s2 of stories260K."""
    return [[int(x) for x in line.split()] for line in
            (STORIES / "tokens.txt").read_text().splitlines() if line.strip()]
