"""Spec tables of the reservoir family and ``run_experiment`` for ``nl.run``."""

from __future__ import annotations

import numpy as np

from neurolearn._outcome import Outcome
from neurolearn._params import Interval
from neurolearn._schema import SpecTable, param, spec_table
from neurolearn.backend import available_threads, numba_threading_layer
from neurolearn.plots.reservoir import reservoir_run_figure
from neurolearn.reservoir import _declared as D
from neurolearn.reservoir._connectivity import ei_in_degrees

DEFAULT_KINDS = {"rule": "none", "readout": "ridge"}
REQUIRED_SECTIONS = {"models": ("network",)}
TASK_KINDS = ("memory-capacity", "narma", "mackey-glass", "lorenz", "sequence-classification")


@spec_table("network", "esn", params=D.ESN_NETWORK)
class ESNNetwork(SpecTable):
    """Leaky tanh echo-state network."""


@spec_table("network", "ei-reservoir", params=D.EI_NETWORK)
class EINetwork(SpecTable):
    """E/I rate reservoir (Dale's law, fixed in-degree, sigmoid units)."""


@spec_table("rule", "none")
class NoRule(SpecTable):
    """Weights stay as drawn."""


@spec_table("rule", "local-ei-adaptation", params=D.TARGET_RATE | D.LOCAL_RULE)
class LocalAdaptation(SpecTable):
    """Local inhibitory plasticity toward per-unit target rates (then frozen)."""

    steps: int = param(20000, Interval(int, 1, None), "most adaptation steps on task input")


@spec_table("rule", "global-ei-balance", params=D.TARGET_RATE)
class GlobalBalance(SpecTable):
    """Rate-matched global tuning: one scalar on all inhibition, mean rate = mean target."""

    steps: int = param(2000, Interval(int, 1, None), "adaptation steps on task input")
    search: str = param(
        D.GLOBAL_SEARCH["global_search"].default,
        D.GLOBAL_SEARCH["global_search"].constraint,
        D.GLOBAL_SEARCH["global_search"].doc,
    )


@spec_table("rule", "row-rescaling", params=D.TARGET_RATE)
class RowRescaling(SpecTable):
    """One-step rescaling of each inhibitory row from the fixed point r = rho."""

    steps: int = param(2000, Interval(int, 1, None), "input steps whose mean is used")


@spec_table(
    "rule", "intrinsic-plasticity", params=D.INTRINSIC | D.only(D.ESN_INTRINSIC, "ip_target_std")
)
class IntrinsicPlasticity(SpecTable):
    """Intrinsic plasticity of each unit's gain and bias (then frozen): Triesch's rule toward
    exponential outputs with the target rates as means (E/I reservoir), Schrauwen's toward
    N(0, ip_target_std**2) outputs (ESN)."""

    target_rate: object = param(
        D.TARGET_RATE["target_rate"].spec_value,
        D.TARGET_RATE["target_rate"].spec_check,
        "E/I reservoir: the mean of each unit's target exponential distribution",
    )
    steps: int = param(20000, Interval(int, 1, None), "adaptation steps on task input")


@spec_table("readout", "ridge", params=D.only(D.READOUT, "ridge", "washout"))
class RidgeReadout(SpecTable):
    """Ridge-regression readout."""


_ADAPTATION_OF = {
    "none": "none",
    "local-ei-adaptation": "local",
    "global-ei-balance": "global",
    "row-rescaling": "row-rescale",
    "intrinsic-plasticity": "intrinsic",
}


