"""Scan stores damaged after the fact are repaired on resume; absurd scans are refused up front.

Damage is done to the files of a finished store (a chunk deleted, overwritten with garbage,
truncated; a status chunk deleted); resuming must recompute exactly the damaged points, say how
many, and leave a store equal to an undamaged one. Refusals go through the real entry point
(`python -m neurolearn`) and must exit 2 with a short message and write nothing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

SCAN_TESTS = Path(__file__).resolve().parents[1] / "scan"
if str(SCAN_TESTS) not in sys.path:
    sys.path.insert(0, str(SCAN_TESTS))

from scan_helpers import TOY_MODEL, TOY_TASK, same_results  # noqa: E402

import neurolearn  # noqa: E402
from neurolearn import _memory  # noqa: E402
from neurolearn._scan import limits  # noqa: E402
from neurolearn.errors import ParameterError  # noqa: E402
from neurolearn.scan import format_summary, open_scan, scan  # noqa: E402

ROOT = Path(neurolearn.__file__).resolve().parent.parent
GRID = {"network.a": [1.0, 2.0, 3.0], "task.length": [3, 6]}
SHAPE = (3, 2, 2)  # network.a x task.length x seed
GRID_ARGS = ["--grid", "network.a=1.0,2.0,3.0", "--grid", "task.length=3,6", "--seeds", "2"]
#: (case, variable, point index, damage, reason reported): one damaged point each
DAMAGE = [
    ("deleted data chunk", "score", (1, 0, 1), "delete", "data missing or changed"),
    ("garbage data chunk", "loss", (2, 1, 0), "garbage", "unreadable chunk"),
    ("truncated data chunk", "final", (0, 1, 1), "truncate", "unreadable chunk"),
    ("deleted status chunk", "status", (0, 0, 0), "delete", "status missing"),
    ("garbage status chunk", "status", (1, 1, 0), "garbage", "unreadable chunk"),
    (
        "deleted curve chunk of a padded point",
        "loss",
        (1, 0, 0),
        "delete",
        "data missing or changed",
    ),
    ("deleted worker chunk", "worker", (2, 0, 1), "delete", "data missing or changed"),
]


def _toy_scan(out, log=None, **kw):
    overrides = [f"network.log={str(log)!r}"] if log is not None else []
    return scan(
        TOY_MODEL,
        TOY_TASK,
        grid=GRID,
        seeds=2,
        out=out,
        overrides=overrides,
        scheduler="synchronous",
        progress=False,
        **kw,
    )


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    return _toy_scan(tmp_path_factory.mktemp("ref") / "ref.zarr")


def _chunk(out: Path, name: str, index: tuple) -> Path:
    path = out / name / "c" / "/".join(str(i) for i in index)
    if path.is_file():
        return path
    return path / "0"  # a curve: its own dimension is one chunk


def _damage(out: Path, name: str, index: tuple, how: str) -> None:
    path = _chunk(out, name, index)
    assert path.is_file(), path
    if how == "delete":
        path.unlink()
    elif how == "garbage":
        path.write_bytes(np.random.default_rng(0).bytes(path.stat().st_size))
    elif how == "truncate":
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _logged(log: Path) -> list[int]:
    return sorted(int(x) for x in log.read_text().split()) if log.exists() else []


def _cli(*args, cwd, toy=False):
    """Run the real command in a fresh interpreter (with the toy family for toy stores)."""
    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    )
    if toy:
        code = (
            f"import sys; sys.path.insert(0, {str(SCAN_TESTS)!r}); import scan_toy_family; "
            "from neurolearn.cli import main; sys.exit(main(sys.argv[1:]))"
        )
        command = [sys.executable, "-c", code, *args]
    else:
        command = [sys.executable, "-m", "neurolearn", *args]
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize(
    ("case", "name", "index", "how", "reason"), DAMAGE, ids=[d[0] for d in DAMAGE]
)
def test_resume_repairs_exactly_the_damaged_point(
    tmp_path, reference, case, name, index, how, reason
):
    out, log = tmp_path / "s.zarr", tmp_path / "log.txt"
    _toy_scan(out, log)
    log.unlink()
    _damage(out, name, index, how)
    ds = _toy_scan(out, log, resume=True)
    assert _logged(log) == [int(np.ravel_multi_index(index, SHAPE))]
    assert (ds.attrs["scan_damaged"], ds.attrs["scan_repaired"]) == (1, 1)
    assert ds.attrs["scan_verified"] == 12 - (name == "status")  # a lost status is not "done"
    assert "1 damaged" in format_summary(ds) and "1 repaired" in format_summary(ds)
    same_results(ds, reference)
    # the repair is logged in the store, and a second resume finds nothing to do
    import zarr

    repairs = zarr.open_group(str(out), mode="r", use_consolidated=False).attrs["repairs"]
    assert [(r["damaged"], r["repaired"]) for r in repairs] == [(1, 1)]
    point = dict(zip(["network.a", "task.length", "seed"], index, strict=True))
    assert repairs[0]["points"] == [{"index": point, "reason": reason}]
    assert ds.attrs["scan_damage"] == f"{reason}: 1"
    log.unlink()
    again = _toy_scan(out, log, resume=True)
    assert _logged(log) == [] and again.attrs["scan_damaged"] == 0


def test_deleted_chunk_read_nan_with_status_ok_before_the_repair(tmp_path):
    """The damage the checksum exists for: the store alone looks complete."""
    out = tmp_path / "s.zarr"
    _toy_scan(out)
    _damage(out, "score", (1, 0, 1), "delete")
    ds = open_scan(out)
    point = {"network.a": 1, "task.length": 0, "seed": 1}
    assert str(ds["status"].isel(point).item()) == "ok"
    assert np.isnan(float(ds["score"].isel(point)))


def test_cli_resume_repairs_every_kind_of_damage_at_once(tmp_path, reference):
    out, log = tmp_path / "s.zarr", tmp_path / "log.txt"
    _toy_scan(out, log)
    log.unlink()
    for _, name, index, how, _ in DAMAGE[:4]:
        _damage(out, name, index, how)
    args = ["scan", TOY_MODEL, TOY_TASK, *GRID_ARGS, "--out", str(out)]
    args += ["--set", f"network.log={str(log)!r}", "--scheduler", "synchronous"]
    done = _cli(*args, "--no-progress", "--resume", cwd=tmp_path, toy=True)
    assert done.returncode == 0, done.stderr
    expected = sorted(int(np.ravel_multi_index(d[2], SHAPE)) for d in DAMAGE[:4])
    assert _logged(log) == expected
    line = next(x for x in done.stdout.splitlines() if x.startswith("resume check:"))
    assert "11 finished points checked; 4 damaged (" in line and "4 repaired" in line
    assert "(data missing or changed: 1, status missing: 1, unreadable chunk: 2)" in line
    same_results(open_scan(out), reference)


def test_a_write_cut_between_checksum_and_status_is_recomputed(tmp_path, reference):
    import zarr

    out, log = tmp_path / "s.zarr", tmp_path / "log.txt"
    _toy_scan(out, log)
    log.unlink()
    group = zarr.open_group(str(out), mode="r+", use_consolidated=False)
    group["status"][2, 1, 1] = ""  # data and checksum on disk, status not yet
    group["status"][0, 0, 1] = ""  # cut before its checksum: an ordinary missing point
    group["checksum"][0, 0, 1] = ""
    ds = _toy_scan(out, log, resume=True)
    assert _logged(log) == [1, 11]
    assert ds.attrs["scan_damaged"] == 1 and ds.attrs["scan_damage"] == "status missing: 1"
    same_results(ds, reference)


def test_store_without_checksums_still_repairs_unreadable_chunks(tmp_path, reference):
    """A store from before checksums: decodability is checked, new points get checksums."""
    import zarr

    out, log = tmp_path / "s.zarr", tmp_path / "log.txt"
    _toy_scan(out, log)
    log.unlink()
    shutil.rmtree(out / "checksum")
    group = zarr.open_group(str(out), mode="r+", use_consolidated=False)
    del group.attrs["point_checksum"]
    _damage(out, "loss", (2, 1, 0), "garbage")
    ds = _toy_scan(out, log, resume=True)
    assert _logged(log) == [10] and ds.attrs["scan_repaired"] == 1
    same_results(ds, reference)
    checksums = zarr.open_array(str(out / "checksum"), mode="r")[...]
    assert np.count_nonzero(checksums != "") == 1  # the recomputed point


def test_python_resume_of_missing_store_is_refused(tmp_path):
    with pytest.raises(ParameterError, match="'out' parameter of scan: there is no store"):
        _toy_scan(tmp_path / "missing.zarr", resume=True)
    assert not (tmp_path / "missing.zarr").exists()


def _refused(result, out: Path) -> str:
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert 1 <= len(lines) <= 3 and "Traceback" not in result.stderr, result.stderr
    assert not out.exists()
    return lines[-1]


def test_cli_resume_of_missing_store_exits_2(tmp_path):
    out = tmp_path / "missing.zarr"
    args = ["scan", "esn", "narma10", "--grid", "network.n=20", "--out", str(out), "--resume"]
    line = _refused(_cli(*args, "--scheduler", "synchronous", cwd=tmp_path), out)
    assert "there is no store" in line and "missing.zarr" in line


def test_cli_resume_with_another_model_exits_2(tmp_path):
    out = tmp_path / "s.zarr"
    _toy_scan(out)
    other = tmp_path / "other_toy.toml"
    other.write_text(Path(TOY_MODEL).read_text())
    before = sorted((p.name, p.stat().st_mtime_ns) for p in out.rglob("*"))
    args = ["scan", str(other), TOY_TASK, *GRID_ARGS, "--out", str(out), "--resume"]
    result = _cli(*args, "--scheduler", "synchronous", cwd=tmp_path, toy=True)
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1
    assert "model differs (store: 'toy_model', now: 'other_toy')" in result.stderr
    assert sorted((p.name, p.stat().st_mtime_ns) for p in out.rglob("*")) == before


@pytest.mark.parametrize(
    ("args", "parameter"),
    [
        (["--grid", "network.spectral_radius=0.5:1.1:1000000000"], "grid"),
        (["--grid", "network.spectral_radius=0.5,0.9", "--seeds", "1000000000"], "seeds"),
        (["--grid", "network.spectral_radius=0.5,0.9", "--workers", "100000"], "workers"),
    ],
    ids=["grid", "seeds", "workers"],
)
def test_cli_refuses_absurd_scans(tmp_path, args, parameter):
    out = tmp_path / "s.zarr"
    line = _refused(_cli("scan", "esn", "narma10", *args, "--out", str(out), cwd=tmp_path), out)
    assert f"The '{parameter}' parameter of scan" in line


def test_python_refuses_absurd_scans(tmp_path):
    out = tmp_path / "s.zarr"
    cases = [
        ({"grid": {"network.a": "0.5:1.1:1000000000"}}, "'grid' parameter.*1000000000 values"),
        ({"grid": {"network.a": [1.0]}, "seeds": 10**9}, "'seeds' parameter"),
        ({"grid": {"network.a": [1.0]}, "workers": 10**5}, "'workers' parameter.*at most"),
    ]
    for kw, match in cases:
        kw = {"seeds": 1, "progress": False, **kw}
        with pytest.raises(ParameterError, match=match):
            scan(TOY_MODEL, TOY_TASK, out=out, **kw)
        assert not out.exists()


def test_point_limit_counts_the_specs_of_every_point(tmp_path, monkeypatch):
    """With room for a grid's store records but not its specs, the grid is refused."""
    from neurolearn import specs

    model, task = specs.load_model(TOY_MODEL), specs.load_task(TOY_TASK)
    per_point = limits.store_bytes_per_point() + limits.deep_size((model, task))
    assert limits.deep_size((model, task)) > limits.store_bytes_per_point()
    n = 40  # budget for 40 points of records alone, but for fewer points with their specs
    memory = int(n * limits.store_bytes_per_point() / limits.MEMORY_FRACTION)
    monkeypatch.setattr(limits, "available_memory", lambda: memory)
    assert limits.max_points(per_point) < n
    out = tmp_path / "s.zarr"
    with pytest.raises(ParameterError, match=f"'grid' parameter of scan: {n} values of network.a"):
        scan(
            TOY_MODEL,
            TOY_TASK,
            grid={"network.a": list(np.arange(n, dtype=float))},
            out=out,
            scheduler="synchronous",
            progress=False,
        )
    assert not out.exists()
    small = limits.max_points(per_point)
    ds = scan(
        TOY_MODEL,
        TOY_TASK,
        grid={"network.a": list(np.arange(small, dtype=float))},
        out=out,
        scheduler="synchronous",
        progress=False,
    )
    assert (ds["status"] == "ok").all()


def test_available_memory_reads_meminfo_and_falls_back(tmp_path, monkeypatch):
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal:       2048 kB\nMemFree:  512 kB\nMemAvailable:   1024 kB\n")
    assert _memory.available_memory(str(meminfo)) == 1024 * 1024
    fallback = _memory.available_memory(str(tmp_path / "absent"))
    assert fallback is None or fallback > 0
    # without the file (or its MemAvailable line) and without psutil: the free pages of sysconf
    monkeypatch.setitem(sys.modules, "psutil", None)
    sizes = {"SC_AVPHYS_PAGES": 300, "SC_PAGE_SIZE": 4096}
    monkeypatch.setattr(_memory.os, "sysconf", sizes.__getitem__)
    assert _memory.available_memory(str(tmp_path / "absent")) == 300 * 4096
    meminfo.write_text("MemTotal:       2048 kB\nMemFree:  512 kB\n")
    assert _memory.available_memory(str(meminfo)) == 300 * 4096
    sizes["SC_AVPHYS_PAGES"] = -1
    assert _memory.available_memory(str(meminfo)) is None
