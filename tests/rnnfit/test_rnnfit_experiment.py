"""The rnnfit family through nl.run and the command line; the sparse-vs-output-only claim."""

import json

import numpy as np
import pytest

import neurolearn as nl
from neurolearn.cli import main

# the BPTT student runs on torch
pytestmark = pytest.mark.torch

TINY = [
    "task.n_neurons=30",
    "network.n_units=30",
    "rule.n_epochs=20",
    "task.prep_ms=200",
    "task.move_ms=300",
    "metric.fixed_point_starts=4",
]


def test_run_gives_every_metric_and_is_seeded():
    a = nl.run("sparse-rnn", "soc-reaching", seed=2, overrides=TINY)
    assert a.attrs["status"] == "ok", a.attrs["message"]
    for key in (
        "output_r2_test",
        "map_r2_unrecorded",
        "cca_unrecorded",
        "recorded_r2_test",
        "teacher_jpca_rotation_ratio",
        "student_jpca_r2_skew",
        "teacher_n_stable",
        "student_rest_abscissa",
    ):
        assert key in a and np.isfinite(float(a[key])), key
    assert float(a["n_recorded"]) == 3
    assert float(a["teacher_spectral_abscissa"]) <= 0.15
    assert a["teacher_pcs"].dims == ("condition", "t_ms", "pc")
    b = nl.run("sparse-rnn", "soc-reaching", seed=2, overrides=TINY)
    assert float(a["map_r2_unrecorded"]) == float(b["map_r2_unrecorded"])
    np.testing.assert_array_equal(a["loss"], b["loss"])


def test_force_and_output_only_models_run():
    for model in ("force-rnn", "output-only-rnn"):
        over = (
            TINY[:-2]
            + ["metric.fixed_points=false"]
            + (["rule.n_epochs=2"] if model == "force-rnn" else [])
        )
        ds = nl.run(model, "soc-reaching", seed=0, overrides=over)
        assert ds.attrs["status"] == "ok", ds.attrs["message"]
        assert np.isfinite(float(ds["output_r2_train"]))


def test_cli_run_json_and_files(tmp_path, capsys):
    code = main(
        [
            "run",
            "sparse-rnn",
            "soc-reaching",
            *sum((["--set", s] for s in TINY), []),
            "--json",
            "--out",
            str(tmp_path),
        ]
    )
    assert code == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["status"] == "ok" and "map_r2_unrecorded" in payload
    assert (tmp_path / "result.nc").exists() and (tmp_path / "figure.png").exists()


def test_cli_list_and_bad_input(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for name in ("sparse-rnn", "output-only-rnn", "force-rnn", "soc-reaching"):
        assert name in out
    code = main(["run", "sparse-rnn", "soc-reaching", "--set", "task.recorded_fraction=1.5"])
    assert code == 2
    assert "task.recorded_fraction" in capsys.readouterr().err
    code = main(["run", "sparse-rnn", "soc-reaching", "--set", "rule.recorded_wieght=1"])
    assert code == 2
    assert "recorded_weight" in capsys.readouterr().err


def test_time_step_mismatch_is_bad_input_naming_dt(capsys):
    with pytest.raises(nl.errors.SpecError, match=r"network\.dt_ms = 10\.0 must equal .*20\.0"):
        nl.run("sparse-rnn", "soc-reaching", overrides=[*TINY, "network.dt_ms=10"])
    from neurolearn.cli import main

    assert main(["run", "force-rnn", "soc-reaching", "--set", "network.dt_ms=10"]) == 2
    assert "task.dt_ms" in capsys.readouterr().err


@pytest.mark.slow
def test_ten_percent_recorded_beats_output_only_on_unrecorded_neurons_over_three_seeds():
    """Salatiello & Giese (2020): sparse recordings recover the unrecorded neurons' dynamics."""
    over = [
        "task.n_neurons=100",
        "network.n_units=100",
        "metric.fixed_points=false",
        "task.recorded_fraction=0.1",
    ]
    sparse, plain = [], []
    for seed in (0, 1, 2):
        a = nl.run("sparse-rnn", "soc-reaching", seed=seed, overrides=over)
        b = nl.run("output-only-rnn", "soc-reaching", seed=seed, overrides=over)
        assert a.attrs["recorded_neurons"] == b.attrs["recorded_neurons"]
        sparse.append([float(a["map_r2_unrecorded"]), float(a["cca_unrecorded"])])
        plain.append([float(b["map_r2_unrecorded"]), float(b["cca_unrecorded"])])
    sparse, plain = np.array(sparse), np.array(plain)
    assert np.all(sparse[:, 0] > plain[:, 0])  # linear-map R^2, every seed
    assert sparse[:, 0].mean() - plain[:, 0].mean() > 0.2
    assert sparse[:, 1].mean() > plain[:, 1].mean()  # CCA, on average


def test_sweep_command_writes_tables_and_figure(tmp_path, capsys):
    from neurolearn.studies.rnnfit_sweep import main as sweep_main

    over = [*TINY, "metric.fixed_points=false", "rule.n_epochs=3"]
    assert (
        sweep_main(["--out", str(tmp_path), "--seeds", "1", *sum((["--set", s] for s in over), [])])
        == 0
    )
    out = capsys.readouterr().out
    assert "| 10% |" in out and "| 100% |" in out
    assert (tmp_path / "sweep.png").exists() and (tmp_path / "sweep_sparse.nc").exists()


def test_task_seed_fixes_the_circuit_and_recording_and_seed_the_student():
    over = [*TINY[:-2], "rule.n_epochs=5", "metric.fixed_points=false", "task.seed=0"]
    runs = [nl.run("sparse-rnn", "soc-reaching", seed=s, overrides=over) for s in (1, 2)]
    for ds in runs:
        assert ds.attrs["status"] == "ok", ds.attrs["message"]
    a, b = runs
    # one ground truth: same recorded neurons, same teacher trajectories and abscissa
    assert a.attrs["recorded_neurons"] == b.attrs["recorded_neurons"]
    np.testing.assert_array_equal(a["teacher_pcs"], b["teacher_pcs"])
    assert float(a["teacher_spectral_abscissa"]) == float(b["teacher_spectral_abscissa"])
    # two students: different initialisations give different training curves
    assert not np.array_equal(a["loss"].values, b["loss"].values)
    # the circuit is the one task.seed's first child draws, whatever the run's seed
    from neurolearn.rnnfit.experiment import build_task_data
    from neurolearn.specs import load_task

    t = load_task("soc-reaching", [o for o in over if o.startswith("task.")]).task
    data = build_task_data(t, np.random.SeedSequence(0).spawn(2)[0])
    assert float(a["teacher_spectral_abscissa"]) == float(data["soc"].abscissa_history_[-1])


def test_without_task_seed_the_run_seed_draws_the_circuit_as_before():
    from neurolearn.rnnfit.experiment import build_task_data
    from neurolearn.specs import load_task

    over = [*TINY[:-2], "rule.n_epochs=2", "metric.fixed_points=false"]
    runs = [nl.run("sparse-rnn", "soc-reaching", seed=s, overrides=over) for s in (1, 2)]
    abscissae = [float(ds["teacher_spectral_abscissa"]) for ds in runs]
    assert abscissae[0] != abscissae[1]
    t = load_task("soc-reaching", [o for o in over if o.startswith("task.")]).task
    assert t.seed is None
    for s, value in zip((1, 2), abscissae, strict=True):
        # the teacher is the run seed's first child, as it was before task.seed existed
        data = build_task_data(t, np.random.SeedSequence(s).spawn(3)[0])
        assert value == float(data["soc"].abscissa_history_[-1])
