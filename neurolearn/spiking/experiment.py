"""Spec tables of the spiking E/I network and ``run_experiment`` for ``nl.run``.

``network.kind = "spiking-ei"`` runs the ``rate-homeostasis`` task: a baseline with frozen
weights, then inhibitory STDP, with rates, a raster and the weights before/after recorded.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from neurolearn._outcome import Outcome
from neurolearn._params import Interval, Options
from neurolearn._schema import SpecTable, param, spec_table
from neurolearn.errors import BackendError, SpecError
from neurolearn.plots.spiking import spiking_run_figure
from neurolearn.reservoir.experiment import NoRule  # noqa: F401  (registers rule kind "none")

DEFAULT_KINDS = {"rule": "inhibitory-stdp"}
REQUIRED_SECTIONS = {"models": ("network",)}
TASK_KINDS = ("rate-homeostasis",)

_POS = Interval(float, 0, None, "neither")
_NONNEG = Interval(float, 0, None)
_REAL = Interval(float)


@dataclasses.dataclass(frozen=True)
class LIFFields(SpecTable):
    """Neuron, synapse and drive keys shared by the spiking network kinds."""

    synapse: str = param("conductance", Options(("conductance", "current")), "synapse model")
    dt_ms: float = param(0.1, _POS, "time step (forward Euler)")
    tau_m_ms: float = param(20.0, _POS, "membrane time constant")
    v_rest_mv: float = param(-60.0, _REAL, "resting potential")
    v_threshold_mv: float = param(-50.0, _REAL, "spike threshold")
    v_reset_mv: float = param(-60.0, _REAL, "reset potential")
    refractory_ms: float = param(5.0, _POS, "absolute refractory period")
    tau_exc_ms: float = param(5.0, _POS, "excitatory synaptic time constant")
    tau_inh_ms: float = param(10.0, _POS, "inhibitory synaptic time constant")
    e_exc_mv: float = param(0.0, _REAL, "excitatory reversal potential (conductance)")
    e_inh_mv: float = param(-80.0, _REAL, "inhibitory reversal potential (conductance)")
    delay_ms: float = param(0.0, _NONNEG, "synaptic delay")
    w_input: float = param(0.02, _NONNEG, "weight of an external Poisson spike")
    engine: str = param("numba", Options(("numba", "brian2")), "simulation engine")
    brian2_target: str = param("numpy", Options(("numpy", "cython")), "Brian2 codegen target")

    def __post_init__(self):
        # keys that are valid alone but not together: refused when the spec is loaded
        if self.dt_ms > self.refractory_ms:
            raise SpecError(
                f"network.dt_ms: must not exceed network.refractory_ms ({self.refractory_ms}). "
                f"Got {self.dt_ms} instead."
            )
        if self.v_reset_mv >= self.v_threshold_mv:
            raise SpecError(
                f"network.v_reset_mv: must be below network.v_threshold_mv "
                f"({self.v_threshold_mv}). Got {self.v_reset_mv} instead."
            )


@spec_table("network", "spiking-ei")
class SpikingEISpec(LIFFields):
    """LIF E/I network (Vogels et al. 2011 style) with heterogeneous constant + Poisson drive."""

    n_exc: int = param(400, Interval(int, 1, None), "excitatory neurons")
    n_inh: int = param(100, Interval(int, 1, None), "inhibitory neurons")
    connection_prob: float = param(0.2, Interval(float, 0, 1), "connection probability")
    w_exc: float = param(0.015, _NONNEG, "E -> any weight")
    w_inh: float = param(0.15, _NONNEG, "I -> I weight")
    w_inh_exc: float = param(0.05, _NONNEG, "initial I -> E weight (plastic)")
    bias_mv: float = param(15.0, _REAL, "constant drive R*I")
    bias_spread_mv: float = param(5.0, _NONNEG, "bias uniform in bias +- spread")
    input_rate_hz: float = param(1000.0, _NONNEG, "external Poisson rate per neuron")
    record_v: int = param(10, Interval(int, 0, None), "neurons with a recorded v trace")


@spec_table("rule", "inhibitory-stdp")
class InhibitorySTDP(SpecTable):
    """Vogels et al. (2011) symmetric iSTDP on I -> E synapses toward a target rate."""

    target_rate_hz: float = param(5.0, _NONNEG, "target rate rho0 (alpha = 2 rho0 tau_stdp)")
    tau_stdp_ms: float = param(20.0, _POS, "trace time constant")
    learning_rate: float = param(2e-3, _NONNEG, "eta")
    w_max: float = param(10.0, _POS, "upper bound of the plastic weights")


def network_kwargs(net_table, rule) -> dict:
    """Keyword arguments of :class:`SpikingEINetwork` from a network and a rule table."""
    kwargs = {k: v for k, v in net_table.to_dict().items() if k not in ("kind", "engine")}
    kwargs["backend"] = net_table.engine
    if rule is not None and rule.kind_name == "inhibitory-stdp":
        kwargs.update({k: v for k, v in rule.to_dict().items() if k != "kind"})
        kwargs["plasticity"] = True
    else:
        kwargs["plasticity"] = False
    return kwargs


def check_backend(backend) -> None:
    """The spiking family runs on its own engines; only the default CPU backend is accepted."""
    if backend.name != "numba":
        raise BackendError(
            f"The spiking family runs on the engines 'numba' and 'brian2' (set network.engine). "
            f"Got backend {backend.name!r}; use the default backend."
        )


def run_experiment(model, task, *, seed, backend, progress=False) -> Outcome:
    """Baseline, then plasticity: rates, rate spread, CV, weights and raster before/after."""
    import xarray as xr

    from neurolearn.spiking.network import SpikingEINetwork

    check_backend(backend)
    t = task.task
    rule = model.get("rule")
    kwargs = network_kwargs(model.network, rule)
    net = SpikingEINetwork(**kwargs, seed=np.random.default_rng(seed))
    net.build()
    w_before = net.weights_.copy()
    base = net.run(t.baseline_ms, plasticity=False, progress=progress)
    learn = net.run(t.plastic_ms, progress=progress)
    n_exc = net.n_exc
    rates_base = base.rates_hz()[:n_exc]
    rates_final = learn.rates_hz(start_ms=t.plastic_ms - t.measure_ms)[:n_exc]
    target = kwargs.get("target_rate_hz", float("nan"))
    mask = net.plastic_mask_
    window = learn.rates_hz(start_ms=t.plastic_ms - t.measure_ms)
    metrics = {
        "rate_baseline_hz": float(rates_base.mean()),
        "rate_final_hz": float(rates_final.mean()),
        "rate_inh_final_hz": float(window[n_exc:].mean()),
        "target_rate_hz": float(target) if rule is not None and rule.kind_name != "none" else 0.0,
        "rate_std_baseline_hz": float(rates_base.std()),
        "rate_std_final_hz": float(rates_final.std()),
        "cv_isi_final": learn.mean_cv_isi(start_ms=t.plastic_ms - t.measure_ms),
        "w_inh_exc_before": float(w_before[mask].mean()) if mask.any() else 0.0,
        "w_inh_exc_after": float(net.weights_[mask].mean()) if mask.any() else 0.0,
    }
    if metrics["target_rate_hz"] > 0:
        metrics["rate_error"] = abs(metrics["rate_final_hz"] / metrics["target_rate_hz"] - 1.0)
    starts, pop_exc = _concat_rates(base, learn, t.bin_ms, "exc")
    _, pop_inh = _concat_rates(base, learn, t.bin_ms, "inh")
    raster_ms = min(t.raster_ms, t.baseline_ms, t.plastic_ms)
    arrays = {
        "population_rate_exc": xr.DataArray(pop_exc, dims="t", coords={"t": starts}),
        "population_rate_inh": xr.DataArray(pop_inh, dims="t", coords={"t": starts}),
        "rate_baseline": xr.DataArray(rates_base, dims="neuron"),
        "rate_final": xr.DataArray(rates_final, dims="neuron"),
        "weight_before": xr.DataArray(w_before[mask], dims="synapse"),
        "weight_after": xr.DataArray(net.weights_[mask], dims="synapse"),
    }
    for name, rec, start in (
        ("baseline", base, 0.0),
        ("final", learn, t.plastic_ms - raster_ms),
    ):
        first = rec.start_step + int(round(start / rec.dt_ms))
        keep = (rec.spike_steps >= first) & (
            rec.spike_steps < first + int(round(raster_ms / rec.dt_ms))
        )
        keep &= rec.spike_ids % max(1, rec.n // t.raster_neurons) == 0
        arrays[f"raster_{name}_t"] = xr.DataArray(rec.spike_times_ms[keep], dims=f"spike_{name}")
        arrays[f"raster_{name}_i"] = xr.DataArray(rec.spike_ids[keep], dims=f"spike_{name}")
    attrs = {"n_exc": n_exc, "engine": net.backend}
    return Outcome(metrics=metrics, arrays=arrays, figure=spiking_run_figure, attrs=attrs)


def _concat_rates(base, learn, bin_ms, population):
    s1, r1 = base.binned_rate_hz(bin_ms, population)
    s2, r2 = learn.binned_rate_hz(bin_ms, population)
    return np.r_[s1, s2], np.r_[r1, r2]


# ---------------------------------------------------------------- checks before a run
MEMORY_KEYS = ("network.n_exc", "network.n_inh", "task.plastic_ms")


def network_memory(n: int, synapses: float, duration_ms: float, net_table) -> float:
    """Bytes of a LIF E/I network of ``n`` neurons run for ``duration_ms`` (numba engine).

    ``80`` bytes per synapse (pre, post, weight, their unsorted copies and the sort order),
    the ``[pre, post]`` mask drawn in blocks of 512 rows (``9 min(n, 512) n``), per chunk of
    2000 steps the external Poisson counts (``10 chunk n``) and the spike buffer, the delay
    queue, and the spike record at the largest rate the refractory period allows:
    ``32 n duration / refractory`` (step and id, chunk copies and the concatenation).
    """
    dt = net_table.dt_ms
    chunk = min(2000, max(1, duration_ms / dt))
    ref_steps = max(1, round(net_table.refractory_ms / dt))
    ext = 10 * chunk * n if getattr(net_table, "input_rate_hz", 0) > 0 else 0
    spikes_max = n * (duration_ms / net_table.refractory_ms + 1)
    return (
        80 * synapses
        + 9 * min(n, 512) * n
        + ext
        + 16 * n * (chunk / ref_steps + 1)
        + 8 * n * (net_table.delay_ms / dt + 2)
        + 32 * spikes_max
        + 200 * n
    )


def estimate_memory(model, task) -> int:
    """Peak memory (bytes) of a ``spiking-ei`` run on ``rate-homeostasis``.

    :func:`network_memory` for ``n = n_exc + n_inh`` neurons with ``connection_prob n^2``
    synapses over ``baseline_ms + plastic_ms`` (both records are kept), plus the recorded
    voltage traces ``8 record_v (baseline_ms + plastic_ms) / dt_ms`` and two weight copies
    (``16`` bytes per synapse).
    """
    net, t = model.network, task.task
    n = net.n_exc + net.n_inh
    synapses = net.connection_prob * n * n
    duration = t.baseline_ms + t.plastic_ms
    traces = 8 * net.record_v * duration / net.dt_ms
    return int(network_memory(n, synapses, duration, net) + traces + 16 * synapses)
