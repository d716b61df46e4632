"""Spec tables of the spiking E/I network and ``run_experiment`` for ``nl.run``.

``network.kind = "spiking-ei"`` runs the ``rate-homeostasis`` task: a baseline with frozen
weights, then inhibitory STDP, with rates, a raster and the weights before/after recorded.
"""

from __future__ import annotations

import warnings

import numpy as np

from neurolearn._outcome import Outcome
from neurolearn._schema import SpecTable, spec_table
from neurolearn.errors import BackendError, SpecError
from neurolearn.plots.spiking import spiking_run_figure
from neurolearn.reservoir.experiment import NoRule  # noqa: F401  (registers rule kind "none")
from neurolearn.spiking import _declared as D

DEFAULT_KINDS = {"rule": "inhibitory-stdp"}
REQUIRED_SECTIONS = {"models": ("network",)}
TASK_KINDS = ("rate-homeostasis",)


class LIFFields(SpecTable):
    """Checks shared by the spiking network kinds (whose neuron, synapse and drive keys are
    :data:`neurolearn.spiking._declared.LIF`): ``engine`` is read as the deprecated name of
    ``backend``, and keys valid alone but not together are refused when the spec is loaded."""

    @classmethod
    def from_dict(cls, raw: dict, where: str) -> SpecTable:
        if "engine" not in raw:
            return super().from_dict(raw, where)
        raw = dict(raw)
        engine = raw.pop("engine")
        if engine not in D.ENGINES:
            raise SpecError(
                f"{where}.engine: must be one of {', '.join(map(repr, D.ENGINES))} "
                f"(engine is the deprecated name of backend). Got {engine!r} instead."
            )
        if raw.get("backend", engine) != engine:
            raise SpecError(
                f"{where}.engine: the deprecated name of backend, which is "
                f"{raw['backend']!r}: give the engine once, as backend."
            )
        warnings.warn(
            f"{where}.engine is deprecated; the key is now backend (same values).",
            DeprecationWarning,
            stacklevel=2,
        )
        raw["backend"] = engine
        return super().from_dict(raw, where)

    def __post_init__(self):
        if self.backend != "torch" and self.device != "cpu":
            raise SpecError(
                f"network.device: must be 'cpu' with network.backend = {self.backend!r} (only "
                f"the torch engine runs on a GPU). Got {self.device!r} instead."
            )
        if self.backend != "torch" and self.dtype == "float32":
            raise SpecError(
                f"network.dtype: must be '' or 'float64' with network.backend = "
                f"{self.backend!r} (only the torch engine computes in float32). Got 'float32' "
                "instead."
            )
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


@spec_table("network", "spiking-ei", params=D.LIF | D.NETWORK)
class SpikingEISpec(LIFFields):
    """LIF E/I network (Vogels et al. 2011 style) with heterogeneous constant + Poisson drive."""


@spec_table("rule", "inhibitory-stdp", params=D.ISTDP)
class InhibitorySTDP(SpecTable):
    """Vogels et al. (2011) symmetric iSTDP on I -> E synapses toward a target rate."""


def network_kwargs(net_table, rule) -> dict:
    """Keyword arguments of :class:`SpikingEINetwork` from a network and a rule table."""
    kwargs = D.from_spec({k: v for k, v in net_table.to_dict().items() if k != "kind"})
    if rule is not None and rule.kind_name == "inhibitory-stdp":
        kwargs.update({k: v for k, v in rule.to_dict().items() if k != "kind"})
        kwargs["plasticity"] = True
    else:
        kwargs["plasticity"] = False
    return kwargs


def check_backend(backend) -> None:
    """The run's backend: 'numba' (the default); the engine is the spec key ``network.backend``.

    Examples
    --------
    >>> from neurolearn.backend import Backend
    >>> check_backend(Backend("numpy"))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    neurolearn.errors.BackendError: The 'backend' parameter of a spiking run must be 'numba' ...
    """
    if backend.name != "numba":
        raise BackendError(
            f"The 'backend' parameter of a spiking run must be 'numba' (the spiking family has "
            f"no {D.MISSING_ENGINES} engine; its engines, {', '.join(map(repr, D.ENGINES))}, "
            f"are chosen with network.backend). Got {backend.name!r} instead."
        )


def _fresh(seed):
    """A copy of a ``SeedSequence`` in its current state (building a network spawns children
    from it, so a second network built from the same object would get other draws)."""
    if isinstance(seed, np.random.SeedSequence):
        return np.random.SeedSequence(
            seed.entropy,
            spawn_key=seed.spawn_key,
            pool_size=seed.pool_size,
            n_children_spawned=seed.n_children_spawned,
        )
    return seed


def _initialized(model, seed):
    """The point's network, built from its seed, and its weights before any run."""
    from neurolearn.spiking.network import SpikingEINetwork

    kwargs = network_kwargs(model.network, model.get("rule"))
    net = SpikingEINetwork(**kwargs, seed=np.random.default_rng(seed))
    net.initialize()
    return net, net.weights_.copy()


