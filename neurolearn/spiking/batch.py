"""Many spiking networks in one call: :func:`run_batch` and :func:`replicate`.

A batch is a list of independent :class:`~neurolearn.spiking.SpikingEINetwork` objects (over
seeds, weights, target rates, drive, ...) that share nothing but the code. On the numba engine
one kernel call per chunk advances all of them, the networks spread over the threads (each
network's arrays belong to one thread); each network ends with exactly the record and state a
single :meth:`~neurolearn.spiking.SpikingEINetwork.run` would have given it. On the torch
engine the batch is a tensor dimension (CPU or GPU).
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import numpy as np

from neurolearn.errors import DivergenceError, ParameterError, ParameterTypeError
from neurolearn.spiking._record import SpikeRecord
from neurolearn.spiking.network import SpikingEINetwork, engine_batch

__all__ = ["run_batch", "replicate", "run_reservoirs"]

_DIVERGENCE = ("raise", "return")


def _items(items, cls, param: str, owner: str) -> list:
    """``items`` as a list of distinct ``cls`` objects, or the house error naming ``param``."""
    kind = cls.__name__
    if isinstance(items, cls) or not isinstance(items, Sequence):
        raise ParameterTypeError(
            f"The '{param}' parameter of {owner} must be a list of {kind}. "
            f"Got {type(items).__name__} instead."
        )
    out = list(items)
    if not out:
        raise ParameterError(f"The '{param}' parameter of {owner} must not be empty.")
    seen: dict[int, int] = {}
    for i, item in enumerate(out):
        if not isinstance(item, cls):
            raise ParameterTypeError(
                f"The '{param}' parameter of {owner} must hold {kind} objects. "
                f"Entry {i} is a {type(item).__name__}."
            )
        if id(item) in seen:
            raise ParameterError(
                f"The '{param}' parameter of {owner} holds the same object at positions "
                f"{seen[id(item)]} and {i}; one {kind} cannot run twice at once (use "
                "replicate() for copies)."
            )
        seen[id(item)] = i
    return out


def _per_network(name: str, value, b: int, vector: bool = True) -> list:
    """``value`` for every network: one shared value, or a list/tuple of ``b`` values. For a
    ``vector`` argument (a signal, a weight vector) a list of plain numbers is one shared value."""
    if isinstance(value, list | tuple) and not (
        vector and all(isinstance(x, numbers.Real) for x in value)
    ):
        if len(value) != b:
            raise ParameterError(
                f"The '{name}' parameter of run_batch must be one value for every network or a "
                f"list of {b} (one per network). Got a list of {len(value)} instead."
            )
        return list(value)
    return [value] * b


def run_batch(
    networks,
    duration_ms: float,
    *,
    plasticity: bool | None = None,
    input_signal=None,
    input_weight_mv=None,
    hold_ms=None,
    progress: bool = False,
    on_divergence: str = "raise",
) -> list:
    """Simulate ``duration_ms`` more milliseconds of every network, in one call.

    Each network is advanced exactly as ``net.run(duration_ms, ...)`` would advance it: same
    validation, same record, same final state and weights, bit for bit. Networks may differ in
    any parameter, size included; those on the numba engine with the same number of steps run
    together in one kernel call per chunk, spread over the threads (``numba.set_num_threads``
    sets how many); those on the torch engine with the same device and dtype advance together
    as one tensor batch. Brian2 networks run one after the other.

    Parameters
    ----------
    networks : list of SpikingEINetwork
        Distinct networks (built on first use, like :meth:`SpikingEINetwork.run`).
    duration_ms : float
        How long to run each network.
    plasticity : bool or None, default=None
        Override every network's ``plasticity`` for this run.
    input_signal, input_weight_mv, hold_ms : optional
        As in :meth:`SpikingEINetwork.run`: one value for all networks, or a list with one per
        network (an input signal or weight vector given as a list is read as per-network).
    progress : bool, default=False
        Show a progress bar.
    on_divergence : {'raise', 'return'}, default='raise'
        A network whose membrane potential becomes non-finite stops there. With ``'raise'``,
        :class:`~neurolearn.errors.DivergenceError` is raised after the other networks have
        finished (they are advanced); with ``'return'`` its entry in the result is that error.

    Returns
    -------
    list
        One :class:`~neurolearn.spiking.SpikeRecord` per network, in order (or a
        ``DivergenceError`` with ``on_divergence='return'``).

    Examples
    --------
    >>> from neurolearn.spiking import SpikingEINetwork, replicate, run_batch
    >>> nets = replicate(SpikingEINetwork(n_exc=40, n_inh=10), seeds=[0, 1, 2])
    >>> recs = run_batch(nets, 100.0)
    >>> single = SpikingEINetwork(n_exc=40, n_inh=10, seed=1).run(100.0)
    >>> bool((recs[1].spike_ids == single.spike_ids).all()), nets[1].step_
    (True, 1000)
    """
    nets = _items(networks, SpikingEINetwork, "networks", "run_batch")
    b = len(nets)
    if on_divergence not in _DIVERGENCE:
        raise ParameterError(
            "The 'on_divergence' parameter of run_batch must be 'raise' or 'return'. "
            f"Got {on_divergence!r} instead."
        )
    signals = _per_network("input_signal", input_signal, b)
    weights = _per_network("input_weight_mv", input_weight_mv, b)
    holds = _per_network("hold_ms", hold_ms, b, vector=False)
    runs = []
    for net, u, w, hold in zip(nets, signals, weights, holds, strict=True):
        net._sync_params()
        runs.append(net._prepare_run(duration_ms, plasticity, u, w, hold))
    records: list = [None] * b
    groups: dict[tuple, list[int]] = {}
    for i, (net, (n_steps, _, _)) in enumerate(zip(nets, runs, strict=True)):
        groups.setdefault((net.params_["backend"], n_steps), []).append(i)
    for (backend, n_steps), members in groups.items():
        engine = engine_batch(backend)
        out = engine(
            [nets[i] for i in members],
            n_steps,
            [runs[i][1] for i in members],
            [runs[i][2] for i in members],
            progress,
        )
        for i, rec in zip(members, out, strict=True):
            records[i] = rec
            if isinstance(rec, SpikeRecord):
                nets[i].step_ += n_steps
    failed = [i for i, rec in enumerate(records) if isinstance(rec, DivergenceError)]
    if failed and on_divergence == "raise":
        first = records[failed[0]]
        raise DivergenceError(
            f"run_batch: network(s) {failed} diverged; network {failed[0]}: {first}",
            step=first.step,
        )
    return records


def replicate(template: SpikingEINetwork, n: int | None = None, *, seeds=None, **values) -> list:
    """Copies of ``template`` (unbuilt clones), each with its own seed and parameter values.

    Parameters
    ----------
    template : SpikingEINetwork
        The model to copy (its parameters, not its state).
    n : int, optional
        Number of copies; inferred from ``seeds`` or ``values`` when not given.
    seeds : sequence, optional
        One seed per copy (int, ``SeedSequence`` or ``Generator``). Without it, the copies'
        seeds are the children ``SeedSequence(template.seed).spawn(n)`` (``template.seed`` an
        int or None), or ``template.seed.spawn(n)`` for a ``Generator``.
    **values
        ``name=[v0, v1, ...]``: parameter ``name`` of copy ``i`` is ``v_i``.

    Returns
    -------
    list of SpikingEINetwork

    Examples
    --------
    >>> from neurolearn.spiking import SpikingEINetwork, replicate
    >>> nets = replicate(SpikingEINetwork(n_exc=40, n_inh=10, seed=0),
    ...                  target_rate_hz=[2.0, 5.0, 10.0])
    >>> [net.target_rate_hz for net in nets], len({id(net.seed) for net in nets})
    ([2.0, 5.0, 10.0], 3)
    """
    if not isinstance(template, SpikingEINetwork):
        raise ParameterTypeError(
            "The 'template' parameter of replicate must be a SpikingEINetwork. "
            f"Got {type(template).__name__} instead."
        )
    sizes = {}
    if n is not None:
        if not isinstance(n, numbers.Integral) or isinstance(n, bool) or n < 1:
            raise ParameterError(
                f"The 'n' parameter of replicate must be a positive int. Got {n!r} instead."
            )
        sizes["n"] = int(n)
    if seeds is not None:
        if isinstance(seeds, str) or not hasattr(seeds, "__len__"):
            raise ParameterTypeError(
                f"The 'seeds' parameter of replicate must be a sequence of seeds. Got {seeds!r}."
            )
        seeds = list(seeds)
        sizes["seeds"] = len(seeds)
    for name, vals in values.items():
        if isinstance(vals, str) or not isinstance(vals, Sequence | np.ndarray):
            raise ParameterTypeError(
                f"replicate: '{name}' must be a list with one value per copy. Got {vals!r}."
            )
        sizes[name] = len(vals)
    if not sizes:
        raise ParameterError("replicate: give n, seeds or a list of parameter values.")
    if len(set(sizes.values())) > 1:
        raise ParameterError(f"replicate: the number of copies must agree; got {sizes}.")
    count = next(iter(sizes.values()))
    if count < 1:
        raise ParameterError("replicate: the lists must not be empty.")
    if seeds is None:
        base = template.seed
        if isinstance(base, np.random.Generator):
            seeds = base.spawn(count)
        else:
            if isinstance(base, numbers.Integral) and not isinstance(base, bool) and base < 0:
                raise ParameterError(
                    f"The 'seed' of the template must be >= 0. Got {base!r} instead."
                )
            seeds = np.random.SeedSequence(base).spawn(count)
    copies = []
    for i in range(count):
        net = template.clone()
        net.set_params(seed=seeds[i], **{name: vals[i] for name, vals in values.items()})
        copies.append(net)
    return copies


def run_reservoirs(reservoirs, u, *, adapt: bool = False, progress: bool = False) -> list:
    """Drive many :class:`~neurolearn.spiking.SpikingReservoir` objects at once.

    Each reservoir is driven from rest exactly as ``res.run(u)`` would drive it (after
    ``res.adapt(u)`` with ``adapt=True``), its network advancing in one :func:`run_batch` with
    the others'; the states equal the single runs' bit for bit.

    Parameters
    ----------
    reservoirs : list of SpikingReservoir
        Distinct reservoirs (over seeds, input gains, sizes, ...).
    u : array of shape (T,) or (T, 1), or a list with one such array per reservoir
        The input.
    adapt : bool, default=False
        First run ``adapt`` on the same input (inhibitory STDP for ``adaptation="istdp"``).
    progress : bool, default=False
        Show a progress bar.

    Returns
    -------
    list of ndarray
        The states of each reservoir, shape ``(T, features)``.

    Examples
    --------
    >>> import numpy as np
    >>> from neurolearn.spiking import SpikingReservoir, run_reservoirs
    >>> u = np.random.default_rng(0).uniform(-0.8, 0.8, 30)
    >>> res = [SpikingReservoir(n=60, step_ms=5.0, seed=s) for s in (0, 1)]
    >>> states = run_reservoirs(res, u)
    >>> bool(np.array_equal(states[1], SpikingReservoir(n=60, step_ms=5.0, seed=1).run(u)))
    True
    """
    from neurolearn.spiking.reservoir import SpikingReservoir

    res = _items(reservoirs, SpikingReservoir, "reservoirs", "run_reservoirs")
    inputs = _per_network("u", u, len(res))
    for r in res:
        r._ensure()
    inputs = [r._check_u(x) for r, x in zip(res, inputs, strict=True)]
    if adapt:
        chosen = [i for i, r in enumerate(res) if r._p["adaptation"] == "istdp"]
        if chosen:
            _drive_all([res[i] for i in chosen], [inputs[i] for i in chosen], True, progress)
            for i in chosen:
                res[i].adapted_ = True
    records = _drive_all(res, inputs, False, progress)
    return [r._states(rec, x) for r, rec, x in zip(res, records, inputs, strict=True)]


def _drive_all(res, inputs, plasticity: bool, progress: bool) -> list:
    """One :func:`run_batch` of the reservoirs' networks over their inputs (lengths may differ:
    reservoirs with the same duration run together)."""
    groups: dict[float, list[int]] = {}
    args = [r._run_args(x, plasticity) for r, x in zip(res, inputs, strict=True)]
    for i, a in enumerate(args):
        groups.setdefault(a["duration_ms"], []).append(i)
    records: list = [None] * len(res)
    for duration, members in groups.items():
        out = run_batch(
            [res[i].network_ for i in members],
            duration,
            plasticity=plasticity,
            input_signal=[args[i]["input_signal"] for i in members],
            input_weight_mv=[args[i]["input_weight_mv"] for i in members],
            hold_ms=[args[i]["hold_ms"] for i in members],
            progress=progress,
        )
        for i, rec in zip(members, out, strict=True):
            records[i] = rec
    return records
