"""The Brian2 engine: the same network written as Brian2 equations (the reference).

Brian2 is imported lazily. Version requirements: Brian2 2.9.x is the last release installable on
Python 3.11 and fails to import with numpy >= 2.4; Python >= 3.12 gets Brian2 >= 2.10.
"""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from neurolearn.errors import MissingDependencyError, ParameterError
from neurolearn.spiking._record import SpikeRecord

__all__ = [
    "import_brian2",
    "required_brian2",
    "brian2_cache_dir",
    "run_brian2",
    "standalone_scan",
    "standalone_ensemble",
    "SCAN_KEYS",
]

MIN_BRIAN2 = (2, 9)


def required_brian2(python_version=None) -> str:
    """The Brian2 requirement for a Python version (default: the running one).

    Examples
    --------
    >>> required_brian2((3, 11))
    'brian2>=2.9,<2.10 (with numpy<2.4)'
    >>> required_brian2((3, 12))
    'brian2>=2.10'
    """
    version = tuple(python_version or sys.version_info[:2])
    if version < (3, 12):
        return "brian2>=2.9,<2.10 (with numpy<2.4)"
    return "brian2>=2.10"


def _parse_version(text: str) -> tuple[int, ...]:
    parts = []
    for piece in text.split(".")[:3]:
        digits = "".join(ch for ch in piece if ch.isdigit())
        if not digits:
            break
        parts.append(int(digits))
    return tuple(parts)


def import_brian2():
    """Import Brian2, or raise :class:`MissingDependencyError` saying which version to install.

    Examples
    --------
    >>> import_brian2().__name__
    'brian2'
    """
    need = required_brian2()
    py = f"{sys.version_info[0]}.{sys.version_info[1]}"
    try:
        import brian2
    except ImportError as exc:
        raise MissingDependencyError(
            f"The 'brian2' backend needs Brian2, which could not be imported ({exc}). On Python "
            f"{py} install {need}, e.g. `pip install '{need.split(' ')[0]}'`, or use "
            "backend='numba'."
        ) from None
    except Exception as exc:  # Brian2 2.9 raises at import time on numpy >= 2.4
        raise MissingDependencyError(
            f"Brian2 failed to import ({type(exc).__name__}: {exc}). On Python {py} install "
            f"{need}, or use backend='numba'."
        ) from None
    version = _parse_version(getattr(brian2, "__version__", "0"))
    if version < MIN_BRIAN2:
        raise MissingDependencyError(
            f"Brian2 {brian2.__version__} is too old for neurolearn's 'brian2' backend. On Python "
            f"{py} install {need}, e.g. `pip install -U '{need.split(' ')[0]}'`."
        )
    return brian2


def brian2_cache_dir() -> Path:
    """Folder for Brian2's compiled code (cython cache, standalone projects).

    ``$NEUROLEARN_CACHE/brian2`` when set, else ``~/.cache/neurolearn/brian2``.

    Examples
    --------
    >>> brian2_cache_dir().name
    'brian2'
    """
    root = os.environ.get("NEUROLEARN_CACHE")
    base = Path(root) if root else Path.home() / ".cache" / "neurolearn"
    path = base / "brian2"
    path.mkdir(parents=True, exist_ok=True)
    return path


@contextmanager
def _target(b2, target: str):
    """Set Brian2's code-generation preferences for one run, then restore them."""
    prefs = b2.prefs
    saved = (prefs.codegen.target, prefs.codegen.runtime.cython.cache_dir)
    prefs.codegen.target = target
    if target == "cython":
        prefs.codegen.runtime.cython.cache_dir = str(brian2_cache_dir() / "cython")
    try:
        yield
    finally:
        prefs.codegen.target, prefs.codegen.runtime.cython.cache_dir = saved


def neuron_equations(synapse: str) -> str:
    """The membrane and synapse equations in Brian2 syntax."""
    if synapse == "conductance":
        current = "ge*(e_exc - v) + gi*(e_inh - v)"
        g_unit = "1"
    else:
        current = "ge - gi"
        g_unit = "volt"
    return f"""
    dv/dt = (v_rest - v + {current} + bias + w_in*u_in(t - t_run))/tau_m : volt (unless refractory)
    dge/dt = -ge/tau_exc : {g_unit}
    dgi/dt = -gi/tau_inh : {g_unit}
    bias : volt
    w_in : volt
    """