def build_reservoir(model, *, n_inputs: int, seed, backend):
    """The reservoir a model spec describes (not yet adapted)."""
    from neurolearn.reservoir.ei import EIReservoir
    from neurolearn.reservoir.esn import ESN

    net = model.network
    rule = model.get("rule")
    kwargs = {k: v for k, v in net.to_dict().items() if k != "kind"}
    common = dict(n_inputs=n_inputs, seed=seed, backend=backend.name, device=backend.device)
    if net.kind_name == "esn":
        if rule is not None and rule.kind_name == "intrinsic-plasticity":
            ip = dict(ip_learning_rate=rule.ip_learning_rate, ip_target_std=rule.ip_target_std)
            return ESN(**kwargs, adaptation="intrinsic", **ip, **common)
        return ESN(**kwargs, **common)
    rule_kind = "none" if rule is None else rule.kind_name
    extra = {"adaptation": _ADAPTATION_OF[rule_kind]}
    if rule_kind != "none":
        extra["target_rate"] = rule.target_rate
    if rule_kind == "local-ei-adaptation":
        for key in ("learning_rate", "record_every", "tolerance", "criterion", "check_every"):
            extra[key] = getattr(rule, key)
    if rule_kind == "global-ei-balance":
        extra["global_search"] = rule.search
    if rule_kind == "intrinsic-plasticity":
        extra["ip_learning_rate"] = rule.ip_learning_rate
    return EIReservoir(**kwargs, **extra, **common)


def run_experiment(model, task, *, seed, backend, progress=False) -> Outcome:
    """Build the reservoir, run the task protocol, return metrics, arrays and a figure."""
    import xarray as xr

    from neurolearn.reservoir import protocols
    from neurolearn.reservoir.ei import EIReservoir

    rng_net, rng_task = seed.spawn(2)
    t = task.task
    kind = t.kind_name
    n_inputs = {"lorenz": 3, "sequence-classification": getattr(t, "n_channels", 1)}.get(kind, 1)
    reservoir = build_reservoir(
        model, n_inputs=n_inputs, seed=np.random.default_rng(rng_net), backend=backend
    )
    rule = model.get("rule")
    adapt_steps = 0 if rule is None or rule.kind_name == "none" else rule.steps
    readout = model.get("readout") or RidgeReadout()
    common = dict(
        washout=readout.washout,
        ridge=readout.ridge,
        adapt_steps=adapt_steps,
        seed=np.random.default_rng(rng_task),
    )
    params = {k: v for k, v in t.to_dict().items() if k != "kind"}
    metrics, arrays = {}, {}
    if kind == "memory-capacity":
        out = protocols.memory_capacity(reservoir, **params, **common)
        metrics["memory_capacity"] = out["total"]
        arrays["mc_curve"] = xr.DataArray(
            out["curve"], dims="delay", coords={"delay": np.arange(1, t.max_delay + 1)}
        )
    elif kind == "narma":
        out = protocols.narma_prediction(reservoir, **params, **common)
        metrics["nrmse"] = out["nrmse"]
        _series(arrays, out["target"], out["prediction"])
    elif kind == "sequence-classification":
        _classify(reservoir, params, common, metrics, arrays)
    elif kind == "mackey-glass":
        out = protocols.mackey_glass_prediction(reservoir, **params, **common)
        metrics["nrmse_one_step"] = out["nrmse_one_step"]
        metrics["nrmse_free_run"] = out["nrmse_free_run"]
        _series(arrays, out["free_run_target"], out["free_run"])
    else:
        metric = task.get("metric")
        extra = {}
        if metric is not None and metric.kind_name == "valid-time":
            extra = {"threshold": metric.threshold, "lyapunov_exponent": metric.lyapunov_exponent}
        out = protocols.lorenz_prediction(reservoir, **params, **common, **extra)
        metrics["valid_time_lyapunov"] = out["valid_time"]
        arrays["target"] = xr.DataArray(out["free_run_target"], dims=("t", "variable"))
        arrays["prediction"] = xr.DataArray(out["free_run"], dims=("t", "variable"))
    attrs = {}
    if backend.name == "numba":
        attrs.update(
            numba_threads=available_threads(), numba_threading_layer=numba_threading_layer()
        )
    if isinstance(reservoir, EIReservoir):
        _adaptation_outputs(reservoir, metrics, arrays, attrs)
    return Outcome(metrics=metrics, arrays=arrays, figure=reservoir_run_figure, attrs=attrs)


