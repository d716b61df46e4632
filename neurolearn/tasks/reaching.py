"""Task tables of the reaching tasks run by the rnnfit family (``task.kind = "soc-reaching"``).

The ground-truth circuit is a stability-optimised E/I network (Hennequin, Vogels & Gerstner
2014) relaxing from condition-specific preparatory states; a fraction of its neurons is
recorded. Training conditions lie on a ring of reach angles; held-out test conditions lie
halfway between them and validation conditions (for early stopping) a quarter of the way.
"""

from __future__ import annotations

from neurolearn._params import Boolean, Interval, NoneOr
from neurolearn._schema import SpecTable, param, spec_table

__all__ = ["SOCReachingTask", "RnnfitMetric", "DEFAULT_KINDS", "REQUIRED_SECTIONS"]


@spec_table("task", "soc-reaching")
class SOCReachingTask(SpecTable):
    """Reaches of a stability-optimised circuit, recorded sparsely."""

    n_neurons: int = param(200, Interval(int, 4, None), "neurons of the ground-truth circuit")
    excitatory_fraction: float = param(
        0.5, Interval(float, 0, 1, "neither"), "fraction of excitatory neurons (the first ones)"
    )
    density: float = param(0.1, Interval(float, 0, 1, "neither"), "connection probability")
    radius: float = param(
        10.0, Interval(float, 0, None, "neither"), "initial spectral radius scale R"
    )
    inhibition_ratio: float = param(
        3.0, Interval(float, 0, None, "neither"), "gamma: inhibitory / excitatory weight ratio"
    )
    target_abscissa: float = param(
        0.15,
        Interval(float, None, 1, "neither"),
        "spectral abscissa reached by the stability optimisation",
    )
    soc_learning_rate: float = param(
        10.0, Interval(float, 0, None, "neither"), "step of the inhibitory stability optimisation"
    )
    soc_max_iter: int = param(3000, Interval(int, 1, None), "optimisation steps at most")
    tau_ms: float = param(200.0, Interval(float, 0, None, "neither"), "circuit time constant")
    n_conditions: int = param(8, Interval(int, 2, None), "training reach conditions")
    n_test_conditions: int = param(
        8, Interval(int, 1, None), "held-out conditions (between the training ones)"
    )
    n_validation_conditions: int = param(4, Interval(int, 1, None), "early-stopping conditions")
    initial_state_rms: float = param(
        0.5, Interval(float, 0, None, "neither"), "rms over neurons of the preparatory target state"
    )
    prep_ms: float = param(600.0, Interval(float, 0, None), "preparatory period")
    move_ms: float = param(800.0, Interval(float, 0, None, "neither"), "movement period")
    ramp_ms: float = param(200.0, Interval(float, 0, None), "preparatory input ramp time")
    dt_ms: float = param(20.0, Interval(float, 0, None, "neither"), "time step of the data")
    n_outputs: int = param(2, Interval(int, 1, None), "muscle-like outputs")
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