def build_network(b2, net, dt_ms: float, *, record_v: bool = True):
    """Brian2 objects for ``net``: group, synapses, monitors, and the Network holding them.

    With ``record_v=False`` no membrane potential is recorded, whatever ``net.trace_ids_`` is.
    """
    p = net.params_
    conn = net.connectivity_
    ms, mV = b2.ms, b2.mV
    dt = dt_ms * ms
    conductance = p["synapse"] == "conductance"
    g_scale = 1.0 if conductance else mV
    group = b2.NeuronGroup(
        conn.n,
        neuron_equations(p["synapse"]),
        threshold="v > v_threshold",
        reset="v = v_reset",
        refractory=p["ref_steps"] * dt,
        method="euler",
        dt=dt,
    )
    group.v = net.v_init_mv_ * mV
    group.bias = net.bias_mv_ * mV
    group.run_regularly("ge += w_input*ext(t - t_run, i)", when="synapses", dt=dt)
    delay = p["delay_steps"] * dt
    # without plasticity the I -> E synapses are static ones (no traces to compute)
    plastic = conn.inhibitory_to_excitatory() & bool(p["plasticity"])
    exc = conn.pre < conn.n_exc
    objects = [group]
    groups_of_synapses = []

    roles = {}

    def synapses(mask, model, on_pre, on_post=None):
        if not mask.any():
            return None
        syn = b2.Synapses(group, group, model=model, on_pre=on_pre, on_post=on_post, dt=dt)
        syn.connect(i=conn.pre[mask], j=conn.post[mask])
        syn.w = net.weights_[mask] * g_scale
        syn.delay = delay
        objects.append(syn)
        groups_of_synapses.append((syn, np.nonzero(mask)[0]))
        return syn

    w_unit = "1" if p["synapse"] == "conductance" else "volt"
    roles["exc"] = synapses(exc, f"w : {w_unit}", "ge += w")
    roles["inh"] = synapses(~exc & ~plastic, f"w : {w_unit}", "gi += w")
    roles["plastic"] = synapses(
        plastic,
        f"""w : {w_unit}
        dapre/dt = -apre/tau_stdp : 1 (event-driven)
        dapost/dt = -apost/tau_stdp : 1 (event-driven)""",
        on_pre="""apre += 1
        w = clip(w + eta*(apost - alpha)*w_scale, 0*w_scale, w_max*w_scale)
        gi += w""",
        on_post="""apost += 1
        w = clip(w + eta*apre*w_scale, 0*w_scale, w_max*w_scale)""",
    )
    spikes = b2.SpikeMonitor(group)
    objects.append(spikes)
    state = None
    if record_v and len(net.trace_ids_):
        state = b2.StateMonitor(group, "v", record=net.trace_ids_, dt=dt)
        objects.append(state)
    network = b2.Network(*objects)
    return {
        "network": network,
        "group": group,
        "synapses": groups_of_synapses,
        "spikes": spikes,
        "state": state,
        "g_scale": g_scale,
        "w_si": 1.0 if conductance else 1e-3,
        "roles": roles,
    }


def _namespace(b2, net, plastic, counts, u_values, hold_steps, g_scale) -> dict:
    """Constants and input arrays of one Brian2 run (resolved at run time, no globals)."""
    p = net.params_
    ms, mV = b2.ms, b2.mV
    dt = p["dt_ms"] * ms
    return {
        "tau_m": p["tau_m_ms"] * ms,
        "v_rest": p["v_rest_mv"] * mV,
        "v_threshold": p["v_threshold_mv"] * mV,
        "v_reset": p["v_reset_mv"] * mV,
        "e_exc": p["e_exc_mv"] * mV,
        "e_inh": p["e_inh_mv"] * mV,
        "tau_exc": p["tau_exc_ms"] * ms,
        "tau_inh": p["tau_inh_ms"] * ms,
        "tau_stdp": p["tau_stdp_ms"] * ms,
        "alpha": p["alpha"],
        "eta": p["learning_rate"] if plastic else 0.0,
        "w_max": p["w_max"],
        "w_scale": g_scale,
        "w_input": p["w_input"] * g_scale,
        "t_run": net.step_ * dt,
        # fixed names: same shapes give the same generated code, so compiled code is reused
        "ext": b2.TimedArray(counts, dt=dt, name="external_counts"),
        "u_in": b2.TimedArray(u_values, dt=hold_steps * dt, name="input_signal"),
    }


