"""The command line through its real entry points."""

import json
import subprocess
import sys

import numpy as np
import pytest
import xarray as xr

from neurolearn.cli import main
from neurolearn.tasks import nrmse

SMALL = [
    "--set",
    "network.n=30",
    "--set",
    "task.train_steps=400",
    "--set",
    "task.test_steps=150",
    "--set",
    "readout.washout=50",
]


def test_list(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for name in (
        "ei-reservoir",
        "ei-reservoir-global",
        "esn",
        "narma10",
        "memory-capacity",
        "mackey-glass",
        "lorenz",
    ):
        assert name in out


def test_run_json_and_out(tmp_path, capsys):
    code = main(["run", "esn", "narma10", "--seed", "3", "--json", "--out", str(tmp_path), *SMALL])
    assert code == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["status"] == "ok" and payload["seed"] == 3
    ds = xr.open_dataset(tmp_path / "result.nc", engine="h5netcdf")
    # on the scored test targets, the best constant prediction (their mean) has NRMSE 1;
    # 30 units fit on 400 steps do clearly better (0.57 measured with seed 3)
    target = ds["target"].values
    mean_baseline = nrmse(target, np.full_like(target, target.mean()))
    assert 0 < payload["nrmse"] < 0.8 * mean_baseline
    assert nrmse(target, ds["prediction"].values) == pytest.approx(payload["nrmse"], rel=1e-12)
    assert float(ds["nrmse"]) == pytest.approx(payload["nrmse"])
    assert "n = 30" in ds.attrs["spec"] and ds.attrs["status"] == "ok"
    assert (tmp_path / "figure.png").stat().st_size > 1000


def test_run_table(capsys):
    assert main(["run", "esn", "memory-capacity", *SMALL, "--set", "task.max_delay=20"]) == 0
    out = capsys.readouterr().out
    assert "memory_capacity" in out and "status" in out


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["run", "esm", "narma10"], "Did you mean 'esn'"),
        (["run", "esn", "narma10", "--set", "network.spectral_radios=1"], "spectral_radius"),
        (["run", "esn", "narma10", "--set", "network.n=-3"], "network.n"),
        (
            ["run", "ei-reservoir", "narma10", "--set", "network.excitatory_fraction=1.5"],
            "excitatory_fraction",
        ),
        (["run", "ei-reservoir", "narma10", "--set", "rule.target_rate=0"], "target_rate"),
        (["run", "esn", "narma10", "--device", "cuda:7", "--backend", "numba"], "torch"),
    ],
)
def test_bad_input_exits_2(args, fragment, capsys):
    assert main(args) == 2
    err = capsys.readouterr().err
    assert fragment in err
    assert err.count("\n") == 1  # one clear message


def test_diverged_run_exits_1(tmp_path, capsys):
    """NARMA driven far outside its range blows up: recorded as diverged, exit status 1."""
    code = main(["run", "esn", "narma10", *SMALL, "--set", "task.input_high=2.0", "--json"])
    assert code == 1
    payload = json.loads(capsys.readouterr().out)
    assert payload["status"] == "diverged" and "NARMA" in payload["message"]


def test_real_entry_point_subprocess(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "neurolearn", "run", "esn", "narma10", "--json", *SMALL],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["status"] == "ok"
    proc = subprocess.run(
        [sys.executable, "-m", "neurolearn", "run", "nope", "narma10"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2 and "unknown model 'nope'" in proc.stderr


def test_same_spec_and_seed_give_identical_result_files(tmp_path):
    for d in ("a", "b"):
        assert (
            main(
                [
                    "run",
                    "ei-reservoir",
                    "memory-capacity",
                    "--out",
                    str(tmp_path / d),
                    "--set",
                    "network.n=40",
                    "--set",
                    "network.in_degree_exc=5",
                    "--set",
                    "network.in_degree_inh=5",
                    "--set",
                    "rule.steps=300",
                    "--set",
                    "task.max_delay=10",
                    "--set",
                    "task.train_steps=300",
                    "--set",
                    "task.test_steps=100",
                    "--set",
                    "readout.washout=20",
                    "--json",
                ]
            )
            == 0
        )
    a = xr.open_dataset(tmp_path / "a" / "result.nc", engine="h5netcdf")
    b = xr.open_dataset(tmp_path / "b" / "result.nc", engine="h5netcdf")
    a.attrs.pop("wall_s"), b.attrs.pop("wall_s")
    xr.testing.assert_identical(a, b)
    assert np.isfinite(float(a["memory_capacity"]))
    assert "rate_trajectory" in a and "adapted_rate" in a


def test_demo_quick(tmp_path, capsys):
    assert main(["demo", "--quick", "--seeds", "1", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    # robustness first, then local vs rate-matched global, then heterogeneity
    first = [out.index(h) for h in ("Robustness", "Local vs rate-matched", "Heterogeneous vs")]
    assert first == sorted(first)
    assert "memory-capacity" in out and "narma10" in out and "ratio of scores" in out
    summary = json.loads((tmp_path / "demo.json").read_text())
    assert list(summary["comparisons"]) == ["robustness", "local_vs_global", "heterogeneity"]
    rob = summary["comparisons"]["robustness"]
    assert rob["coords"]["task"]["data"] == ["memory-capacity", "narma10"]
    assert (tmp_path / "demo.png").stat().st_size > 10_000