def _classify(reservoir, params, common, metrics, arrays):
    import xarray as xr

    from neurolearn.reservoir import protocols
    from neurolearn.tasks.sequences import make_vowels

    feature, washout = params.pop("feature"), params.pop("washout")
    split = make_vowels(**params, seed=common["seed"])
    out = protocols.classify_sequences(
        reservoir,
        *split,
        feature=feature,
        washout=washout,
        ridge=common["ridge"],
        adapt_steps=common["adapt_steps"],
        seed=common["seed"],
    )
    metrics["test_accuracy"] = out["accuracy"]
    metrics["train_accuracy"] = out["train_accuracy"]
    classes = np.arange(out["confusion"].shape[0])
    arrays["confusion"] = xr.DataArray(
        out["confusion"],
        dims=("true_class", "predicted_class"),
        coords={"true_class": classes, "predicted_class": classes},
    )


def _series(arrays, target, prediction):
    import xarray as xr

    arrays["target"] = xr.DataArray(target, dims="t")
    arrays["prediction"] = xr.DataArray(prediction, dims="t")


def _adaptation_outputs(res, metrics, arrays, attrs):
    import xarray as xr

    metrics["balance"] = res.balance_
    metrics["initial_balance"] = res.initial_balance_
    metrics["n_unreachable"] = float(res.unreachable_.sum())
    attrs["initial_balance"] = res.initial_balance_
    attrs["in_degree_exc"] = res.in_degree_exc_
    attrs["in_degree_inh"] = res.in_degree_inh_
    arrays["target_rate"] = xr.DataArray(res.target_rate_, dims="unit")
    if res.rate_trajectory_.shape[0]:
        arrays["rate_trajectory"] = xr.DataArray(
            res.rate_trajectory_,
            dims=("adapt_step", "unit"),
            coords={"adapt_step": res.trajectory_steps_},
        )
    if res.adapted_:
        arrays["adapted_rate"] = xr.DataArray(res.adapted_rates_, dims="unit")
        metrics["fraction_within_target"] = res.fraction_within_
        metrics["adapt_steps_used"] = float(res.adapt_steps_)
        attrs["adaptation_converged"] = int(res.converged_)
        attrs["convergence_criterion"] = (
            f">= {100 * res.criterion:.0f}% of reachable units within {res.tolerance} of their "
            "target rate (frozen weights, adaptation input)"
        )
        if res.adaptation == "global":
            metrics["global_evaluations"] = float(res.global_evaluations_)
            metrics["inhibition_scale"] = res.inhibition_scale_
    attrs["adaptation"] = res.adaptation


# ---------------------------------------------------------------- checks before a run
MEMORY_KEYS = ("network.n", "task.train_steps", "task.test_steps")


def _driven_steps(task, washout: int) -> tuple[int, int, int]:
    """``(steps the reservoir is driven, steps the readout is fit on, input width)``."""
    t = task.task
    kind = t.kind_name
    if kind == "memory-capacity":
        return washout + t.train_steps + t.test_steps, washout + t.train_steps, 1
    if kind == "narma":
        return washout + t.train_steps + t.test_steps, washout + t.train_steps, 1
    if kind == "mackey-glass":
        steps = washout + t.train_steps + t.test_steps + t.free_run_steps
        return steps, washout + t.train_steps, 1
    if kind == "sequence-classification":
        n_seq = t.n_classes * t.n_train_per_class + t.n_test
        return n_seq * t.max_length, n_seq, t.n_channels
    driven = washout + t.train_steps + t.repeats * (washout + t.free_run_steps)
    return driven, washout + t.train_steps, 3


