"""The package as users get it: `pip install ./python` offline, then used
with no environment variable; examples/quickstart.py runs and shows the
paper's takeaway; pandas conversion."""
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from conftest import MODEL, ROOT, SHARED, STORIES


def test_pip_install_offline_bundles_the_library(tmp_path):
    lib = os.environ.get("SLASHSCOPE_LIB", str(ROOT / "build" / "libslashscope.so"))
    src = tmp_path / "python"
    shutil.copytree(ROOT / "python", src, ignore=shutil.ignore_patterns("build", "*.egg-info",
                                                                        "__pycache__"))
    env = dict(os.environ, SLASHSCOPE_LIB=lib, PIP_NO_INDEX="1", PIP_DISABLE_PIP_VERSION_CHECK="1")
    p = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--target",
                        str(tmp_path / "site"), str(src)], env=env, capture_output=True,
                       text=True, timeout=300)
    assert p.returncode == 0, p.stdout + p.stderr
    assert (tmp_path / "site" / "slashscope" / "libslashscope.so").is_file()
    env = {k: v for k, v in os.environ.items() if k not in ("SLASHSCOPE_LIB", "PYTHONPATH")}
    env["PYTHONPATH"] = str(tmp_path / "site")
    code = ("import slashscope as ss, slashscope._lib as l, numpy as np, sys\n"
            "print(l.path)\n"
            "m = ss.Model(sys.argv[1])\n"
            "ids = [int(x) for x in open(sys.argv[2]).readline().split()]\n"
            "print(float(np.max(np.abs(m.logits(ids) - np.load(sys.argv[3])))))\n")
    p = subprocess.run([sys.executable, "-c", code, str(MODEL), str(STORIES / "tokens.txt"),
                        str(STORIES / "ref" / "llamacpp_logits_s0.npy")], env=env,
                       cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    where, diff = p.stdout.split()
    assert where.startswith(str(tmp_path / "site"))  # the bundled copy, not the build tree's
    assert float(diff) < 1e-4


def test_quickstart_runs(tmp_path):
    p = subprocess.run([sys.executable, str(ROOT / "examples" / "quickstart.py"), str(SHARED),
                        str(tmp_path)], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    out = p.stdout
    assert "slash-dominant (head, offset) pairs at kappa 0.1" in out
    assert "OOD / text score ratio over" in out and "merged OOD scans: 32 prompts" in out
    assert "theory lab, high frequencies: slash-dominant True" in out
    assert "theory lab, low frequencies: slash-dominant False" in out
    for d in ("scan-id", "scan-ood"):
        assert (tmp_path / d / "slash_sum.npy").is_file()


def test_to_pandas(ss, model):
    r = ss.scan(model, ood=2, length=24, skip=0, progress=False)
    c = ss.compare(r, r, kappa=0.05)
    f = ss.freq(model, "L1H3", ood=1, length=24, progress=False)
    rows = f.table()
    assert len(rows) == 4 * 5 and rows[0]["variant"] == "none" and rows[0]["ratio"] == 1.0
    assert rows[6]["score"] == f.scores[0, 1, 1]
    try:
        import pandas  # noqa: F401
    except ImportError:
        for x in (r, c, f, ss.rank(model, ood=1, length=24, progress=False), ss.cone(model)):
            with pytest.raises(ImportError, match="needs pandas"):
                x.to_pandas()
        return
    df = r.to_pandas()
    assert len(df) == r.slash.size and list(df.columns[:3]) == ["layer", "head", "delta"]
    row = df[(df.layer == 1) & (df.head == 3) & (df.delta == 1)].iloc[0]
    assert row.slash == r.slash[1, 3, 1] and row["count"] == r.count[1, 3, 1]
    assert len(c.to_pandas()) == len(c) and np.all(c.to_pandas().ratio == 1.0)


def test_the_walkthrough_in_docs_python_md_runs(tmp_path):
    """docs/python.md's code block, as written (with ../shared pointing at
    the shared data), runs without an error."""
    text = (ROOT / "docs" / "python.md").read_text()
    code = text.split("```python\n", 1)[1].split("```", 1)[0]
    assert "ss.rank(" in code and "ss.freq(" in code and "ss.theory(" in code
    code = code.replace("../shared", str(SHARED))
    prelude = "import sys; sys.path.insert(0, %r)\n" % str(ROOT / "python")
    p = subprocess.run([sys.executable, "-c", prelude + code], cwd=tmp_path, capture_output=True,
                       text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    assert (tmp_path / "scan-id" / "scan.json").is_file()
