"""`neurolearn rerun`: a result file or a scan-store point run again from its spec and seed.

Through the real entry points (``main`` and one ``python -m neurolearn`` subprocess). A result
that was not touched reproduces (exit 0); a result file or store point with one value changed is
reported with that value's variable, index and both numbers (exit 1); bad input exits 2 with
one line. The tampered value is changed by a relative 1e-12 so that only an exact comparison
catches it.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import xarray as xr

import neurolearn as nl
from neurolearn.cli import main

SMALL = ["network.n=30", "task.train_steps=300", "task.test_steps=100", "readout.washout=20"]


def _sets(overrides):
    return [arg for item in overrides for arg in ("--set", item)]


@pytest.fixture(scope="module")
def result_file(tmp_path_factory):
    out = tmp_path_factory.mktemp("rerun") / "run"
    code = main(["run", "esn", "narma10", "--seed", "4", "--out", str(out), *_sets(SMALL)])
    assert code == 0
    return out / "result.nc"


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    out = tmp_path_factory.mktemp("rerun-scan") / "s.zarr"
    nl.scan(
        "esn",
        "memory-capacity",
        grid={"network.spectral_radius": [0.5, 0.9], "network.n": [20, 30]},
        seeds=2,
        seed=7,
        out=out,
        overrides=["task.max_delay=10", "task.train_steps=300", "task.test_steps=100"],
        scheduler="synchronous",
        progress=False,
    )
    return out


def test_untouched_result_is_identical(result_file, tmp_path, capsys):
    code = main(["rerun", str(result_file), "--out", str(tmp_path / "again")])
    out = capsys.readouterr().out
    assert code == 0, out
    assert out.startswith("identical: esn on narma10 (seed 4): all 3 data variables")
    again = xr.open_dataset(tmp_path / "again" / "result.nc", engine="h5netcdf").load()
    stored = xr.open_dataset(result_file, engine="h5netcdf").load()
    # an independent check of the written rerun: xarray's own identity, variable by variable
    assert all(stored[name].identical(again[name]) for name in stored.data_vars)
    assert (tmp_path / "again" / "figure.png").is_file()


def test_tampered_result_names_variable_index_and_values(result_file, tmp_path, capsys):
    ds = xr.open_dataset(result_file, engine="h5netcdf").load()
    original = float(ds["prediction"].values[17])
    ds["prediction"].values[17] = original * (1 + 1e-12)
    tampered = tmp_path / "tampered.nc"
    ds.to_netcdf(tampered, engine="h5netcdf")
    assert main(["rerun", str(tampered)]) == 1
    out = capsys.readouterr().out
    assert out.startswith(
        "differs: esn on narma10 (seed 4): variable 'prediction' at index [t=17]:"
    )
    assert f"stored {original * (1 + 1e-12)!r}, rerun {original!r}" in out


def test_changed_attribute_is_a_difference_but_timings_are_not(result_file, tmp_path, capsys):
    ds = xr.open_dataset(result_file, engine="h5netcdf").load()
    ds.attrs["wall_s"] = 1e6  # a timing: ignored
    timed = tmp_path / "timed.nc"
    ds.to_netcdf(timed, engine="h5netcdf")
    assert main(["rerun", str(timed)]) == 0
    ds.attrs["status"] = "diverged"
    changed = tmp_path / "changed.nc"
    ds.to_netcdf(changed, engine="h5netcdf")
    capsys.readouterr()
    assert main(["rerun", str(changed)]) == 1
    assert "attribute 'status': stored 'diverged', rerun 'ok'" in capsys.readouterr().out


def test_store_point_by_index_and_by_values(store, capsys):
    ds = nl.open_scan(store)
    # flat index 5 in C order over (spectral_radius, n, seed): radius 0.9, n 20, seed 1
    assert main(["rerun", str(store), "--point", "5"]) == 0
    out = capsys.readouterr().out
    assert "point 5 (network.spectral_radius=0.9, network.n=20, seed=1)" in out
    assert out.startswith("identical")
    code = main(["rerun", str(store), "--point", "network.n=20,network.spectral_radius=0.9,seed=1"])
    assert code == 0
    assert "point 5 " in capsys.readouterr().out
    # the rerun of that point is the store's numbers, and another point's are different
    again = nl.rerun(store, point=5)
    stored = float(ds["memory_capacity"].isel({"network.spectral_radius": 1, "network.n": 0})[1])
    assert float(again["memory_capacity"]) == stored
    other = float(ds["memory_capacity"].isel({"network.spectral_radius": 1, "network.n": 0})[0])
    assert other != stored


def test_tampered_store_point_is_named(store, tmp_path, capsys):
    import shutil

    import zarr

    copy = tmp_path / "copy.zarr"
    shutil.copytree(store, copy)
    group = zarr.open_group(str(copy), mode="r+", use_consolidated=False)
    curve = group["mc_curve"]
    value = float(curve[0, 1, 0, 3])
    curve[0, 1, 0, 3] = value + 0.25
    assert main(["rerun", str(copy), "--point", "2"]) == 1
    out = capsys.readouterr().out
    assert out.startswith("differs: point 2 (network.spectral_radius=0.5, network.n=30, seed=0)")
    # position 3 along delay is the delay k = 4
    where = "variable 'mc_curve' at index [delay=3] (delay=4)"
    assert f"{where}: stored {value + 0.25!r}, rerun {value!r}" in out


@pytest.mark.parametrize(
    "args, message",
    [
        (["missing.nc"], "missing.nc: no such file or folder."),
        (["STORE"], "is a scan store: give the point"),
        (["STORE", "--point", "8"], "must be a flat index in [0, 8)"),
        (["STORE", "--point", "-1"], "must be a flat index in [0, 8)"),
        (["STORE", "--point", "network.n=20,seed=0"], "must give every key of this store"),
        (
            ["STORE", "--point", "network.n=25,network.spectral_radius=0.5,seed=0"],
            "network.n=25 is not a value of this store",
        ),
        (["RESULT", "--point", "1"], "--point applies only to a scan store"),
        (["NOTRESULT"], "not a result file"),
        (["NOSPEC"], "not a neurolearn result (no 'spec' attribute"),
    ],
)
def test_bad_input_exits_2_with_one_line(args, message, store, result_file, tmp_path, capsys):
    not_result = tmp_path / "notes.nc"
    not_result.write_text("not netCDF")
    no_spec = tmp_path / "plain.nc"
    xr.Dataset({"x": ("t", np.arange(3.0))}).to_netcdf(no_spec, engine="h5netcdf")
    where = {
        "STORE": str(store),
        "RESULT": str(result_file),
        "NOTRESULT": str(not_result),
        "NOSPEC": str(no_spec),
    }
    args = [where.get(a, a) for a in args]
    if args[0] == "missing.nc":
        args[0] = str(tmp_path / "missing.nc")
    assert main(["rerun", *args]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err, err


def test_uncomputed_store_point_is_refused(store, tmp_path, capsys):
    import shutil

    import zarr

    copy = tmp_path / "partial.zarr"
    shutil.copytree(store, copy)
    group = zarr.open_group(str(copy), mode="r+", use_consolidated=False)
    group["status"][1, 1, 1] = ""
    assert main(["rerun", str(copy), "--point", "7"]) == 2
    assert "point 7 (" in capsys.readouterr().err


def test_subprocess_entry_point(result_file):
    done = subprocess.run(
        [sys.executable, "-m", "neurolearn", "rerun", str(result_file)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("identical: esn on narma10 (seed 4)")