def estimate_memory(model, task) -> int:
    """Peak memory (bytes) of one run: the largest of its phases, float64 throughout.

    With ``n`` units, ``T`` driven steps of which ``T_fit`` fit the readout, ``d`` inputs:

    - weights: an ESN draws dense ``(n, n)`` uniforms, normals and a mask, ``17 n^2``, plus
      the sparse matrix and its rescaled copy, ``24 density n^2``; an E/I reservoir keeps
      ``k = k_E + k_I`` indices and weights per unit (``in_degree`` split as the populations
      are, or the explicit ``in_degree_exc`` / ``in_degree_inh``) and assembles a
      sparse matrix from them, ``64 n k``;
    - states ``8 T n`` (the run) and ``8 T_fit (n + 1)`` (the readout's design matrix), the
      normal equations ``16 (n + 1)^2``, the task's series and targets (``8 T max_delay`` for
      memory capacity; the Mackey-Glass integration keeps ``8 (transient + T sample_every)
      / dt`` points);
    - adaptation: ``8 n steps / record_every`` recorded rates (local rule) or ``8 n steps``
      states (global balance, row rescaling).
    """
    net = model.network
    n = net.n
    rule = model.get("rule")
    readout = model.get("readout") or RidgeReadout()
    steps, fit, d = _driven_steps(task, readout.washout)
    if net.kind_name == "esn":
        weights = 17 * n * n + 24 * net.density * n * n
    else:
        k_exc_split = round(net.in_degree * net.excitatory_fraction)
        k_exc = k_exc_split if net.in_degree_exc is None else net.in_degree_exc
        k_inh = net.in_degree - k_exc_split if net.in_degree_inh is None else net.in_degree_inh
        weights = 64 * n * (k_exc + k_inh)
    weights += 8 * n * (d + 4)
    run = 8 * steps * n + 8 * fit * (n + 1) + 16 * (n + 1) ** 2 + 8 * steps * (d + 2)
    t = task.task
    if t.kind_name == "memory-capacity":
        run += 8 * steps * t.max_delay
    if t.kind_name == "mackey-glass":
        run += 8 * (500.0 + (steps + t.test_steps) * t.sample_every) / t.dt
    adapt = 0
    if rule is not None and rule.kind_name == "local-ei-adaptation":
        adapt = 8 * n * (rule.steps // rule.record_every + 2) + 8 * rule.steps
    elif rule is not None and rule.kind_name != "none":
        adapt = 8 * n * rule.steps + 8 * rule.steps
    return int(weights + max(run, adapt))


def check_specs(model, task) -> None:
    """Cross-field constraints of a reservoir model: refused before anything is drawn."""
    from neurolearn.errors import ParameterError, SpecError

    net = model.network
    rule = model.get("rule")
    if net.kind_name == "esn" and rule is not None:
        if rule.kind_name not in ("none", "intrinsic-plasticity"):
            raise SpecError(
                f"{model.source}: rule.kind: an ESN takes rule kind 'none' or "
                f"'intrinsic-plasticity'. Got {rule.kind_name!r} instead (it applies to E/I "
                "reservoirs only)."
            )
    if net.kind_name == "ei-reservoir":
        n_exc = int(round(net.excitatory_fraction * net.n))
        if n_exc < 1 or net.n - n_exc < 1:
            raise SpecError(
                f"{model.source}: network.excitatory_fraction: must leave at least one E and "
                f"one I unit among network.n = {net.n}. Got {net.excitatory_fraction} "
                f"({n_exc} E, {net.n - n_exc} I) instead."
            )
        # each unit draws k_E distinct E and k_I distinct I partners (not itself)
        try:
            ei_in_degrees(
                net.n, net.excitatory_fraction, net.in_degree, net.in_degree_exc, net.in_degree_inh
            )
        except ParameterError as exc:
            raise SpecError(f"{model.source}: network: {exc}") from None
    t = task.task
    if t.kind_name == "sequence-classification":
        if t.max_length < t.min_length:
            raise SpecError(
                f"{task.source}: task.max_length: must be >= task.min_length = {t.min_length}. "
                f"Got {t.max_length} instead."
            )
        if t.washout >= t.min_length:
            raise SpecError(
                f"{task.source}: task.washout: must be smaller than task.min_length = "
                f"{t.min_length} (every sequence keeps a frame). Got {t.washout} instead."
            )
