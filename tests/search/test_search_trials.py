"""Search trials on the toy family: failed and diverged runs are failed trials with their
message, the sampler is deterministic with a seed, a study resumes and refuses another search,
and the workers of a Dask cluster share one study without running past the budget."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from search_helpers import TOY_MODEL, TOY_TASK

import neurolearn as nl
from neurolearn._search.objective import resolve_objective
from neurolearn.errors import MissingDependencyError, ParameterError, SpecError
from neurolearn.specs import load_task

TOY = dict(metric="score", direction="minimize", progress=False, scheduler="synchronous")


def _params(result):
    return [(t.number, t.state.name, t.params, t.value) for t in result.study.get_trials()]


def test_failed_and_diverged_runs_are_failed_trials(tmp_path):
    res = nl.search(
        TOY_MODEL,
        TOY_TASK,
        space={"network.a": "1.0,2.0,3.0", "network.b": "lin:0.5:2"},
        overrides=["network.fail_when=2.0", "network.diverge_when=3.0"],
        trials=10,
        seeds=2,
        out=tmp_path / "s.db",
        figures=False,
        **TOY,
    )
    trials = res.study.get_trials()
    assert res.counts["finished"] == len(trials) == 10
    by_a = {a: [t for t in trials if t.params["network.a"] == a] for a in (1.0, 2.0, 3.0)}
    assert all(by_a.values()), "TPE's startup trials cover every choice"
    for t in by_a[2.0]:
        assert t.state.name == "FAIL"
        assert "toy failure at a=2.0" in t.user_attrs["message"]
    for t in by_a[3.0]:
        assert t.state.name == "FAIL"
        assert t.user_attrs["message"].startswith("seed 0: diverged: toy divergence")
    assert res.counts["failed"] == len(by_a[2.0]) + len(by_a[3.0])
    assert res.best_params["network.a"] == 1.0
    # the value is the mean over the seeds of the run's metric
    best = res.study.best_trial
    assert best.value == pytest.approx(np.mean(best.user_attrs["seed_values"]), rel=1e-12)


def test_sampler_is_deterministic_with_a_seed(tmp_path):
    # 11 trials: the 10 seeded random startup trials, then one drawn by TPE from the history
    kw = dict(space={"network.a": "lin:0:2", "network.b": "log:0.1:10"}, seeds=1, figures=False)
    a = nl.search(TOY_MODEL, TOY_TASK, out=tmp_path / "a.db", seed=3, trials=11, **kw, **TOY)
    b = nl.search(TOY_MODEL, TOY_TASK, out=tmp_path / "b.db", seed=3, trials=11, **kw, **TOY)
    c = nl.search(TOY_MODEL, TOY_TASK, out=tmp_path / "c.db", seed=4, trials=2, **kw, **TOY)
    assert _params(a) == _params(b)
    assert [p[2] for p in _params(a)[:2]] != [p[2] for p in _params(c)]


def test_same_command_resumes_and_other_search_is_refused(tmp_path):
    out = tmp_path / "s.db"
    kw = dict(space={"network.a": "lin:0:2"}, seeds=1, out=out, figures=False, **TOY)
    first = nl.search(TOY_MODEL, TOY_TASK, trials=5, **kw)
    assert first.counts["finished"] == first.computed == 5
    again = nl.search(TOY_MODEL, TOY_TASK, trials=5, **kw)
    assert again.computed == 0 and again.counts["finished"] == 5
    more = nl.search(TOY_MODEL, TOY_TASK, trials=8, **kw)
    assert more.computed == 3 and more.counts["finished"] == 8
    numbers = [t.number for t in more.study.get_trials()]
    assert numbers == list(range(8))
    with pytest.raises(ParameterError, match="different search .*differs in: space"):
        nl.search(TOY_MODEL, TOY_TASK, trials=8, **{**kw, "space": {"network.a": "lin:0:3"}})


def test_best_toml_and_figures_beside_the_study(tmp_path):
    res = nl.search(
        TOY_MODEL,
        TOY_TASK,
        space={"network.a": "lin:0.5:2", "network.b": "int:1:4"},
        trials=6,
        seeds=1,
        out=tmp_path / "study.db",
        **TOY,
    )
    names = sorted(p.name for p in res.files)
    assert names == [
        "study.best-task.toml",
        "study.best.toml",
        "study.history.png",
        "study.importance.png",
    ]
    import tomllib

    best = tomllib.loads((tmp_path / "study.best.toml").read_text())
    assert best["network"]["a"] == res.best_params["network.a"]
    assert best["network"]["b"] == res.best_params["network.b"]


def test_objective_direction_from_the_task_metric():
    assert resolve_objective(load_task("narma10"), None, "auto") == ("nrmse", "minimize")
    assert resolve_objective(load_task("memory-capacity"), None, "auto") == (
        "memory_capacity",
        "maximize",
    )
    assert resolve_objective(load_task("lorenz"), None, "auto")[1] == "maximize"
    assert resolve_objective(load_task("mackey-glass"), None, "auto") == (
        "nrmse_one_step",
        "minimize",
    )
    assert resolve_objective(load_task("narma10"), "nrmse", "maximize") == ("nrmse", "maximize")
    with pytest.raises(SpecError, match="give --direction"):
        resolve_objective(load_task("narma10"), "score", "auto")
    with pytest.raises(SpecError, match="--metric"):
        resolve_objective(load_task(TOY_TASK), None, "auto")


def test_missing_optuna_names_the_extra(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "optuna", None)
    with pytest.raises(MissingDependencyError, match=r"neurolearn\[search\]"):
        nl.search(
            TOY_MODEL,
            TOY_TASK,
            space={"network.a": "lin:0:2"},
            trials=2,
            out=tmp_path / "s.db",
            **TOY,
        )


@pytest.mark.slow
def test_dask_workers_share_the_study_without_overshoot(tmp_path):
    res = nl.search(
        TOY_MODEL,
        TOY_TASK,
        space={"network.a": "lin:0:2"},
        overrides=["network.sleep_s=0.05"],
        trials=10,
        seeds=1,
        out=tmp_path / "s.db",
        workers=2,
        metric="score",
        direction="minimize",
        figures=False,
        progress=False,
    )
    trials = res.study.get_trials()
    assert res.counts["finished"] == 10
    assert [t.state.name for t in trials].count("COMPLETE") == 10
    assert all(t.state.name in ("COMPLETE", "WAITING") for t in trials)
    assert len({t.user_attrs["worker"] for t in trials if t.state.name == "COMPLETE"}) == 2
