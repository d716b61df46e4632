"""Spec table of the spiking reservoir and ``run_experiment``: the rate reservoir's protocols
(memory capacity, NARMA) and readout on the LIF E/I network."""

from __future__ import annotations

import numpy as np

from neurolearn._outcome import Outcome
from neurolearn._params import Interval, ListOf, Options
from neurolearn._schema import param, spec_table
from neurolearn.plots.reservoir import reservoir_run_figure
from neurolearn.reservoir.experiment import RidgeReadout
from neurolearn.spiking.experiment import (
    _NONNEG,
    _POS,
    _REAL,
    InhibitorySTDP,  # noqa: F401  (registers rule kind "inhibitory-stdp")
    LIFFields,
    check_backend,
)

DEFAULT_KINDS = {"rule": "none", "readout": "ridge"}
REQUIRED_SECTIONS = {"models": ("network",)}
TASK_KINDS = ("memory-capacity", "narma")

_RESERVOIR_KEYS = (
    "n",
    "excitatory_fraction",
    "in_degree",
    "input_fraction",
    "input_scale_mv",
    "step_ms",
    "filter_tau_ms",
    "state",
)


@spec_table("network", "spiking-reservoir")
class SpikingReservoirSpec(LIFFields):
    """Liquid state machine: LIF E/I network, input as a current, filtered spikes as states."""

    n: int = param(500, Interval(int, 2, None), "neurons")
    excitatory_fraction: float = param(0.8, Interval(float, 0, 1, "neither"), "fraction E")
    in_degree: float = param(20.0, _NONNEG, "expected recurrent inputs per neuron")
    input_fraction: float = param(1.0, Interval(float, 0, 1, "right"), "fraction driven")
    input_scale_mv: float = param(10.0, _NONNEG, "input gain: weights uniform in [-s, s] mV")
    step_ms: float = param(10.0, _POS, "duration of each input value")
    filter_tau_ms: object = param(
        10.0, ListOf(_POS), "spike-train filter(s) of the states; a list concatenates traces"
    )
    state: str = param(
        "filtered",
        Options(("filtered", "synaptic", "both")),
        "states: filtered spikes, recurrent synaptic conductances (2 n), or both",
    )
    w_exc: float = param(0.02, _NONNEG, "E -> any weight")
    w_inh: float = param(0.2, _NONNEG, "I -> I weight")
    w_inh_exc: float = param(0.2, _NONNEG, "initial I -> E weight")
    bias_mv: float = param(20.0, _REAL, "constant drive R*I")
    bias_spread_mv: float = param(10.0, _NONNEG, "bias uniform in bias +- spread")
    input_rate_hz: float = param(0.0, _NONNEG, "background Poisson rate per neuron")
    adapt_steps: int = param(0, Interval(int, 0, None), "input steps of iSTDP before the readout")


def build_reservoir(model, seed):
    """The :class:`~neurolearn.spiking.SpikingReservoir` a model spec describes."""
    from neurolearn.spiking.reservoir import SpikingReservoir

    net = model.network
    rule = model.get("rule")
    values = net.to_dict()
    network_params = {
        k: v
        for k, v in values.items()
        if k not in _RESERVOIR_KEYS and k not in ("kind", "engine", "adapt_steps")
    }
    adaptation = "none"
    if rule is not None and rule.kind_name == "inhibitory-stdp":
        adaptation = "istdp"
        network_params.update({k: v for k, v in rule.to_dict().items() if k != "kind"})
    return SpikingReservoir(
        **{k: values[k] for k in _RESERVOIR_KEYS},
        adaptation=adaptation,
        network_params=network_params,
        backend=net.engine,
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
