"""The family through nl.run and the real command-line entry point."""

from __future__ import annotations

import json

import numpy as np
import pytest
import xarray as xr

import neurolearn as nl
from neurolearn.cli import main

SMALL = [
    "task.n_inputs=20",
    "task.teacher_hidden=4",
    "task.n_train=100",
    "task.n_test=50",
    "network.n_hidden=5",
    "train.epochs=40",
    "train.record_every=5",
]


def _set(items):
    out = []
    for item in items:
        out += ["--set", item]
    return out


@pytest.mark.parametrize("model", ["backprop", "curl-descent", "feedback-alignment"])
def test_cli_run_json(model, capsys):
    assert main(["run", model, "teacher", "--json", "--seed", "3"] + _set(SMALL)) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["status"] == "ok" and out["seed"] == 3
    assert 0 < out["final_train_error"] < 1 and out["epochs_run"] == 40


def test_cli_out_files_and_rerun(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["run", "curl-descent", "teacher", "--out", str(out)] + _set(SMALL)) == 0
    assert "final_test_error" in capsys.readouterr().out
    assert (out / "figure.png").stat().st_size > 0
    ds = xr.open_dataset(out / "result.nc", engine="h5netcdf")
    assert ds["train_error"].dims == ("epoch",) and ds["train_error"].sizes["epoch"] == 9
    assert "flipped_hidden = 1" in ds.attrs["spec"]
    again = nl.rerun(ds)
    assert float(again["final_test_error"]) == float(ds["final_test_error"])


def test_threshold_metrics_through_run():
    res = nl.run(
        "backprop",
        "teacher",
        seed=0,
        overrides=SMALL
        + ["train.epochs=400", "train.stop_at_threshold=true", "metric.threshold=0.02"],
    )
    assert res.attrs["status"] == "ok"
    k = float(res["epochs_to_threshold"])
    assert float(res["reached_threshold"]) == 1.0 and k == float(res["epochs_run"]) < 400


def test_diagnostics_through_run():
    res = nl.run(
        "curl-descent",
        "teacher",
        seed=0,
        overrides=SMALL
        + [
            "train.lyapunov_epochs=20",
            "train.curl_diagnostics=true",
            "task.n_inputs=6",
            "network.n_hidden=3",
        ],
    )
    assert res.attrs["status"] == "ok"
    assert float(res["curl_ratio"]) > 0 and np.isfinite(float(res["lyapunov_exponent"]))


def test_online_run_has_theory_beside_simulation():
    res = nl.run(
        "backprop",
        "teacher-online",
        seed=1,
        overrides=[
            "network.activation=erf",
            "network.n_hidden=2",
            "train.learning_rate=0.5",
            "task.n_inputs=300",
            "task.alpha_max=20",
            "task.record_every_alpha=2",
        ],
    )
    assert res.attrs["status"] == "ok"
    sim, ode = res["generalisation_error"].values, res["ode_generalisation_error"].values
    np.testing.assert_allclose(sim, ode, rtol=0.15)
    assert float(res["final_test_error"]) == pytest.approx(sim[-1], rel=0.15)


def test_bad_input_exit_codes(capsys):
    assert main(["run", "backprop", "teacher", "--set", "network.n_hidden=-3"]) == 2
    assert "network.n_hidden" in capsys.readouterr().err
    assert main(["run", "backprop", "teacher", "--set", "network.activation=softplus"]) == 2
    assert "'erf'" in capsys.readouterr().err
    assert main(["run", "curl-descent", "teacher", "--set", "rule.flipped_hiden=2"]) == 2
    assert "flipped_hidden" in capsys.readouterr().err
    assert main(["run", "curl-descent", "teacher", "--set", "rule.flipped_inputs=[1, -2]"]) == 2
    # a flip index beyond the network is checked against network.n_hidden before the run
    code = main(
        ["run", "curl-descent", "teacher", "--json"]
        + _set(SMALL)
        + ["--set", "rule.flipped_hidden=[7]"]
    )
    assert code == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "rule.flipped_hidden" in captured.err
    code = main(
        ["run", "feedback-alignment", "teacher-online", "--json", "--set", "task.alpha_max=1"]
    )
    captured = capsys.readouterr()
    assert code == 2 and captured.out == "" and "feedback-alignment" in captured.err


def test_divergence_is_recorded_with_its_epoch(capsys):
    code = main(
        ["run", "backprop", "teacher", "--json"]
        + _set(SMALL)
        + _set(
            ["network.activation=linear", "train.rescale_norms=false", "train.learning_rate=1e4"]
        )
    )
    out = json.loads(capsys.readouterr().out)
    assert code == 1 and out["status"] == "diverged" and "epoch" in out["message"]


def test_ode_blow_up_is_recorded_as_diverged_not_failed():
    """Division by zero inside the jitted ODE right-hand side yields Inf/NaN (numpy error
    model), which the integrator reports as a divergence."""
    import warnings

    import neurolearn as nl

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = nl.run(
            "curl-descent",
            "teacher-online",
            overrides=[
                "network.activation=erf",
                "network.output_activation=linear",
                "network.n_hidden=3",
                "task.teacher_hidden=3",
                "task.committee=false",
                "train.learning_rate=1.2",
                "task.n_inputs=50",
            ],
        )
    assert ds.attrs["status"] == "diverged"
    assert "ODE" in ds.attrs["message"]
