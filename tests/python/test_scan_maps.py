"""Pooled attention maps through ss.scan(maps=...) against the program's
`scan --maps` files (maps/LxHy.npy, maps/sums.npy), for a head list, for
the scan's own SDHs and for another scan's SDHs; saved folders hold the
program's map files byte for byte; bad specs raise ss.Error."""
import json

import numpy as np
import pytest

from conftest import MODEL, PROMPTS_IDS, cli

SOURCE = ("--ids-file", PROMPTS_IDS, "--len", 64, "--count", 3)


def cli_scan(out, *extra):
    cli("scan", MODEL, *SOURCE, "--threads", 2, "--quiet", "--out", out, *extra)
    return out


def py_scan(ss, model, **kw):
    return ss.scan(model, ids=PROMPTS_IDS, length=64, count=3, threads=2, progress=False, **kw)


def assert_maps_equal_folder(r, d):
    names = json.loads((d / "scan.json").read_text())["maps"]["heads"]
    assert list(r.maps) == names
    for name, m in r.maps.items():
        want = np.load(d / "maps" / (name + ".npy"))
        assert want.dtype == np.float32 and m.shape == want.shape, name
        assert m.astype(np.float32).tobytes() == want.tobytes(), name
    assert r.map_sums.tobytes() == np.load(d / "maps" / "sums.npy").tobytes()


def test_a_head_list_gives_the_programs_maps(ss, model, tmp_path):
    d = cli_scan(tmp_path / "cli", "--maps", "L0H1,L3H2", "--map-size", 16)
    r = py_scan(ss, model, maps="L0H1,L3H2", map_size=16)
    assert list(r.maps) == ["L0H1", "L3H2"] and r.maps["L0H1"].shape == (16, 16)
    assert_maps_equal_folder(r, d)
    # a map is a mean attention: its blocks lie in [0, 1] and its upper blocks are 0
    m = r.maps["L0H1"]
    assert np.all((m >= 0) & (m <= 1)) and np.all(np.triu(m, 1) == 0)
    assert r.map_sums.base is not None or not r.map_sums.flags.owndata  # a view
    r.save(tmp_path / "py")
    for name in ("L0H1.npy", "L3H2.npy", "sums.npy", "L0H1.png"):
        assert (tmp_path / "py" / "maps" / name).read_bytes() == \
            (d / "maps" / name).read_bytes(), name


def test_sdh_maps_equal_the_program(ss, model, tmp_path):
    d = cli_scan(tmp_path / "own", "--maps", "sdh", "--map-size", 8)
    r = py_scan(ss, model, maps="sdh", map_size=8)
    assert len(r.maps) > 0
    assert_maps_equal_folder(r, d)
    # another scan's SDHs, on other prompts
    d2 = tmp_path / "other"
    cli("scan", MODEL, "--ood", 2, "--len", 64, "--quiet", "--out", d2, "--maps",
        "sdh:%s" % d, "--map-size", 8)
    r2 = ss.scan(model, ood=2, length=64, progress=False, maps="sdh:%s" % d, map_size=8)
    assert list(r2.maps) == list(r.maps)
    assert_maps_equal_folder(r2, d2)


def test_no_maps_and_bad_specs(ss, model):
    r = py_scan(ss, model)
    assert r.maps == {} and r.map_sums is None
    with pytest.raises(ss.Error, match="L9H0"):
        py_scan(ss, model, maps="L9H0")
    with pytest.raises(ss.Error, match="map_size"):
        py_scan(ss, model, maps="all", map_size=-1)
    with pytest.raises(ss.Error, match="nowhere"):
        py_scan(ss, model, maps="sdh:/nowhere")
