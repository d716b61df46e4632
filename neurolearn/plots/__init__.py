"""Figures: the plotting helpers of the teaching labs, and every figure the command line draws.

Every helper draws on one matplotlib ``Axes`` (a new figure when ``ax`` is None) and returns it,
so panels compose freely::

    fig, axes = plt.subplots(1, 2)
    nl.plots.rates_vs_targets(targets, rates, ax=axes[0])
    nl.plots.memory_capacity_curve(delays, mc, ax=axes[1])

A helper that computes something from its input before drawing it (a projection, a reduction
over seeds) returns ``(ax, data)``: the axes and exactly what it drew. Inputs are plain arrays
(numpy arrays, lists or ``xarray.DataArray``), so a plot can be checked against the numbers it
shows.

The run figures (``*_run_figure(ds)``) draw a result of :func:`neurolearn.run` and return the
``matplotlib.figure.Figure`` written to ``figure.png``; the comparison figures draw the
Datasets of :mod:`neurolearn.reservoir.compare` and of :mod:`neurolearn.studies`. One module
per family: :mod:`neurolearn.plots.reservoir`, ``.teacher``, ``.spiking``, ``.rnnfit``,
``.zo``, and ``.scan`` for scan stores; every name is also reachable as ``neurolearn.plots.X``.
"""

from __future__ import annotations

from neurolearn.plots.reservoir import (
    heterogeneity_figure,
    local_vs_global_figure,
    memory_capacity_curve,
    rate_trajectories,
    rates_vs_targets,
    reservoir_demo_figure,
    reservoir_run_figure,
    robustness_figure,
)
from neurolearn.plots.rnnfit import pc_trajectories, rnnfit_run_figure, rnnfit_sweep_figure
from neurolearn.plots.scan import plot_scan, scan_heatmap
from neurolearn.plots.spiking import (
    ensemble_rates,
    population_rate,
    raster,
    spiking_run_figure,
)
from neurolearn.plots.teacher import (
    learning_curve,
    phase_diagram,
    teacher_online_run_figure,
    teacher_run_figure,
)
from neurolearn.plots.zo import zo_run_figure, zo_runs_figure

__all__ = [
    "rate_trajectories",
    "rates_vs_targets",
    "memory_capacity_curve",
    "learning_curve",
    "phase_diagram",
    "raster",
    "population_rate",
    "ensemble_rates",
    "pc_trajectories",
    "scan_heatmap",
    "plot_scan",
    "reservoir_run_figure",
    "robustness_figure",
    "local_vs_global_figure",
    "heterogeneity_figure",
    "reservoir_demo_figure",
    "teacher_run_figure",
    "teacher_online_run_figure",
    "spiking_run_figure",
    "rnnfit_run_figure",
    "rnnfit_sweep_figure",
    "zo_run_figure",
    "zo_runs_figure",
]
