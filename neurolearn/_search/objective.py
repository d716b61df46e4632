"""What a search optimises: the task's metric and its direction, and one trial's evaluation.

A trial runs the model on the task once per seed, seed ``k`` being
``numpy.random.SeedSequence(seed, spawn_key=(0, k))`` for every trial, so trials differ only by
their parameters. The trial's value is the mean of the metric over its seeds; after each seed
but the last the running mean is reported, and a pruner may stop a trial that is already worse
than the median of the trials before it.
"""

from __future__ import annotations

import tomllib
import warnings

import numpy as np

from neurolearn import specs
from neurolearn.errors import SpecError

__all__ = ["OBJECTIVES", "resolve_objective", "trial_specs", "run_seed", "run_seed_sequence"]

#: ``[metric]`` kind -> (the run's metric that a search optimises, direction). Task kinds whose
#: run reports that metric under another name are listed in ``_TASK_METRIC``.
OBJECTIVES = {
    "nrmse": ("nrmse", "minimize"),
    "memory-capacity": ("memory_capacity", "maximize"),
    "valid-time": ("valid_time_lyapunov", "maximize"),
    "accuracy": ("test_accuracy", "maximize"),
    "rate-error": ("rate_error", "minimize"),
    "learning-curve": ("final_test_error", "minimize"),
    "rnnfit": ("output_r2_test", "maximize"),
}
_TASK_METRIC = {"mackey-glass": "nrmse_one_step", "teacher-online": "final_generalisation_error"}

#: metric-name words that say which way is better, for a metric named with ``metric=``
_MAXIMISE_WORDS = ("accuracy", "capacity", "valid_time", "r2", "cca", "fraction_within")
_MINIMISE_WORDS = ("nrmse", "error", "mse", "loss")

_DIRECTIONS = ("minimize", "maximize")


def _direction_of(metric: str) -> str | None:
    for name, direction in OBJECTIVES.values():
        if name == metric:
            return direction
    if any(word in metric for word in _MAXIMISE_WORDS):
        return "maximize"
    if any(word in metric for word in _MINIMISE_WORDS):
        return "minimize"
    return None


def resolve_objective(task_spec, metric: str | None, direction: str) -> tuple[str, str]:
    """The metric name and direction of a search on ``task_spec``.

    ``metric=None`` takes the metric the task's ``[metric]`` table declares; ``direction="auto"``
    takes its direction (minimise an error, maximise a capacity or an accuracy).

    Examples
    --------
    >>> from neurolearn import specs
    >>> resolve_objective(specs.load_task("narma10"), None, "auto")
    ('nrmse', 'minimize')
    >>> resolve_objective(specs.load_task("memory-capacity"), None, "auto")
    ('memory_capacity', 'maximize')
    """
    if direction not in ("auto", *_DIRECTIONS):
        raise SpecError(
            "The 'direction' parameter of search must be 'auto', 'minimize' or 'maximize'. "
            f"Got {direction!r} instead."
        )
    if metric is None:
        table = task_spec.get("metric")
        if table is None or table.kind_name not in OBJECTIVES:
            kind = "no [metric] table" if table is None else f"metric kind {table.kind_name!r}"
            raise SpecError(
                f"search: task {task_spec.name!r} has {kind} with a declared objective; "
                "name the metric to optimise with --metric (and its --direction)."
            )
        metric, auto = OBJECTIVES[table.kind_name]
        metric = _TASK_METRIC.get(task_spec.task.kind_name, metric)
    elif not isinstance(metric, str) or not metric:
        raise SpecError(f"The 'metric' parameter of search must be a name. Got {metric!r} instead.")
    else:
        auto = _direction_of(metric)
    if direction == "auto":
        if auto is None:
            raise SpecError(
                f"search: the direction of metric {metric!r} is not known; "
                "give --direction minimize or --direction maximize."
            )
        direction = auto
    return metric, direction


def trial_specs(base_spec: str, params: dict):
    """The model and task specs of a trial: the base resolved spec with ``params`` applied."""
    raw = tomllib.loads(base_spec)
    sections = set(specs.MODEL_SECTIONS) | set(specs.TASK_SECTIONS)
    specs._apply_overrides(raw, list(params.items()), sections | set(raw), "search trial")
    model_spec, task_spec, _ = specs.load_resolved(specs.to_toml(raw))
    return model_spec, task_spec


def run_seed_sequence(seed: int, k: int) -> np.random.SeedSequence:
    """The seed of the ``k``-th run of every trial of a search rooted at ``seed``."""
    return np.random.SeedSequence(int(seed), spawn_key=(0, int(k)))


def run_seed(model_spec, task_spec, metric: str, seed: int, k: int, backend, device):
    """One run of a trial -> ``(value, message)``; ``value`` is None when the run did not give
    a finite metric (the message says why)."""
    from neurolearn.errors import NeurolearnWarning
    from neurolearn.experiment import run_specs

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=NeurolearnWarning, message="run of ")
        ds = run_specs(
            model_spec,
            task_spec,
            seed=run_seed_sequence(seed, k),
            backend=backend,
            device=device,
            figure=False,
            checked=True,
        )
    status = ds.attrs["status"]
    if status != "ok":
        return None, f"seed {k}: {status}: {ds.attrs['message'].splitlines()[0]}"
    if metric not in ds.data_vars or ds[metric].ndim != 0:
        scalars = [n for n, v in ds.data_vars.items() if v.ndim == 0]
        return None, (
            f"the run reports no scalar metric {metric!r}; it reports: {', '.join(scalars)}. "
            "Name one with --metric."
        )
    value = float(ds[metric].values)
    if not np.isfinite(value):
        return None, f"seed {k}: metric {metric!r} is not finite ({value})"
    return value, ""
