"""The Zarr store: layout, seeding, failures, resume, and writes cut by a kill."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import xarray as xr
from scan_helpers import TOY_MODEL, TOY_TASK, same_results

from neurolearn import specs
from neurolearn.experiment import run_specs
from neurolearn.scan import format_summary, open_scan, scan, summarize

GRID = {"network.a": [1.0, 2.0, 3.0], "task.length": [3, 6]}


def _scan(out, grid=GRID, **kw):
    kw.setdefault("seeds", 2)
    return scan(
        TOY_MODEL, TOY_TASK, grid=grid, out=out, scheduler="synchronous", progress=False, **kw
    )


def test_layout_and_points_match_direct_runs(tmp_path):
    ds = _scan(tmp_path / "s.zarr", seed=7)
    assert list(ds["status"].dims) == ["network.a", "task.length", "seed"]
    assert ds["loss"].dims == ("network.a", "task.length", "seed", "step")
    np.testing.assert_array_equal(ds["seed"], [0, 1])
    np.testing.assert_array_equal(ds["step"], np.arange(6))
    assert (ds["status"] == "ok").all()
    assert ds.attrs["model"] == "toy_model" and "scan-toy" in ds.attrs["spec"]
    # every point equals a direct run with the spawned child of SeedSequence(7)
    children = np.random.SeedSequence(7).spawn(12)
    for flat, child in enumerate(children):
        i, j, s = np.unravel_index(flat, (3, 2, 2))
        over = [("network.a", GRID["network.a"][i]), ("task.length", GRID["task.length"][j])]
        ref = run_specs(
            specs.load_model(TOY_MODEL, over), specs.load_task(TOY_TASK, over), seed=child
        )
        point = ds.isel({"network.a": i, "task.length": j, "seed": s})
        assert float(point["score"]) == float(ref["score"])
        length = GRID["task.length"][j]
        np.testing.assert_array_equal(point["loss"].values[:length], ref["loss"].values)
        assert np.isnan(point["loss"].values[length:]).all()  # shorter curves padded with NaN


def test_seeds_differ_between_points_and_seed_changes_results(tmp_path):
    a = _scan(tmp_path / "a.zarr", seed=0)
    b = _scan(tmp_path / "b.zarr", seed=1)
    scores = a["score"].values.ravel()
    assert len(set(scores - np.round(scores))) == scores.size  # independent noise per point
    assert not np.array_equal(a["score"].values, b["score"].values)


def test_failing_and_diverging_points_do_not_stop_the_scan(tmp_path):
    ds = _scan(tmp_path / "s.zarr", overrides=["network.fail_when=2.0", "network.diverge_when=3.0"])
    status = ds["status"]
    assert (status.sel({"network.a": 1.0}) == "ok").all()
    assert (status.sel({"network.a": 2.0}) == "failed").all()
    assert (status.sel({"network.a": 3.0}) == "diverged").all()
    msg = str(ds["message"].sel({"network.a": 2.0}).values[0, 0])
    assert msg.startswith("ValueError: toy failure at a=2.0")
    assert "toy divergence" in str(ds["message"].sel({"network.a": 3.0}).values[0, 0])
    assert np.isnan(ds["score"].sel({"network.a": 2.0})).all()
    assert np.isfinite(ds["score"].sel({"network.a": 1.0})).all()
    s = summarize(ds)
    assert (s["ok"], s["failed"], s["diverged"], s["missing"]) == (4, 4, 4, 0)
    text = format_summary(ds)
    assert "4 ok, 4 diverged, 4 failed" in text and "failed at network.a=2.0" in text


def test_store_opens_with_plain_xarray_quietly(tmp_path):
    out = tmp_path / "s.zarr"
    ref = _scan(out)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ds = xr.open_zarr(out).load()
    np.testing.assert_array_equal(ds["score"].values, ref["score"].values)
    assert ds.attrs["scan"]["seeds"] == 2


def _log_points(path) -> list[int]:
    return [int(x) for x in path.read_text().split()] if path.exists() else []


def test_resume_computes_only_missing_and_failed_points(tmp_path):
    import zarr

    out, log = tmp_path / "s.zarr", tmp_path / "log.txt"
    ref = _scan(tmp_path / "ref.zarr")
    over = [f"network.log={str(log)!r}"]
    _scan(out, overrides=over)
    assert sorted(_log_points(log)) == list(range(12))
    log.unlink()
    group = zarr.open_group(str(out), mode="r+", use_consolidated=False)
    group["status"][0, 1, 1] = "failed"  # flat 3: a failed point is computed again
    group["status"][2, 0, 0] = ""  # flat 8: as if cut after its data but before its status
    group["score"][2, 0, 0] = 1e9  # data of that cut write, to be overwritten
    group["step"][3:] = 0  # a coordinate write cut after its resize, to be repaired
    (out / "status" / "c" / "0" / "0" / "1.abc.partial").write_bytes(b"garbage")
    ds = _scan(out, overrides=over, resume=True)
    assert sorted(_log_points(log)) == [3, 8]
    assert not list(out.rglob("*.partial"))
    same_results(ds, ref)
    log.unlink()
    _scan(out, overrides=over, resume=True)  # nothing left to do
    assert _log_points(log) == []


def test_existing_store_needs_resume_and_same_spec(tmp_path):
    out = tmp_path / "s.zarr"
    _scan(out)
    before = sorted((p.name, p.stat().st_mtime_ns) for p in out.rglob("*"))
    with pytest.raises(ValueError, match="already exists. Pass resume=True"):
        _scan(out)
    cases = [
        ({"seeds": 3}, "seeds differs"),
        ({"seed": 5}, "seed differs"),
        (
            {"overrides": ["network.b=2.0"]},
            r"resolved spec differs \(network.b: store 1.0, now 2.0\)",
        ),
        (
            {"grid": {"network.a": [1.0, 2.0], "task.length": [3, 6]}},
            "values of grid key 'network.a' differ",
        ),
        ({"grid": {"task.length": [3, 6], "network.a": [1.0, 2.0, 3.0]}}, "grid_keys differs"),
    ]
    for kw, match in cases:
        with pytest.raises(ValueError, match="written by a different scan; (the )?" + match):
            _scan(out, resume=True, **kw)
    assert sorted((p.name, p.stat().st_mtime_ns) for p in out.rglob("*")) == before


def test_resume_of_absent_store_is_refused_auto_starts_it_and_non_store_is_refused(tmp_path):
    with pytest.raises(ValueError, match="there is no store .*new.zarr' to resume"):
        _scan(tmp_path / "new.zarr", resume=True, seeds=1)
    assert not (tmp_path / "new.zarr").exists()
    ds = _scan(tmp_path / "new.zarr", resume="auto", seeds=1)
    assert (ds["status"] == "ok").all() and "scan_verified" not in ds.attrs
    again = _scan(tmp_path / "new.zarr", resume="auto", seeds=1)
    assert again.attrs["scan_computed"] == 0 and again.attrs["scan_verified"] == 6
    with pytest.raises(TypeError, match="'resume' parameter of scan must be True, False or"):
        _scan(tmp_path / "new.zarr", resume="yes", seeds=1)
    other = tmp_path / "other"
    other.mkdir()
    with pytest.raises(ValueError, match="is not a scan store"):
        _scan(other, resume=True)
    with pytest.raises(ValueError, match="not a scan store"):
        open_scan(other)


def test_a_store_being_written_by_a_live_scan_is_refused(tmp_path):
    import socket
    import subprocess

    import zarr

    out = tmp_path / "s.zarr"
    _scan(out)
    group = zarr.open_group(str(out), mode="r+", use_consolidated=False)
    assert "writer" not in group.attrs  # released at the end
    host = socket.gethostname()
    sleeper = subprocess.Popen(["sleep", "30"])
    try:
        group.attrs["writer"] = f"{host}:{sleeper.pid}"
        with pytest.raises(ValueError, match=f"another scan \\(process {sleeper.pid}\\)"):
            _scan(out, resume=True)
        group.attrs["writer"] = "elsewhere:12"
        with pytest.raises(ValueError, match="scan on elsewhere"):
            _scan(out, resume=True)
    finally:
        sleeper.kill()
        sleeper.wait()
    # the writer is gone (as after a SIGKILL): resuming takes the store over
    group.attrs["writer"] = f"{host}:{sleeper.pid}"
    ds = _scan(out, resume=True)
    assert (ds["status"] == "ok").all() and "writer" not in ds.attrs
    assert "writer" not in zarr.open_group(str(out), mode="r", use_consolidated=False).attrs