def run_brian2(net, n_steps: int, plastic: bool, drive) -> SpikeRecord:
    """Advance ``net`` by ``n_steps`` on Brian2; the Brian2 network persists between runs."""
    b2 = import_brian2()
    p = net.params_
    conn = net.connectivity_
    ms, mV = b2.ms, b2.mV
    dt = p["dt_ms"] * ms
    u, w_in, hold_steps = drive
    with _target(b2, p["brian2_target"]):
        if net._engine is None:
            net._engine = build_network(b2, net, p["dt_ms"])
        eng = net._engine
        if plastic and not p["plasticity"]:
            raise ParameterError(
                f"{type(net).__name__}(plasticity=False, backend='brian2') was built without "
                "plastic synapses; construct it with plasticity=True to run with plasticity."
            )
        eng["group"].w_in = w_in * mV
        if p["input_rate_hz"] > 0:
            counts = net.external_counts(n_steps).astype(np.float64)
        else:
            counts = np.zeros((1, conn.n))
        u_values = u if u.size else np.zeros(1)
        namespace = _namespace(b2, net, plastic, counts, u_values, hold_steps, eng["g_scale"])
        n_before = eng["spikes"].num_spikes
        n_trace_before = len(eng["state"].t) if eng["state"] is not None else 0
        eng["network"].run(n_steps * dt, namespace=namespace)
        spike_t = np.asarray(eng["spikes"].t_[n_before:])
        spike_i = np.asarray(eng["spikes"].i[n_before:], dtype=np.int64)
        steps = np.round(spike_t / float(dt)).astype(np.int64)
        if eng["state"] is not None:
            v_trace = np.asarray(eng["state"].v_[:, n_trace_before:]).T / 1e-3
        else:
            v_trace = np.zeros((n_steps, 0))
        for syn, idx in eng["synapses"]:
            net.weights_[idx] = np.asarray(syn.w_[:]) / eng["w_si"]
    v_now = np.asarray(eng["group"].v_[:])
    if not np.all(np.isfinite(v_now)):
        net._divergence(net.step_ + n_steps)
    return SpikeRecord(
        spike_steps=steps,
        spike_ids=spike_i,
        start_step=net.step_,
        n_steps=n_steps,
        dt_ms=p["dt_ms"],
        n_exc=conn.n_exc,
        n_inh=conn.n_inh,
        trace_ids=net.trace_ids_,
        v_trace_mv=v_trace,
    )


#: Parameters a standalone scan can vary between runs of one binary (set with ``run_args``).
SCAN_KEYS = ("w_exc", "w_inh", "bias_mv")


