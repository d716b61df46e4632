"""Spec table of the spiking reservoir and ``run_experiment``: the rate reservoir's protocols
(memory capacity, NARMA) and readout on the LIF E/I network."""

from __future__ import annotations

import numpy as np

from neurolearn._outcome import Outcome
from neurolearn._params import Interval
from neurolearn._schema import param, spec_table
from neurolearn.plots.reservoir import reservoir_run_figure
from neurolearn.reservoir.experiment import RidgeReadout
from neurolearn.spiking import _declared as D
from neurolearn.spiking.experiment import (
    InhibitorySTDP,  # noqa: F401  (registers rule kind "inhibitory-stdp")
    LIFFields,
    check_backend,
)

DEFAULT_KINDS = {"rule": "none", "readout": "ridge"}
REQUIRED_SECTIONS = {"models": ("network",)}
TASK_KINDS = ("memory-capacity", "narma")

#: keys that are SpikingReservoir parameters (the other network keys go to network_params)
_RESERVOIR_KEYS = tuple(D.RESERVOIR)

#: the network keys of a spiking-reservoir spec: the LIF keys, the reservoir's own, and the
#: network parameters it sets differently from SpikingEINetwork (with the reservoir's defaults)
_SPEC_PARAMS = D.with_spec_defaults(
    D.LIF
    | D.RESERVOIR
    | D.only(
        D.NETWORK, "w_exc", "w_inh", "w_inh_exc", "bias_mv", "bias_spread_mv", "input_rate_hz"
    ),
    D.RESERVOIR_NETWORK_DEFAULTS,
)


@spec_table("network", "spiking-reservoir", params=_SPEC_PARAMS)
class SpikingReservoirSpec(LIFFields):
    """Liquid state machine: LIF E/I network, input as a current, filtered spikes as states."""

    adapt_steps: int = param(0, Interval(int, 0, None), "input steps of iSTDP before the readout")


def build_reservoir(model, seed):
    """The :class:`~neurolearn.spiking.SpikingReservoir` a model spec describes."""
    from neurolearn.spiking.reservoir import SpikingReservoir

    net = model.network
    rule = model.get("rule")
    values = D.from_spec(net.to_dict())
    network_params = {
        k: v
        for k, v in values.items()
        if k not in _RESERVOIR_KEYS and k not in ("kind", "backend", "adapt_steps")
    }
    adaptation = "none"
    if rule is not None and rule.kind_name == "inhibitory-stdp":
        adaptation = "istdp"
        network_params.update({k: v for k, v in rule.to_dict().items() if k != "kind"})
    return SpikingReservoir(
        **{k: values[k] for k in _RESERVOIR_KEYS},
        adaptation=adaptation,
        network_params=network_params,
        backend=net.backend,
        seed=seed,
    )


def run_experiment(model, task, *, seed, backend, progress=False) -> Outcome:
    """Memory capacity or NARMA on the spiking reservoir, with the rate reservoir's protocols."""
    import xarray as xr

    from neurolearn.reservoir import protocols

    check_backend(backend)
    rng_net, rng_task = seed.spawn(2)
    reservoir = build_reservoir(model, np.random.default_rng(rng_net))
    rule = model.get("rule")
    adapt_steps = model.network.adapt_steps if rule is not None and rule.kind_name != "none" else 0
    readout = model.get("readout") or RidgeReadout()
    t = task.task
    params = {k: v for k, v in t.to_dict().items() if k != "kind"}
    common = dict(
        washout=readout.washout,
        ridge=readout.ridge,
        adapt_steps=adapt_steps,
        seed=np.random.default_rng(rng_task),
    )
    metrics, arrays = {}, {}
    if t.kind_name == "memory-capacity":
        out = protocols.memory_capacity(reservoir, **params, **common)
        metrics["memory_capacity"] = out["total"]
        arrays["mc_curve"] = xr.DataArray(
            out["curve"], dims="delay", coords={"delay": np.arange(1, t.max_delay + 1)}
        )
    else:
        out = protocols.narma_prediction(reservoir, **params, **common)
        metrics["nrmse"] = out["nrmse"]
        arrays["target"] = xr.DataArray(out["target"], dims="t")
        arrays["prediction"] = xr.DataArray(out["prediction"], dims="t")
    metrics["rate_exc_hz"] = reservoir.mean_rate_hz_
    attrs = {"adaptation": reservoir.adaptation, "engine": reservoir.backend}
    return Outcome(metrics=metrics, arrays=arrays, figure=reservoir_run_figure, attrs=attrs)


# ---------------------------------------------------------------- checks before a run
MEMORY_KEYS = ("network.n", "task.train_steps", "task.test_steps")


def estimate_memory(model, task) -> int:
    """Peak memory (bytes) of a spiking-reservoir run.

    With ``n`` neurons, ``T`` input values (washout, training and test steps, plus
    ``adapt_steps``) each held ``step_ms``: :func:`neurolearn.spiking.experiment.network_memory`
    with ``n min(in_degree, n - 1)`` synapses over ``T step_ms``, the states and their per-step
    contributions (``16 T F``), and the readout's design matrix and normal equations
    (``8 T_fit (F + 1) + 16 (F + 1)^2``), ``T_fit = washout + train_steps``, with ``F`` state
    features (``n`` per filter time constant, ``2 n`` for synaptic states).
    """
    from neurolearn.reservoir.experiment import _driven_steps
    from neurolearn.spiking.experiment import network_memory

    net = model.network
    n = net.n
    readout = model.get("readout") or RidgeReadout()
    steps, fit, _ = _driven_steps(task, readout.washout)
    rule = model.get("rule")
    adapt = net.adapt_steps if rule is not None and rule.kind_name != "none" else 0
    synapses = n * min(net.in_degree, n - 1)
    n_taus = len(net.filter_tau_ms) if isinstance(net.filter_tau_ms, list) else 1
    width = (n_taus if net.state != "synaptic" else 0) * n + (
        2 * n if net.state != "filtered" else 0
    )
    duration = (steps + adapt) * net.step_ms
    t = task.task
    extra = 8 * steps * t.max_delay if t.kind_name == "memory-capacity" else 0
    readout_bytes = 8 * fit * (width + 1) + 16 * (width + 1) ** 2
    states = 16 * steps * width
    return int(network_memory(n, synapses, duration, net) + states + readout_bytes + extra)
