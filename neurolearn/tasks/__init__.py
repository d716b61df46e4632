"""Task generators and metrics (no dependence on any model family).

Time series: :func:`narma`, :func:`mackey_glass`, :func:`lorenz`; metrics: :func:`nrmse`,
:func:`memory_capacity_curve`, :func:`valid_prediction_time`.
"""

from neurolearn._lazy import lazy_exports

# public name -> defining module, imported on first use so that reading a spec file
# (which imports the family's spec tables) stays fast
_WHERE = {
    "memory_capacity_curve": "neurolearn.tasks.metrics",
    "nrmse": "neurolearn.tasks.metrics",
    "valid_prediction_time": "neurolearn.tasks.metrics",
    "LORENZ_LYAPUNOV": "neurolearn.tasks.timeseries",
    "delayed_targets": "neurolearn.tasks.timeseries",
    "lorenz": "neurolearn.tasks.timeseries",
    "mackey_glass": "neurolearn.tasks.timeseries",
    "narma": "neurolearn.tasks.timeseries",
}


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

__getattr__, __dir__ = lazy_exports(__name__, _WHERE, __all__)