def standalone_scan(net, duration_ms: float, points, *, directory=None) -> dict:
    """Build ``net`` once as a Brian2 C++ standalone project, then run the binary per point.

    Each point is a dict over :data:`SCAN_KEYS` (``w_exc``: every E synapse; ``w_inh``: every
    static inhibitory synapse; ``bias_mv``: every neuron's bias); values not given keep the
    network's own. Only the values change between runs (Brian2's ``run_args``), so the C++
    code is compiled once. Every point gets the same initial state and the same external drive.
    Plasticity is off (:func:`standalone_ensemble` runs plastic networks, each with its own
    state and drive). The project goes to ``directory`` (default: a new folder under
    :func:`brian2_cache_dir`). Brian2's device is reset to the runtime device afterwards.

    Returns
    -------
    dict
        ``records`` (one :class:`SpikeRecord` per point), ``build_s`` (code generation and
        compilation) and ``run_s`` (the binary's wall time per point).

    Examples
    --------
    Three excitatory weights, one C++ build (compiling takes tens of seconds):

    >>> from neurolearn.spiking import SpikingEINetwork
    >>> net = SpikingEINetwork(n_exc=40, n_inh=10, plasticity=False, seed=0)
    >>> out = standalone_scan(net, 200.0, [{"w_exc": w} for w in (0.01, 0.02, 0.03)])
    ... # doctest: +SKIP
    >>> [len(r.spike_ids) for r in out["records"]]  # doctest: +SKIP
    [...]

    Only the keys of :data:`SCAN_KEYS` can change without rebuilding:

    >>> standalone_scan(net, 200.0, [{"tau_m_ms": 10.0}])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    neurolearn.errors.ParameterError: standalone_scan: unknown scan key(s) ['tau_m_ms']...
    """
    import time

    from neurolearn._params import Interval, check_param

    b2 = import_brian2()
    if not hasattr(net, "connectivity_"):
        net.initialize()
    p = net.params_
    duration_ms = check_param(
        "standalone_scan", "duration_ms", duration_ms, Interval(float, 0, None, "neither")
    )
    points = list(points)
    for point in points:
        bad = sorted(set(point) - set(SCAN_KEYS))
        if bad:
            raise ParameterError(
                f"standalone_scan: unknown scan key(s) {bad}. Valid keys: {', '.join(SCAN_KEYS)}."
            )
    n_steps = int(round(duration_ms / p["dt_ms"]))
    mV = b2.mV
    with _standalone_project(b2, net, n_steps, False, directory) as (eng, namespace, build_s):
        unit = eng["g_scale"]
        records, run_s = [], []
        for point in points:
            run_args = {}
            if "w_exc" in point and eng["roles"]["exc"] is not None:
                run_args[eng["roles"]["exc"].w] = float(point["w_exc"]) * unit
            if "w_inh" in point and eng["roles"]["inh"] is not None:
                run_args[eng["roles"]["inh"].w] = float(point["w_inh"]) * unit
            if "bias_mv" in point:
                run_args[eng["group"].bias] = float(point["bias_mv"]) * mV
            start = time.perf_counter()
            b2.device.run(run_args=run_args)
            run_s.append(time.perf_counter() - start)
            records.append(_standalone_record(eng, net, n_steps))
    return {"records": records, "build_s": build_s, "run_s": run_s}


@contextmanager
def _standalone_project(b2, net, n_steps: int, plastic: bool, directory, counts=None):
    """Build ``net`` (from step 0) as a C++ standalone project without running it.

    Yields ``(engine, namespace, build_s)``; the binary is then run with ``b2.device.run``.
    Brian2's device is reset to the runtime device on exit.
    """
    import tempfile
    import time

    p = net.params_
    conn = net.connectivity_
    ms, mV = b2.ms, b2.mV
    dt = p["dt_ms"] * ms
    if directory is None:
        directory = tempfile.mkdtemp(prefix="standalone-", dir=brian2_cache_dir())
    b2.set_device("cpp_standalone", directory=str(directory), build_on_run=False)
    try:
        saved_step, net.step_ = net.step_, 0
        try:
            eng = build_network(b2, net, p["dt_ms"], record_v=False)
        finally:
            net.step_ = saved_step
        eng["group"].w_in = np.zeros(conn.n) * mV
        if counts is None:
            if p["input_rate_hz"] > 0:
                counts = net.external_counts(n_steps).astype(np.float64)
            else:
                counts = np.zeros((1, conn.n))
        namespace = _namespace(b2, net, plastic, counts, np.zeros(1), 1, eng["g_scale"])
        namespace["t_run"] = 0 * ms
        eng["network"].run(n_steps * dt, namespace=namespace)
        start = time.perf_counter()
        b2.device.build(run=False, directory=str(directory))
        yield eng, namespace, time.perf_counter() - start
    finally:
        b2.device.reinit()
        b2.set_device("runtime")


