"""Checks made before a run: strict spec values, the out folder, the memory estimate."""

from __future__ import annotations

import math

import pytest

import neurolearn as nl
from neurolearn import experiment, registry, specs
from neurolearn._params import (
    AnyOf,
    Distribution,
    Interval,
    ListOf,
    NoneOr,
    Options,
    _Invalid,
    short_repr,
    spec_check,
)
from neurolearn.errors import ParameterError, SpecError


# ---------------------------------------------------------------- strict spec values
@pytest.mark.parametrize("value", [1e12, 100.0, 2.5, True, False, "100", None])
def test_an_int_key_takes_only_an_int(value):
    with pytest.raises(_Invalid):
        spec_check(Interval(int, 1, None), value)


@pytest.mark.parametrize("value", [math.inf, -math.inf, math.nan])
def test_non_finite_floats_are_refused_even_without_bounds(value):
    with pytest.raises(_Invalid):
        spec_check(Interval(float), value)
    with pytest.raises(_Invalid):
        spec_check(NoneOr(Interval(float)), value)
    with pytest.raises(_Invalid):
        spec_check(ListOf(Interval(float, 0, None)), [0.1, value])
    with pytest.raises(_Invalid):
        spec_check(AnyOf((Interval(float, 0, 1), Distribution())), value)
    with pytest.raises(_Invalid):
        spec_check(Distribution(), {"dist": "normal", "mean": value, "std": 1.0})


def test_strict_checks_still_accept_and_normalise_valid_values():
    assert spec_check(Interval(float, 0, None), 3) == 3.0
    assert isinstance(spec_check(Interval(float, 0, None), 3), float)
    assert spec_check(Interval(int, 1, None), 7) == 7
    assert spec_check(ListOf(Interval(int, 1, None)), [3, 4]) == [3, 4]
    assert spec_check(NoneOr(Interval(int, 0, None)), None) is None
    assert spec_check(Options(("a", "b")), "a") == "a"
    with pytest.raises(_Invalid):
        spec_check(ListOf(Interval(int, 1, None)), [3, 4.0])


@pytest.mark.parametrize(
    "override, key",
    [
        ("network.n=1e12", "network.n"),
        ("network.n=100.0", "network.n"),
        ("network.n=true", "network.n"),
        ("network.spectral_radius=inf", "network.spectral_radius"),
        ("network.leak=-inf", "network.leak"),
        ("network.bias_scaling=nan", "network.bias_scaling"),
    ],
)
def test_spec_refuses_float_ints_and_non_finite_values(override, key):
    with pytest.raises(SpecError) as info:
        specs.load_model("esn", [override])
    message = str(info.value)
    assert key in message and "Got" in message
    assert "\n" not in message


def test_python_constraints_keep_their_behaviour():
    """check_param (the Python API) is unchanged: spec strictness lives in the spec layer."""
    assert Interval(int, 1, None).check(100.0) == 100


def test_every_shipped_spec_still_loads():
    for name in specs.available("models"):
        specs.load_model(name)
    for name in specs.available("tasks"):
        specs.load_task(name)


def test_long_values_are_shortened_in_messages():
    long = "x" * 500
    with pytest.raises(SpecError) as info:
        specs.load_model("esn", [f"network.input_distribution={long}"])
    assert len(str(info.value)) < 300 and "..." in str(info.value)
    assert short_repr(long) == repr(long)[:40] + "..."


def test_binary_spec_file_names_the_file(tmp_path):
    path = tmp_path / "model.toml"
    path.write_bytes(b"\xff\xfe\x00\x80binary")
    with pytest.raises(SpecError) as info:
        specs.load_model(str(path))
    assert str(path) in str(info.value) and "UTF-8" in str(info.value)


# ---------------------------------------------------------------- the out folder
def test_out_folder_checks_create_nothing(tmp_path):
    experiment.check_out(tmp_path / "a" / "b")
    assert not (tmp_path / "a").exists()
    experiment.check_out(tmp_path)  # an existing empty folder is fine
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("case", ["file", "full", "under-file"])
def test_out_folder_refusals(tmp_path, case):
    (tmp_path / "f.txt").write_text("x")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "result.nc").write_text("earlier")
    target, got = {
        "file": (tmp_path / "f.txt", "Got an existing file"),
        "full": (tmp_path / "full", "Got a folder that is not empty"),
        "under-file": (tmp_path / "f.txt" / "run", "Got a path under the file"),
    }[case]
    with pytest.raises(ParameterError, match="must be a new or empty folder") as info:
        experiment.check_out(target)
    message = str(info.value)
    # a long path is shortened in the message ("..."), so it names the path by its beginning
    shown = message.split(": must be")[0].split(" ", 2)[2].removesuffix("...")
    assert len(shown) >= 40 and str(target).startswith(shown)
    assert got in message


def test_out_folder_that_cannot_be_written(tmp_path):
    import os
    from pathlib import Path

    if os.geteuid() != 0:
        locked = tmp_path / "locked"
        locked.mkdir()
        locked.chmod(0o500)
        target = locked / "run"
    else:  # root writes anywhere a permission bit forbids; sysfs refuses new files to all
        assert Path("/sys").is_dir()
        target = Path("/sys/neurolearn-run")
    with pytest.raises(ParameterError) as info:
        experiment.check_out(target)
    assert "cannot be written" in str(info.value)


