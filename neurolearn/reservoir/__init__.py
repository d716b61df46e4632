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

from neurolearn._lazy import lazy_exports

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
    "classify_sequences": "neurolearn.reservoir.protocols",
    "Readout": "neurolearn.reservoir.readout",
    "OnlineReadout": "neurolearn.reservoir.online",
    "Force": "neurolearn.reservoir.online",
}


__all__ = [
    "EIReservoir",
    "ESN",
    "Readout",
    "OnlineReadout",
    "Force",
    "run_batch",
    "spectral_radius",
    "draw_target_rates",
    "ADAPTATIONS",
    "memory_capacity",
    "narma_prediction",
    "mackey_glass_prediction",
    "lorenz_prediction",
    "classify_sequences",
]

__getattr__, __dir__ = lazy_exports(__name__, _WHERE, __all__)