def _standalone_record(eng, net, n_steps: int) -> SpikeRecord:
    """The spikes of the standalone binary's last run (from step 0)."""
    p = net.params_
    conn = net.connectivity_
    dt_s = p["dt_ms"] * 1e-3
    steps = np.round(np.asarray(eng["spikes"].t_[:]) / dt_s).astype(np.int64)
    return SpikeRecord(
        spike_steps=steps,
        spike_ids=np.asarray(eng["spikes"].i[:], dtype=np.int64),
        start_step=0,
        n_steps=n_steps,
        dt_ms=p["dt_ms"],
        n_exc=conn.n_exc,
        n_inh=conn.n_inh,
        trace_ids=np.zeros(0, dtype=np.int64),
        v_trace_mv=np.zeros((n_steps, 0)),
    )


#: Parameters that only feed the arrays a standalone ensemble sets per network (``run_args``):
#: the networks of one ensemble may differ in these and must agree in every other one.
ENSEMBLE_FREE = (
    "seed",
    "connectivity",
    "connection_prob",
    "w_exc",
    "w_inh",
    "w_inh_exc",
    "bias_mv",
    "bias_spread_mv",
    "record_v",
    "backend",
    "brian2_target",
    "device",
    "dtype",
)


def standalone_ensemble(networks, duration_ms: float, *, plasticity=None, directory=None) -> dict:
    """Run several networks of one connectivity on one Brian2 C++ standalone build.

    The project is built once from the first network; each network then reruns the binary with
    its own initial membrane potentials, biases, initial weights and external Poisson counts
    (drawn from its seed exactly as :meth:`SpikingEINetwork.run` would draw them) set through
    Brian2's ``run_args``, so nothing is recompiled. The synapses themselves (which neuron
    connects to which) are part of the compiled project: every network must have the same
    ones, e.g. one :class:`Connectivity` given to all as ``connectivity=``. Networks may differ
    in the parameters of ``ENSEMBLE_FREE`` and must agree in all others.

    Each network runs ``duration_ms`` from its initial state (step 0, which it must be at); the
    networks themselves are not advanced and their drive generators are not consumed. No
    membrane potential is recorded.

    Parameters
    ----------
    networks : sequence of SpikingEINetwork
        The ensemble (any ``backend``; initialized here if needed).
    duration_ms : float
        Simulated time per network.
    plasticity : bool or None, default=None
        Inhibitory plasticity on or off; None takes the networks' ``plasticity`` parameter.
    directory : path or None, default=None
        Where the project goes (default: a new folder under :func:`brian2_cache_dir`). The
        per-network arrays are deleted after each run.

    Returns
    -------
    dict
        ``records`` (one :class:`SpikeRecord` per network), ``weights`` (each network's weights
        after its run, in the order of ``connectivity_``), ``build_s`` (code generation and
        compilation), ``run_s`` (per network: writing its arrays and running the binary) and
        ``binary_s`` (per network: the binary alone).

    Raises
    ------
    ParameterError
        When the networks differ in their synapses or in a parameter outside
        ``ENSEMBLE_FREE``, or one of them has already run.

    Examples
    --------
    Three seeds of one network, one C++ build (compiling takes tens of seconds):

    >>> from neurolearn.spiking import SpikingEINetwork, random_connectivity
    >>> import numpy as np
    >>> conn = random_connectivity(40, 10, 0.2, w_exc=0.015, w_inh=0.15, w_inh_exc=0.05,
    ...                            rng=np.random.default_rng(0))
    >>> nets = [SpikingEINetwork(n_exc=40, n_inh=10, connectivity=conn, seed=s)
    ...         for s in range(3)]
    >>> out = standalone_ensemble(nets, 200.0)  # doctest: +SKIP
    >>> [r.population_rate_hz() for r in out["records"]]  # doctest: +SKIP
    [...]

    Networks with different synapses need one build each:

    >>> standalone_ensemble([SpikingEINetwork(n_exc=40, n_inh=10, seed=s) for s in (0, 1)],
    ...                     10.0)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    neurolearn.errors.ParameterError: standalone_ensemble: network 1 has other synapses...
    """
    import copy
    import time

    from neurolearn._params import Boolean, Interval, check_param

    owner = "standalone_ensemble"
    networks = list(networks)
    if not networks:
        raise ParameterError(f"The 'networks' parameter of {owner} must not be empty.")
    duration_ms = check_param(
        owner, "duration_ms", duration_ms, Interval(float, 0, None, "neither")
    )
    for net in networks:
        if not hasattr(net, "connectivity_"):
            net.initialize()
        else:
            net._sync_params()
    first = networks[0]
    p = first.params_
    conn = first.connectivity_
    for k, net in enumerate(networks):
        if net.step_ != 0:
            raise ParameterError(
                f"{owner}: network {k} has already run {net.step_} steps; every network runs "
                "from its initial state (call reset_state() or use a new network)."
            )
        c = net.connectivity_
        if k and not (
            (c.n_exc, c.n_inh) == (conn.n_exc, conn.n_inh)
            and np.array_equal(c.pre, conn.pre)
            and np.array_equal(c.post, conn.post)
        ):
            raise ParameterError(
                f"{owner}: network {k} has other synapses than network 0; the synapses are "
                "compiled into the project. Give every network the same connectivity= "
                "(a Connectivity object)."
            )
        differ = sorted(
            key
            for key in p
            if key not in ENSEMBLE_FREE and not _same_value(net.params_[key], p[key])
        )
        if differ:
            raise ParameterError(
                f"{owner}: network {k} differs from network 0 in {differ}; only "
                f"{', '.join(ENSEMBLE_FREE)} may differ within one build."
            )
    plastic = (
        p["plasticity"]
        if plasticity is None
        else check_param(owner, "plasticity", plasticity, Boolean())
    )
    if plastic and not p["plasticity"]:
        raise ParameterError(
            f"{owner}: plasticity=True needs networks built with plasticity=True (the plastic "
            "synapses are part of the compiled project)."
        )
    b2 = import_brian2()
    n_steps = int(round(duration_ms / p["dt_ms"]))
    mV = b2.mV
    drive = p["input_rate_hz"] > 0

    def counts_of(net):
        # the draws net.run() would make, from a copy of the network's drive generator
        probe = copy.copy(net)
        probe.drive_rng_ = copy.deepcopy(net.drive_rng_)
        return probe.external_counts(n_steps).astype(np.float64)

    zeros = np.zeros((n_steps, conn.n)) if drive else None
    records, weights, run_s, binary_s = [], [], [], []
    with _standalone_project(b2, first, n_steps, plastic, directory, counts=zeros) as (
        eng,
        namespace,
        build_s,
    ):
        unit = eng["g_scale"]
        for net in networks:
            run_args = {
                eng["group"].v: net.v_init_mv_ * mV,
                eng["group"].bias: net.bias_mv_ * mV,
            }
            for syn, idx in eng["synapses"]:
                run_args[syn.w] = net.weights_[idx] * unit
            if drive:
                run_args[namespace["ext"]] = counts_of(net)
            start = time.perf_counter()
            b2.device.run(run_args=run_args)
            run_s.append(time.perf_counter() - start)
            binary_s.append(float(b2.device.timers["run_binary"]))
            records.append(_standalone_record(eng, net, n_steps))
            w = np.empty(conn.n_synapses)
            for syn, idx in eng["synapses"]:
                w[idx] = np.asarray(syn.w_[:]) / eng["w_si"]
            weights.append(w)
            _delete_run_args(b2)
    return {
        "records": records,
        "weights": weights,
        "build_s": build_s,
        "run_s": run_s,
        "binary_s": binary_s,
    }


def _same_value(a, b) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return bool(np.array_equal(a, b))
    return bool(a == b)


def _delete_run_args(b2) -> None:
    """Remove the array files the last ``run_args`` wrote into the project."""
    folder = Path(b2.device.project_dir) / "static_arrays"
    for name in b2.device.run_args_arrays:
        for path in (folder / name, folder / (name + ".lock")):
            path.unlink(missing_ok=True)
