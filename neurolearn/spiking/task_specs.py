"""Spec tables of the spiking tasks (`[task]`, `[metric]` of `tasks/rate-homeostasis.toml`)."""

from __future__ import annotations

from neurolearn._params import Interval
from neurolearn._schema import SpecTable, param, spec_table

DEFAULT_KINDS = {"metric": None}
REQUIRED_SECTIONS = {"tasks": ("task",)}

_MS = Interval(float, 0, None, "neither")


@spec_table("task", "rate-homeostasis")
class RateHomeostasisTask(SpecTable):
    """Baseline with frozen weights, then inhibitory plasticity; rates measured at the end."""

    baseline_ms: float = param(1000.0, _MS, "duration with plasticity off")
    plastic_ms: float = param(20000.0, _MS, "duration with plasticity on")
    measure_ms: float = param(5000.0, _MS, "final part of the plastic phase that is measured")
    bin_ms: float = param(100.0, _MS, "bin of the population-rate curve")
    raster_ms: float = param(1000.0, _MS, "length of each raster snapshot")
    raster_neurons: int = param(100, Interval(int, 1, None), "neurons shown in the rasters")


@spec_table("metric", "rate-error")
class RateErrorMetric(SpecTable):
    """|mean excitatory rate / target - 1| over the measured window."""