def test_run_refuses_a_used_out_folder_before_running(tmp_path, monkeypatch):
    (tmp_path / "old.txt").write_text("earlier result")
    _forbid_running(monkeypatch, "neurolearn.reservoir.experiment")
    with pytest.raises(ParameterError, match="not empty"):
        nl.run("esn", "narma10", overrides=["network.n=10"], out=tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old.txt"]


# ---------------------------------------------------------------- memory
def _forbid_running(monkeypatch, module_name):
    import importlib

    module = importlib.import_module(module_name)

    def refuse(*args, **kwargs):
        raise AssertionError("the run started although its input is refused")

    monkeypatch.setattr(module, "run_experiment", refuse)


def test_available_memory_is_a_plausible_size():
    free = experiment.available_memory()
    assert free is None or 10 * 2**20 < free < 2**50


PAIRS = [
    ("esn", "narma10", "network.n"),
    ("ei-reservoir", "memory-capacity", "network.n"),
    ("spiking-ei", "rate-homeostasis", "network.n_exc"),
    ("spiking-reservoir", "narma10", "network.n"),
    ("curl-descent", "teacher", "task.n_train"),
    ("curl-descent", "teacher-online", "task.n_inputs"),
    ("spsa", "digits", "train.batch_size"),
    ("sparse-rnn", "soc-reaching", "network.n_units"),
    ("force-rnn", "soc-reaching", "network.n_units"),
]


def test_every_family_has_an_estimate():
    shipped = {k for k, m in registry.MODEL_FAMILIES.items() if m.startswith("neurolearn.")}
    families = {registry.family_module(kind) for kind in shipped}
    assert all(callable(getattr(f, "estimate_memory", None)) for f in families)
    covered = {specs.load_model(m).network.kind_name for m, _, _ in PAIRS}
    assert covered == shipped


@pytest.mark.parametrize("model, task, key", PAIRS)
def test_estimate_grows_with_the_size_keys(model, task, key):
    m, t = specs.load_model(model), specs.load_task(task)
    base = experiment.estimate_memory(m, t)
    value = getattr(m.get(key.split(".")[0]) or t.get(key.split(".")[0]), key.split(".")[1])
    big = [f"{key}={value * 4}"]
    grown = experiment.estimate_memory(specs.load_model(model, big), specs.load_task(task, big))
    assert 0 < base < grown


def test_esn_estimate_is_quadratic_and_ei_estimate_linear_in_n():
    t = specs.load_task("narma10")

    def est(model, n, extra=()):
        return experiment.estimate_memory(specs.load_model(model, [f"network.n={n}", *extra]), t)

    assert 3.5 < est("esn", 40_000) / est("esn", 20_000) <= 4.0
    ei = ["network.in_degree_exc=10", "network.in_degree_inh=10"]
    assert 1.9 < est("ei-reservoir", 200_000, ei) / est("ei-reservoir", 100_000, ei) < 4.0


def test_memory_refusal_names_estimate_and_available(monkeypatch):
    m, t = specs.load_model("esn", ["network.n=500"]), specs.load_task("narma10")
    need = experiment.estimate_memory(m, t)
    assert experiment.check_memory(m, t, available=need) == need
    assert experiment.check_memory(m, t, copies=3, available=3 * need) == 3 * need
    with pytest.raises(SpecError) as info:
        experiment.check_memory(m, t, copies=3, available=3 * need - 1)
    message = str(info.value)
    assert "x 3 runs at once" in message and "available" in message and "network.n = 500" in message


def test_run_refuses_before_running_when_memory_is_short(monkeypatch):
    _forbid_running(monkeypatch, "neurolearn.reservoir.experiment")
    monkeypatch.setattr(experiment, "available_memory", lambda: 1000)
    with pytest.raises(SpecError, match="memory"):
        nl.run("esn", "narma10", overrides=["network.n=10"])


def test_cross_field_constraints_refused_before_running(monkeypatch):
    cases = [
        ("reservoir", "esn", "narma10", ["rule.kind=global-ei-balance"], "rule.kind: an ESN"),
        ("teacher", "curl-descent", "teacher", ["rule.flipped_inputs=101"], "Got 101"),
        ("teacher", "feedback-alignment", "teacher-online", [], "rule.kind: must be"),
        ("zo", "spsa", "teacher", ["task.teacher_activation=erf"], "network.output_activation"),
        ("rnnfit", "sparse-rnn", "soc-reaching", ["network.n_units=10"], "network.n_units"),
        ("rnnfit", "force-rnn", "soc-reaching", ["network.tau_ms=10.0"], r"tau_ms \(10.0\)"),
    ]
    for family, model, task, overrides, match in cases:
        _forbid_running(monkeypatch, f"neurolearn.{family}.experiment")
        with pytest.raises(SpecError, match=match):
            nl.run(model, task, overrides=overrides)


def test_scan_refuses_when_the_points_run_at_once_do_not_fit(tmp_path, monkeypatch):
    """One point fits, two concurrent workers do not: refused before the store is written."""
    over = ["task.train_steps=200", "task.test_steps=50"]
    m = specs.load_model("esn", [*over, "network.n=40"])
    t = specs.load_task("narma10", [*over, "network.n=40"])
    one = experiment.estimate_memory(m, t)
    monkeypatch.setattr(experiment, "available_memory", lambda: int(1.5 * one))
    out = tmp_path / "s.zarr"
    with pytest.raises(SpecError, match="x 2 runs at once"):
        nl.scan(
            "esn",
            "narma10",
            grid={"network.n": [20, 40]},
            out=out,
            overrides=over,
            workers=2,
            progress=False,
        )
    assert not out.exists()
