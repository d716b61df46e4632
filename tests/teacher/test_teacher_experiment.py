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


# enough data and epochs that every rule learns the teacher (P = 400 for ~100 weights)
TRAINED = {"n_inputs": 20, "teacher_hidden": 4, "n_hidden": 5, "n_train": 400, "n_test": 200}


def _scored_data(seed):
    """The teacher data set and initial student of a finite-teacher run with default specs but
    the sizes in TRAINED, drawn as the family draws them from ``seed``."""
    from neurolearn.tasks.teacher import make_teacher_data
    from neurolearn.teacher.networks import TwoLayerNetwork, make_teacher

    streams = np.random.default_rng(np.random.SeedSequence(seed)).spawn(4)
    teacher_seed, data_seed, student_seed = streams[:3]
    t = TRAINED
    teacher = make_teacher(
        t["n_inputs"],
        t["teacher_hidden"],
        1,
        activation="tanh",
        output_activation="tanh",
        init_scale=1.0,
        seed=teacher_seed,
    )
    data = make_teacher_data(teacher, t["n_train"], t["n_test"], data_seed, input_std=np.sqrt(0.5))
    student = TwoLayerNetwork(
        n_inputs=t["n_inputs"],
        n_hidden=t["n_hidden"],
        n_outputs=1,
        activation="tanh",
        init="uniform",
        init_scale=2.0,
        seed=student_seed,
    ).initialize()
    return data, student


@pytest.mark.parametrize("model", ["backprop", "curl-descent", "feedback-alignment"])
def test_cli_run_json_beats_predicting_the_mean(model, tmp_path, capsys):
    sizes = [f"task.{k}={v}" if k != "n_hidden" else f"network.{k}={v}" for k, v in TRAINED.items()]
    args = ["run", model, "teacher", "--json", "--seed", "3", "--out", str(tmp_path)]
    assert main(args + _set(sizes + ["train.epochs=500", "train.record_every=50"])) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["status"] == "ok" and out["seed"] == 3 and out["epochs_run"] == 500
    data, student = _scored_data(3)
    ds = xr.open_dataset(tmp_path / "result.nc", engine="h5netcdf")
    # the data rebuilt here are the data the run scored: same error of the initial student
    assert float(ds["train_error"][0]) == pytest.approx(
        student.error(data.x_train, data.y_train), rel=1e-12
    )
    # the best constant: the training mean, error 0.5 <(y - mean)^2> (measured with seed 3:
    # every rule ends below 0.12 of it on both sets)
    mean = data.y_train.mean()
    mean_train = 0.5 * np.mean((data.y_train - mean) ** 2)
    mean_test = 0.5 * np.mean((data.y_test - mean) ** 2)
    assert out["final_train_error"] < 0.25 * mean_train
    assert out["final_test_error"] < 0.25 * mean_test


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


def test_named_saad_solla_setting_is_the_committee_with_erf_and_matches_its_odes():
    small = ["task.n_inputs=300", "task.alpha_max=20", "task.record_every_alpha=2"]
    named = nl.run("soft-committee", "saad-solla", seed=1, overrides=small)
    assert named.attrs["status"] == "ok", named.attrs["message"]
    # the same setting spelled out on the generic model and task gives the same numbers
    spelled = nl.run(
        "backprop",
        "teacher-online",
        seed=1,
        overrides=[
            *small,
            "network.activation=erf",
            "network.n_hidden=2",
            "train.learning_rate=0.5",
            "task.teacher_activation=erf",
        ],
    )
    for name in ("test_error", "generalisation_error", "ode_generalisation_error"):
        np.testing.assert_array_equal(named[name].values, spelled[name].values)
    # simulation beside the order-parameter ODEs (Saad & Solla 1995)
    sim, ode = named["generalisation_error"].values, named["ode_generalisation_error"].values
    np.testing.assert_allclose(sim, ode, rtol=0.15)
    assert sim[-1] < 0.5 * sim[0]


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
    """A blow-up of the order-parameter ODEs (the solver stops, or its values stop being
    finite) is reported as a divergence."""
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
