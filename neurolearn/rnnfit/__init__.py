"""RNNs fit to sparse recordings of a ground-truth circuit.

* Ground truth: :class:`SOCircuit` (stability-optimised E/I network, Hennequin, Vogels &
  Gerstner 2014) or any :class:`RateCircuit`; :func:`reach_conditions` simulates reaches.
* Data: :class:`Recording` (arrays, simulation, NWB).
* Students: :class:`RNNStudent` trained by BPTT (PyTorch) with a penalty on the recorded units,
  :class:`ForceStudent` trained by FORCE / recursive least squares.
* Evaluation (:mod:`neurolearn.rnnfit.metrics`): held-out output R^2, CCA and linear-map R^2 of
  the population dynamics, jPCA, fixed points.
"""

from __future__ import annotations

import importlib

__all__ = [
    "RateCircuit",
    "SOCircuit",
    "Recording",
    "reach_conditions",
    "RNNStudent",
    "ForceStudent",
    "metrics",
]

_WHERE = {
    "RateCircuit": "neurolearn.rnnfit.circuit",
    "SOCircuit": "neurolearn.rnnfit.soc",
    "Recording": "neurolearn.rnnfit.recording",
    "reach_conditions": "neurolearn.rnnfit.conditions",
    "RNNStudent": "neurolearn.rnnfit.student",
    "ForceStudent": "neurolearn.rnnfit.force",
}


def __getattr__(name: str):
    if name in _WHERE:
        return getattr(importlib.import_module(_WHERE[name]), name)
    if name == "metrics":
        return importlib.import_module("neurolearn.rnnfit.metrics")
    raise AttributeError(f"module 'neurolearn.rnnfit' has no attribute {name!r}")


def __dir__():
    return sorted(__all__)
