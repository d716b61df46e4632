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

from neurolearn._lazy import lazy_exports

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

__getattr__, __dir__ = lazy_exports(__name__, _WHERE, __all__, submodules=("metrics",))
