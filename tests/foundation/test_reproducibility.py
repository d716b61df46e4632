"""Same spec + seed -> identical data variables, for every shipped model, and through rerun.

Every model in ``models/`` runs on a task it supports (every shipped task is used at least once),
shrunk by overrides so that one run takes well under a second once compiled. Two runs with the
same seed must give identical data variables (values, dtypes, coordinates, variable attributes)
and identical attributes apart from the wall-clock timings in ``VARYING_ATTRS``; ``nl.rerun``
of the saved ``result.nc`` must give the same again (by xarray's identity and by
``nl.experiment.first_difference``, the comparison behind ``neurolearn rerun``); a different
seed must change the numbers (so the comparison is not vacuous).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import neurolearn as nl
from neurolearn.experiment import VARYING_ATTRS

ROOT = Path(__file__).resolve().parents[2]

_RESERVOIR = ["readout.washout=50", "task.train_steps=400"]
_EI = ["network.n=60", "network.in_degree_exc=5", "network.in_degree_inh=5", "rule.steps=200"]
_TEACHER = [
    "task.n_inputs=20",
    "task.teacher_hidden=4",
    "task.n_train=100",
    "task.n_test=50",
    "network.n_hidden=5",
    "train.epochs=40",
    "train.record_every=5",
]
_RNNFIT = ["task.n_neurons=30", "network.n_units=30", "task.prep_ms=200", "task.move_ms=300"]
_ZO = ["train.query_budget=200", "train.n_records=3"]

CASES = {
    "esn": ("narma10", ["network.n=30", "task.test_steps=150", *_RESERVOIR]),
    "ei-reservoir": (
        "memory-capacity",
        [*_EI, "task.max_delay=10", "task.test_steps=150", *_RESERVOIR],
    ),
    "ei-reservoir-global": (
        "mackey-glass",
        [*_EI, "task.test_steps=150", "task.free_run_steps=30", *_RESERVOIR],
    ),
    "spiking-reservoir": (
        "narma10",
        [
            "network.n=60",
            "task.train_steps=200",
            "task.test_steps=100",
            "readout.washout=20",
        ],
    ),
    "spiking-ei": (
        "rate-homeostasis",
        [
            "network.n_exc=80",
            "network.n_inh=20",
            "task.baseline_ms=200",
            "task.plastic_ms=500",
            "task.measure_ms=200",
            "task.raster_ms=100",
        ],
    ),
    "backprop": ("teacher", _TEACHER),
    "feedback-alignment": ("teacher", _TEACHER),
    "curl-descent": (
        "teacher-online",
        ["task.n_inputs=50", "task.alpha_max=5", "network.n_hidden=2", "task.teacher_hidden=2"],
    ),
    "soft-committee": (
        "saad-solla",
        ["task.n_inputs=50", "task.alpha_max=5", "task.n_test=200"],
    ),
    "force-rnn": ("soc-reaching", [*_RNNFIT, "rule.n_epochs=2", "metric.fixed_points=false"]),
    "sparse-rnn": ("soc-reaching", [*_RNNFIT, "rule.n_epochs=10", "metric.fixed_point_starts=2"]),
    "output-only-rnn": (
        "soc-reaching",
        [*_RNNFIT, "rule.n_epochs=10", "metric.fixed_points=false"],
    ),
    "mlp-backprop": ("digits", _ZO),
    "weight-perturbation": ("digits", _ZO),
    "node-perturbation": ("digits", _ZO),
    "spsa": ("teacher", _ZO),
    "forward-gradient": ("digits", _ZO),
    "evolution-strategies": ("digits", _ZO),
    "ou-weight-noise": ("digits", _ZO),
}
# a second task for the models whose family runs more than one, so every task is exercised
EXTRA_CASES = [
    ("esn", "lorenz", ["network.n=40", "task.free_run_steps=50", "task.repeats=2", *_RESERVOIR]),
    ("spsa", "digits", _ZO),
    ("esn", "vowels", ["network.n=30", "task.n_train_per_class=4", "task.n_test=20"]),
]
ALL_CASES = [(model, task, over) for model, (task, over) in CASES.items()] + EXTRA_CASES
# the BPTT student of these models runs on torch
TORCH_MODELS = {"sparse-rnn", "output-only-rnn"}
PARAMS = [
    pytest.param(m, t, o, id=f"{m}-{t}", marks=[pytest.mark.torch] if m in TORCH_MODELS else [])
    for m, t, o in ALL_CASES
]


def _data_differences(a: xr.Dataset, b: xr.Dataset) -> list[str]:
    names = sorted(set(a.data_vars) | set(b.data_vars))
    return [n for n in names if n not in a or n not in b or not a[n].identical(b[n])]


def _same_attr(x, y) -> bool:
    if isinstance(x, (np.ndarray, list, tuple)) or isinstance(y, (np.ndarray, list, tuple)):
        return np.array_equal(np.asarray(x), np.asarray(y))
    return x == y


def _attr_differences(a: xr.Dataset, b: xr.Dataset) -> list[str]:
    keys = (set(a.attrs) | set(b.attrs)) - set(VARYING_ATTRS)
    missing = {k for k in keys if k not in a.attrs or k not in b.attrs}
    return sorted(missing | {k for k in keys - missing if not _same_attr(a.attrs[k], b.attrs[k])})


def test_every_shipped_model_and_task_is_covered():
    models = {p.stem for p in (ROOT / "models").glob("*.toml")}
    tasks = {p.stem for p in (ROOT / "tasks").glob("*.toml")}
    assert models == set(CASES), "add the new model to CASES"
    assert tasks == {task for _, task, _ in ALL_CASES}, "give the new task a case"


@pytest.mark.parametrize("model, task, overrides", PARAMS)
def test_same_seed_gives_identical_data_and_rerun_reproduces_it(model, task, overrides, tmp_path):
    a = nl.run(model, task, seed=5, overrides=overrides, out=tmp_path, figure=False)
    assert a.attrs["status"] == "ok", a.attrs["message"]
    assert len(a.data_vars) > 0
    b = nl.run(model, task, seed=5, overrides=overrides, figure=False)
    assert _data_differences(a, b) == []
    assert _attr_differences(a, b) == []

    saved = xr.open_dataset(tmp_path / "result.nc", engine="h5netcdf")
    again = nl.rerun(tmp_path / "result.nc")
    assert again.attrs["status"] == "ok", again.attrs["message"]
    assert _data_differences(a, again) == []
    assert _attr_differences(a, again) == []
    # the library's comparison (behind `neurolearn rerun`) agrees with xarray's identity
    assert nl.experiment.first_difference(a, again) is None
    # the file itself holds the same numbers as the run that wrote it
    assert _data_differences(a, saved.load()) == []
    saved.close()

    other = nl.run(model, task, seed=6, overrides=overrides, figure=False)
    assert _data_differences(a, other), "the seed changes nothing: the comparison is vacuous"
    assert nl.experiment.first_difference(a, other) is not None


def test_timings_are_attributes_not_data():
    ds = nl.run("spsa", "digits", seed=0, overrides=_ZO, figure=False)
    assert not any("wall" in name for name in ds.data_vars)
    assert ds.attrs["train_wall_s"] >= 0.0
    curve = np.asarray(ds.attrs["curve_wall_s"])
    assert curve.shape == ds["curve_queries"].shape and np.all(np.diff(curve) >= 0)
