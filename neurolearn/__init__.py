"""neurolearn: brain-inspired learning rules, fast enough for scans, clear enough for a lab.

Families are imported lazily so that ``import neurolearn`` stays fast::

    import neurolearn as nl
    res = nl.reservoir.EIReservoir(n=500, adaptation="local", seed=0)
    result = nl.run("ei-reservoir", "narma10", seed=0)
"""

from __future__ import annotations

import importlib

from neurolearn._version import __version__

__all__ = [
    "__version__",
    "run",
    "rerun",
    "list_specs",
    "scan",
    "open_scan",
    "plot_scan",
    "search",
    "reservoir",
    "tasks",
    "errors",
]

_SUBMODULES = {
    "reservoir",
    "spiking",
    "teacher",
    "zo",
    "rnnfit",
    "tasks",
    "errors",
    "specs",
    "backend",
    "experiment",
    "registry",
    "plots",
    "studies",
}
_FUNCTIONS = {
    "run": ("neurolearn.experiment", "run"),
    "rerun": ("neurolearn.experiment", "rerun"),
    "list_specs": ("neurolearn.specs", "list_specs"),
    "scan": ("neurolearn.scan", "scan"),
    "open_scan": ("neurolearn.scan", "open_scan"),
    "plot_scan": ("neurolearn.scan", "plot_scan"),
    "search": ("neurolearn.search", "search"),
}


def __getattr__(name: str):
    if name in _SUBMODULES:
        return importlib.import_module(f"neurolearn.{name}")
    if name in _FUNCTIONS:
        module, attr = _FUNCTIONS[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'neurolearn' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | _SUBMODULES | set(_FUNCTIONS))
