"""Spiking E/I networks with inhibitory plasticity, on a numba engine and on Brian2.

* :class:`SpikingEINetwork`: LIF E/I network (conductance- or current-based synapses, refractory
  period, optional delay) with Vogels et al. (2011) inhibitory STDP, constant and Poisson drive;
  ``backend="numba"`` or ``"brian2"`` with the same connectivity and drive.
* :class:`SpikingReservoir`: the network as a liquid state machine, read out by
  :class:`neurolearn.reservoir.Readout`.
"""

from neurolearn.spiking._brian2 import brian2_cache_dir, required_brian2, standalone_scan
from neurolearn.spiking._connectivity import Connectivity, random_connectivity
from neurolearn.spiking._record import SpikeRecord, first_divergence
from neurolearn.spiking.network import ENGINES, SpikingEINetwork
from neurolearn.spiking.reservoir import ADAPTATIONS, SpikingReservoir, filtered_states

__all__ = [
    "Connectivity",
    "random_connectivity",
    "SpikeRecord",
    "first_divergence",
    "SpikingEINetwork",
    "ENGINES",
    "SpikingReservoir",
    "filtered_states",
    "ADAPTATIONS",
    "standalone_scan",
    "brian2_cache_dir",
    "required_brian2",
]
