"""Spec tables of the time-series tasks (``[task]`` and ``[metric]`` of ``tasks/*.toml``)."""

from __future__ import annotations

from neurolearn._params import Interval
from neurolearn._schema import SpecTable, param, spec_table

#: Largest Lyapunov exponent of the Lorenz system at (10, 28, 8/3).
LORENZ_LYAPUNOV = 0.9056

DEFAULT_KINDS = {"metric": None}
REQUIRED_SECTIONS = {"tasks": ("task",)}

_STEPS = Interval(int, 1, None)


@spec_table("task", "memory-capacity")
class MemoryCapacityTask(SpecTable):
    """Jaeger's memory capacity: recall u(t-k) for k = 1..max_delay from the current state."""

    max_delay: int = param(100, _STEPS, "largest delay k")
    input_amplitude: float = param(0.8, Interval(float, 0, None, "neither"), "u ~ U[-a, a]")
    train_steps: int = param(4000, _STEPS, "readout training steps (after washout)")
    test_steps: int = param(1000, _STEPS, "held-out steps on which MC is measured")


@spec_table("task", "narma")
class NarmaTask(SpecTable):
    """NARMA one-step prediction (canonical formula): state at t predicts y(t+1)."""

    order: int = param(10, _STEPS, "NARMA order n")
    input_low: float = param(0.0, Interval(float), "u ~ U[low, high]")
    input_high: float = param(0.5, Interval(float), "u ~ U[low, high]")
    train_steps: int = param(5000, _STEPS, "readout training steps (after washout)")
    test_steps: int = param(2000, _STEPS, "held-out steps")


@spec_table("task", "mackey-glass")
class MackeyGlassTask(SpecTable):
    """Mackey-Glass prediction: one-step NRMSE and free-running NRMSE over a horizon."""

    tau: float = param(17.0, Interval(float, 0, None, "neither"), "delay")
    sample_every: float = param(1.0, Interval(float, 0, None, "neither"), "sampling interval")
    dt: float = param(0.1, Interval(float, 0, None, "neither"), "RK4 step")
    train_steps: int = param(3000, _STEPS, "readout training steps (after washout)")
    test_steps: int = param(1000, _STEPS, "held-out one-step prediction steps")
    free_run_steps: int = param(100, _STEPS, "free-running horizon after training")


@spec_table("task", "lorenz")
class LorenzTask(SpecTable):
    """Lorenz-63 free-running prediction: valid time in Lyapunov times."""

    dt: float = param(0.02, Interval(float, 0, None, "neither"), "sampling step")
    train_steps: int = param(5000, _STEPS, "readout training steps (after washout)")
    free_run_steps: int = param(1000, _STEPS, "free-running horizon")
    repeats: int = param(5, _STEPS, "free runs from successive start points, averaged")


@spec_table("metric", "nrmse")
class NrmseMetric(SpecTable):
    """NRMSE = RMSE / std(target)."""


@spec_table("metric", "memory-capacity")
class MemoryCapacityMetric(SpecTable):
    """MC = sum over delays of squared correlation on held-out data."""


@spec_table("metric", "valid-time")
class ValidTimeMetric(SpecTable):
    """Steps until the normalised error exceeds ``threshold``, in Lyapunov times."""

    threshold: float = param(0.4, Interval(float, 0, None, "neither"), "error threshold")
    lyapunov_exponent: float = param(
        LORENZ_LYAPUNOV, Interval(float, 0, None, "neither"), "largest Lyapunov exponent"
    )