def run_experiment(model, task, *, seed, backend, progress=False) -> Outcome:
    """Baseline, then plasticity: rates, rate spread, CV, weights and raster before/after."""
    check_backend(backend)
    t = task.task
    net, w_before = _initialized(model, seed)
    base = net.run(t.baseline_ms, plasticity=False, progress=progress)
    learn = net.run(t.plastic_ms, progress=progress)
    return _outcome(model, t, net, w_before, base, learn)


#: network kinds whose points :func:`run_experiment_batch` runs together (see the registry)
BATCH_KINDS = ("spiking-ei",)


def run_experiment_batch(models, tasks, *, seeds, backend, progress=False) -> list:
    """:func:`run_experiment` for many points at once: one entry per point, in order.

    Each point builds its own network from its own seed, exactly as :func:`run_experiment`
    does; the points sharing ``baseline_ms`` and ``plastic_ms`` then run each phase together
    in one :func:`~neurolearn.spiking.run_batch` call (on the numba engine one kernel call per
    chunk, the networks spread over numba's threads). Other spec values (sizes, weights,
    rule, drive, engine) may differ between points.

    Returns
    -------
    list
        Per point the :class:`~neurolearn._outcome.Outcome` that :func:`run_experiment` returns
        for it (the same numbers, bit for bit), or the exception it would raise: a point that
        diverges gets its :class:`~neurolearn.errors.DivergenceError` and stops there, while
        its batch-mates go on. An error that stops a whole phase (not a divergence) makes every
        point of that phase's group run alone with :func:`run_experiment`, so each point still
        gets its own result or error.

    Examples
    --------
    >>> import numpy as np
    >>> from neurolearn import specs
    >>> from neurolearn.backend import resolve_backend
    >>> over = ["network.n_exc=40", "network.n_inh=10", "task.baseline_ms=50",
    ...         "task.plastic_ms=100", "task.measure_ms=50"]
    >>> model = specs.load_model("spiking-ei", over)
    >>> task = specs.load_task("rate-homeostasis", over)
    >>> outs = run_experiment_batch([model, model], [task, task],
    ...                             seeds=np.random.SeedSequence(0).spawn(2),
    ...                             backend=resolve_backend(None))
    >>> one = run_experiment(model, task, seed=np.random.SeedSequence(0).spawn(2)[1],
    ...                      backend=resolve_backend(None))
    >>> outs[1].metrics == one.metrics
    True
    """
    from neurolearn.errors import DivergenceError, ParameterError
    from neurolearn.spiking.batch import run_batch

    check_backend(backend)
    models, tasks, seeds = list(models), list(tasks), list(seeds)
    if not len(models) == len(tasks) == len(seeds):
        raise ParameterError(
            "run_experiment_batch: models, tasks and seeds must have one entry per point. "
            f"Got {len(models)}, {len(tasks)} and {len(seeds)}."
        )
    fresh = [_fresh(seed) for seed in seeds]  # for a point that has to run alone
    results: list = [None] * len(models)
    built: dict[int, tuple] = {}
    groups: dict[tuple, list[int]] = {}
    for i, (model, task, seed) in enumerate(zip(models, tasks, seeds, strict=True)):
        try:
            built[i] = _initialized(model, seed)
        except Exception as exc:  # this point's own error, as run_experiment raises it
            results[i] = exc
            continue
        groups.setdefault((task.task.baseline_ms, task.task.plastic_ms), []).append(i)

    def phase(members, duration_ms, plasticity):
        recs = run_batch(
            [built[i][0] for i in members],
            duration_ms,
            plasticity=plasticity,
            progress=progress,
            on_divergence="return",
        )
        alive = []
        for i, rec in zip(members, recs, strict=True):
            if isinstance(rec, DivergenceError):
                results[i] = rec
            else:
                alive.append((i, rec))
        return alive

    for (baseline_ms, plastic_ms), members in groups.items():
        try:
            base = dict(phase(members, baseline_ms, False))
            learn = phase(list(base), plastic_ms, None) if base else []
        except Exception:  # the whole phase stopped: run its points one by one
            for i in members:
                try:
                    results[i] = run_experiment(
                        models[i], tasks[i], seed=fresh[i], backend=backend, progress=progress
                    )
                except Exception as exc:
                    results[i] = exc
            continue
        for i, rec in learn:
            net, w_before = built.pop(i)
            try:
                results[i] = _outcome(models[i], tasks[i].task, net, w_before, base[i], rec)
            except Exception as exc:
                results[i] = exc
    return results


def _outcome(model, t, net, w_before, base, learn) -> Outcome:
    """The metrics, curves and rasters of one run from its two records (shared by the single
    and the batched run)."""
    import xarray as xr

    rule = model.get("rule")
    kwargs = network_kwargs(model.network, rule)
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
