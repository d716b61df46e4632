"""Reservoir computers: the E/I reservoir with adaptive balance, the classic ESN, readouts.

Examples
--------
>>> import numpy as np
>>> import neurolearn as nl
>>> res = nl.reservoir.EIReservoir(n=60, in_degree_exc=8, in_degree_inh=8, seed=0)
>>> u = np.random.default_rng(0).uniform(-0.8, 0.8, (300, 1))
>>> states = res.adapt(u).run(u)
>>> readout = nl.reservoir.Readout(ridge=1e-6, washout=50).fit(states[:-1], u[1:])
>>> readout.coef_.shape
(60, 1)
"""

from neurolearn.reservoir._base import run_batch
from neurolearn.reservoir.ei import ADAPTATIONS, EIReservoir, draw_target_rates
from neurolearn.reservoir.esn import ESN, spectral_radius
from neurolearn.reservoir.protocols import (
    lorenz_prediction,
    mackey_glass_prediction,
    memory_capacity,
    narma_prediction,
)
from neurolearn.reservoir.readout import Readout

__all__ = [
    "EIReservoir",
    "ESN",
    "Readout",
    "run_batch",
    "spectral_radius",
    "draw_target_rates",
    "ADAPTATIONS",
    "memory_capacity",
    "narma_prediction",
    "mackey_glass_prediction",
    "lorenz_prediction",
]
