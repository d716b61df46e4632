"""Task tables of the reaching tasks run by the rnnfit family (``task.kind = "soc-reaching"``).

The ground-truth circuit is a stability-optimised E/I network (Hennequin, Vogels & Gerstner
2014) relaxing from condition-specific preparatory states; a fraction of its neurons is
recorded. Training conditions lie on a ring of reach angles; held-out test conditions lie
halfway between them and validation conditions (for early stopping) a quarter of the way.
"""

from __future__ import annotations

from neurolearn._params import Boolean, Interval, NoneOr
from neurolearn._schema import SpecTable, param, spec_table
from neurolearn.rnnfit._declared import SOC_REACHING_TASK

__all__ = ["SOCReachingTask", "RnnfitMetric", "DEFAULT_KINDS", "REQUIRED_SECTIONS"]


@spec_table("task", "soc-reaching", params=SOC_REACHING_TASK)
class SOCReachingTask(SpecTable):
    """Reaches of a stability-optimised circuit, recorded sparsely.

    The keys before ``n_conditions`` are the :class:`~neurolearn.rnnfit.SOCircuit` parameters
    (``n_neurons`` is its ``n``, ``soc_learning_rate`` its ``learning_rate``,
    ``soc_max_iter`` its ``max_iter``); the reach keys are those of
    :func:`~neurolearn.rnnfit.conditions.reach_conditions` and ``n_outputs`` that of
    :func:`~neurolearn.rnnfit.conditions.muscle_targets`.
    """

    recorded_fraction: float = param(0.1, Interval(float, 0, 1), "fraction of neurons recorded")
    seed: int | None = param(
        None,
        NoneOr(Interval(int, 0, None)),
        "seed of the ground-truth circuit and of the recorded neurons (the run's seed then "
        "draws only the student); unset: both come from the run's seed",
    )


@spec_table("metric", "rnnfit")
class RnnfitMetric(SpecTable):
    """Held-out evaluation of a student against the ground-truth circuit."""

    cca_components: int = param(10, Interval(int, 1, None), "principal components kept for CCA")
    map_ridge: float = param(
        1e-2, Interval(float, 0, None), "ridge (relative) of the student -> teacher linear map"
    )
    jpca_pcs: int = param(6, Interval(int, 2, None), "principal components for jPCA")
    soft_norm_hz: float = param(5.0, Interval(float, 0, None), "jPCA soft normalisation")
    fixed_points: bool = param(True, Boolean(), "search fixed points of teacher and student")
    fixed_point_starts: int = param(
        24, Interval(int, 1, None), "initial states of the fixed-point search"
    )


DEFAULT_KINDS = {"metric": "rnnfit"}
REQUIRED_SECTIONS = {"tasks": ("task",)}
