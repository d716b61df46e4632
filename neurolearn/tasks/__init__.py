"""Task generators and metrics (no dependence on any model family).

Time series: :func:`narma`, :func:`mackey_glass`, :func:`lorenz`; metrics: :func:`nrmse`,
:func:`memory_capacity_curve`, :func:`valid_prediction_time`.
"""

from neurolearn.tasks.metrics import memory_capacity_curve, nrmse, valid_prediction_time
from neurolearn.tasks.timeseries import (
    LORENZ_LYAPUNOV,
    delayed_targets,
    lorenz,
    mackey_glass,
    narma,
)

__all__ = [
    "narma",
    "mackey_glass",
    "lorenz",
    "delayed_targets",
    "LORENZ_LYAPUNOV",
    "nrmse",
    "memory_capacity_curve",
    "valid_prediction_time",
]
