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

import importlib as _importlib

# public name -> defining module, imported on first use so that reading a spec file
# (which imports the family's spec tables) stays fast
_WHERE = {
    "run_batch": "neurolearn.reservoir._base",
    "ADAPTATIONS": "neurolearn.reservoir.ei",
    "EIReservoir": "neurolearn.reservoir.ei",
    "draw_target_rates": "neurolearn.reservoir.ei",
    "ESN": "neurolearn.reservoir.esn",
    "spectral_radius": "neurolearn.reservoir.esn",
    "lorenz_prediction": "neurolearn.reservoir.protocols",
    "mackey_glass_prediction": "neurolearn.reservoir.protocols",
    "memory_capacity": "neurolearn.reservoir.protocols",
    "narma_prediction": "neurolearn.reservoir.protocols",
    "Readout": "neurolearn.reservoir.readout",
}


def __getattr__(name: str):
    if name in _WHERE:
        return getattr(_importlib.import_module(_WHERE[name]), name)
    raise AttributeError(f"module 'neurolearn.reservoir' has no attribute {name!r}")


def __dir__():
    return sorted(set(__all__) | set(globals()))


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
