"""Spiking E/I networks with inhibitory plasticity, on numba, Brian2 and PyTorch engines.

* :class:`SpikingEINetwork`: LIF E/I network (conductance- or current-based synapses, refractory
  period, optional delay) with Vogels et al. (2011) inhibitory STDP, constant and Poisson drive;
  ``backend="numba"``, ``"brian2"`` or ``"torch"`` with the same connectivity and drive. The
  torch engine runs on ``device`` (CPU or CUDA) in ``dtype`` (float32 by default, float64 on
  request: then on the CPU the numba engine's numbers exactly).
* :func:`run_batch` / :func:`replicate`: many networks (over seeds, parameters, drive) in one
  call, each equal to its single run: on numba spread over the threads, on torch advanced
  together as one flat tensor batch (any sizes and parameters mixed).
* :class:`SpikingReservoir`: the network as a liquid state machine, read out by
  :class:`neurolearn.reservoir.Readout`.
"""

from neurolearn._lazy import lazy_exports

# public name -> defining module, imported on first use so that reading a spec file
# (which imports the family's spec tables) stays fast
_WHERE = {
    "brian2_cache_dir": "neurolearn.spiking._brian2",
    "required_brian2": "neurolearn.spiking._brian2",
    "standalone_scan": "neurolearn.spiking._brian2",
    "standalone_ensemble": "neurolearn.spiking._brian2",
    "Connectivity": "neurolearn.spiking._connectivity",
    "random_connectivity": "neurolearn.spiking._connectivity",
    "SpikeRecord": "neurolearn.spiking._record",
    "first_divergence": "neurolearn.spiking._record",
    "ENGINES": "neurolearn.spiking.network",
    "run_batch": "neurolearn.spiking.batch",
    "replicate": "neurolearn.spiking.batch",
    "run_reservoirs": "neurolearn.spiking.batch",
    "SpikingEINetwork": "neurolearn.spiking.network",
    "ADAPTATIONS": "neurolearn.spiking.reservoir",
    "SpikingReservoir": "neurolearn.spiking.reservoir",
    "filtered_states": "neurolearn.spiking.reservoir",
    "synaptic_states": "neurolearn.spiking.reservoir",
    "STATES": "neurolearn.spiking.reservoir",
}


__all__ = [
    "Connectivity",
    "random_connectivity",
    "SpikeRecord",
    "first_divergence",
    "SpikingEINetwork",
    "ENGINES",
    "run_batch",
    "replicate",
    "run_reservoirs",
    "SpikingReservoir",
    "filtered_states",
    "synaptic_states",
    "ADAPTATIONS",
    "STATES",
    "standalone_scan",
    "standalone_ensemble",
    "brian2_cache_dir",
    "required_brian2",
]

__getattr__, __dir__ = lazy_exports(__name__, _WHERE, __all__)
