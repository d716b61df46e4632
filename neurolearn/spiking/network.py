"""Leaky integrate-and-fire E/I network with inhibitory plasticity, on two engines."""

from __future__ import annotations

import numpy as np

from neurolearn._params import (
    Boolean,
    Interval,
    NoneOr,
    Options,
    changed_params,
    check_array,
    check_param,
    init_param_names,
    snapshot_params,
)
from neurolearn._rng import as_generator
from neurolearn.errors import BackendError, DivergenceError, ParameterError, ParameterTypeError
from neurolearn.spiking._connectivity import Connectivity, random_connectivity
from neurolearn.spiking._record import SpikeRecord

__all__ = ["SpikingEINetwork", "ENGINES"]

#: Engines a :class:`SpikingEINetwork` runs on.
ENGINES = ("numba", "brian2")

_POS = Interval(float, 0, None, "neither")

#: parameters both engines read afresh at every run: a change takes effect on the next run and
#: the simulation continues; any other change rebuilds the network at step 0
_RUNTIME = (
    "tau_m_ms",
    "v_rest_mv",
    "v_threshold_mv",
    "v_reset_mv",
    "tau_exc_ms",
    "tau_inh_ms",
    "e_exc_mv",
    "e_inh_mv",
    "input_rate_hz",
    "w_input",
    "plasticity",
    "target_rate_hz",
    "tau_stdp_ms",
    "learning_rate",
    "w_max",
)
_NONNEG = Interval(float, 0, None, "left")
_REAL = Interval(float)

_CONSTRAINTS = {
    "n_exc": Interval(int, 1, None),
    "n_inh": Interval(int, 0, None),
    "connection_prob": Interval(float, 0, 1),
    "synapse": Options(("conductance", "current")),
    "dt_ms": _POS,
    "tau_m_ms": _POS,
    "v_rest_mv": _REAL,
    "v_threshold_mv": _REAL,
    "v_reset_mv": _REAL,
    "refractory_ms": _POS,
    "tau_exc_ms": _POS,
    "tau_inh_ms": _POS,
    "e_exc_mv": _REAL,
    "e_inh_mv": _REAL,
    "w_exc": _NONNEG,
    "w_inh": _NONNEG,
    "w_inh_exc": NoneOr(_NONNEG),
    "delay_ms": _NONNEG,
    "bias_mv": _REAL,
    "bias_spread_mv": _NONNEG,
    "input_rate_hz": _NONNEG,
    "w_input": _NONNEG,
    "plasticity": Boolean(),
    "target_rate_hz": _NONNEG,
    "tau_stdp_ms": _POS,
    "learning_rate": _NONNEG,
    "w_max": _POS,
    "record_v": Interval(int, 0, None),
    "backend": Options(ENGINES),
    "brian2_target": Options(("numpy", "cython")),
}


class SpikingEINetwork:
    r"""Leaky integrate-and-fire E/I network with inhibitory STDP (Vogels et al. 2011).

    One network, two engines: ``backend="numba"`` (our clock-driven kernel) and
    ``backend="brian2"`` (the same equations written for Brian2, the reference). Both receive the
    same connectivity (drawn once here), the same initial state and the same pre-drawn external
    Poisson drive, and follow Brian2's schedule, so their spike trains agree step for step until
    floating-point differences are amplified by recurrent chaos.

    Parameters
    ----------
    n_exc, n_inh : int, default=400, 100
        Excitatory and inhibitory population sizes.
    connection_prob : float, default=0.2
        Probability of a synapse between any ordered pair (no autapses).
    synapse : {"conductance", "current"}, default="conductance"
        Conductance-based synapses (weights in units of the leak conductance) or current-based
        ones (weights in mV).
    dt_ms : float, default=0.1
        Time step of the forward-Euler integration.
    tau_m_ms, v_rest_mv, v_threshold_mv, v_reset_mv, refractory_ms : float
        Membrane time constant (20), resting potential (-60), threshold (-50), reset (-60) and
        absolute refractory period (5), during which ``v`` is clamped at the reset.
    tau_exc_ms, tau_inh_ms : float, default=5, 10
        Decay of the excitatory and inhibitory synaptic variables.
    e_exc_mv, e_inh_mv : float, default=0, -80
        Reversal potentials (conductance-based synapses only).
    w_exc, w_inh : float, default=0.015, 0.15
        Weights of E -> any and I -> I synapses.
    w_inh_exc : float or None, default=0.05
        Initial weight of the plastic I -> E synapses; None means ``w_inh``. The default is
        weak, so that the untrained network fires far above the target rate.
    delay_ms : float, default=0.0
        Synaptic delay of every recurrent synapse (rounded to whole steps).
    bias_mv : float, default=15.0
        Constant drive ``R I`` in mV (Vogels et al. use 200 pA over a 10 nS leak: 20 mV).
    bias_spread_mv : float, default=5.0
        Each neuron's bias is drawn uniformly in ``bias_mv +- bias_spread_mv``.
    input_rate_hz : float, default=1000.0
        Total rate of external Poisson spikes onto each neuron (0: no external drive).
    w_input : float, default=0.02
        Weight of an external spike (onto the excitatory synaptic variable).
    plasticity : bool, default=True
        Whether the I -> E synapses follow the Vogels rule during :meth:`run`.
    target_rate_hz : float, default=5.0
        Target rate ``rho_0``; the rule's depression constant is ``alpha = 2 rho_0 tau_stdp``.
    tau_stdp_ms : float, default=20.0
        Time constant of the pre- and post-synaptic traces.
    learning_rate : float, default=2e-3
        ``eta``, in weight units per unit trace.
    w_max : float, default=10.0
        Upper bound of the plastic weights.
    connectivity : Connectivity or None, default=None
        Use these synapses instead of drawing random ones (weights are the initial weights).
    record_v : int, default=10
        Number of neurons (evenly spaced over the network) whose ``v`` is recorded.
    backend : {"numba", "brian2"}, default="numba"
        Engine.
    brian2_target : {"numpy", "cython"}, default="numpy"
        Brian2 code-generation target (cython caches go to :func:`brian2_cache_dir`).
    seed : int, Generator or None, default=None
        Seeds connectivity, initial state, biases and the external drive (one child stream each).

    Parameters are validated on every :meth:`run`. The neuron, synapse-time-constant, drive
    and plasticity-rule parameters (``tau_m_ms``, ``v_rest_mv``, ``v_threshold_mv``,
    ``v_reset_mv``, ``tau_exc_ms``, ``tau_inh_ms``, ``e_exc_mv``, ``e_inh_mv``,
    ``input_rate_hz``, ``w_input``, ``plasticity``, ``target_rate_hz``, ``tau_stdp_ms``,
    ``learning_rate``, ``w_max``) take effect on the next run, which continues the simulation.
    Any other change (sizes, connectivity, weights, biases, ``dt_ms``, ``refractory_ms``,
    ``delay_ms``, ``synapse``, ``record_v``, ``backend``, ``seed``) rebuilds the network at step 0
    on the next run, discarding learned weights.

    Attributes
    ----------
    connectivity_ : Connectivity
        The synapses with their initial weights.
    weights_ : ndarray
        Current weights (the I -> E ones change with plasticity).
    bias_mv_ : ndarray
        Per-neuron bias.
    step_ : int
        Number of steps simulated so far.

    Notes
    -----
    .. math::

        \tau_m \dot v = (v_{rest} - v) + g_e (E_e - v) + g_i (E_i - v) + I, \quad
        \tau_e \dot g_e = -g_e, \quad \tau_i \dot g_i = -g_i

    On a pre-synaptic (inhibitory) spike :math:`w \leftarrow w + \eta (x_{post} - \alpha)`, on a
    post-synaptic spike :math:`w \leftarrow w + \eta x_{pre}`, both clipped to
    :math:`[0, w_{max}]`.

    Examples
    --------
    >>> net = SpikingEINetwork(n_exc=40, n_inh=10, connection_prob=0.2, seed=0)
    >>> rec = net.run(100.0)
    >>> rec.n_steps, bool(rec.population_rate_hz() > 0)
    (1000, True)
    """

    def __init__(
        self,
        *,
        n_exc: int = 400,
        n_inh: int = 100,
        connection_prob: float = 0.2,
        synapse: str = "conductance",
        dt_ms: float = 0.1,
        tau_m_ms: float = 20.0,
        v_rest_mv: float = -60.0,
        v_threshold_mv: float = -50.0,
        v_reset_mv: float = -60.0,
        refractory_ms: float = 5.0,
        tau_exc_ms: float = 5.0,
        tau_inh_ms: float = 10.0,
        e_exc_mv: float = 0.0,
        e_inh_mv: float = -80.0,
        w_exc: float = 0.015,
        w_inh: float = 0.15,
        w_inh_exc: float | None = 0.05,
        delay_ms: float = 0.0,
        bias_mv: float = 15.0,
        bias_spread_mv: float = 5.0,
        input_rate_hz: float = 1000.0,
        w_input: float = 0.02,
        plasticity: bool = True,
        target_rate_hz: float = 5.0,
        tau_stdp_ms: float = 20.0,
        learning_rate: float = 2e-3,
        w_max: float = 10.0,
        connectivity: Connectivity | None = None,
        record_v: int = 10,
        backend: str = "numba",
        brian2_target: str = "numpy",
        seed=None,
    ):
        self.n_exc = n_exc
        self.n_inh = n_inh
        self.connection_prob = connection_prob
        self.synapse = synapse
        self.dt_ms = dt_ms
        self.tau_m_ms = tau_m_ms
        self.v_rest_mv = v_rest_mv
        self.v_threshold_mv = v_threshold_mv
        self.v_reset_mv = v_reset_mv
        self.refractory_ms = refractory_ms
        self.tau_exc_ms = tau_exc_ms
        self.tau_inh_ms = tau_inh_ms
        self.e_exc_mv = e_exc_mv
        self.e_inh_mv = e_inh_mv
        self.w_exc = w_exc
        self.w_inh = w_inh
        self.w_inh_exc = w_inh_exc
        self.delay_ms = delay_ms
        self.bias_mv = bias_mv
        self.bias_spread_mv = bias_spread_mv
        self.input_rate_hz = input_rate_hz
        self.w_input = w_input
        self.plasticity = plasticity
        self.target_rate_hz = target_rate_hz
        self.tau_stdp_ms = tau_stdp_ms
        self.learning_rate = learning_rate
        self.w_max = w_max
        self.connectivity = connectivity
        self.record_v = record_v
        self.backend = backend
        self.brian2_target = brian2_target
        self.seed = seed

    # ------------------------------------------------------------------ validation
    def _validated(self) -> dict:
        name = type(self).__name__
        if not isinstance(self.backend, str) or self.backend not in ENGINES:
            raise BackendError(
                f"The 'backend' parameter of {name} must be one of "
                f"{', '.join(map(repr, ENGINES))}. Got {self.backend!r} instead."
            )
        p = {k: check_param(name, k, getattr(self, k), c) for k, c in _CONSTRAINTS.items()}
        if p["dt_ms"] > p["refractory_ms"]:
            raise ParameterError(
                f"The 'dt_ms' parameter of {name} must not exceed refractory_ms "
                f"({p['refractory_ms']}): a neuron could fire again before its refractory period "
                f"ends. Got dt_ms={p['dt_ms']} instead; use a smaller time step."
            )
        if p["v_reset_mv"] >= p["v_threshold_mv"]:
            raise ParameterError(
                f"The 'v_reset_mv' parameter of {name} must be below v_threshold_mv "
                f"({p['v_threshold_mv']}). Got {p['v_reset_mv']} instead."
            )
        if self.connectivity is not None:
            c = self.connectivity
            if not isinstance(c, Connectivity):
                raise ParameterTypeError(
                    f"The 'connectivity' parameter of {name} must be a Connectivity or None. "
                    f"Got {type(c).__name__} instead."
                )
            if (c.n_exc, c.n_inh) != (p["n_exc"], p["n_inh"]):
                raise ParameterError(
                    f"The 'connectivity' parameter of {name} is for {c.n_exc} E / {c.n_inh} I "
                    f"neurons but the network has n_exc={p['n_exc']}, n_inh={p['n_inh']}."
                )
        if p["w_inh_exc"] is None:
            p["w_inh_exc"] = p["w_inh"]
        p["ref_steps"] = int(round(p["refractory_ms"] / p["dt_ms"]))
        p["delay_steps"] = int(round(p["delay_ms"] / p["dt_ms"]))
        p["alpha"] = 2.0 * p["target_rate_hz"] * p["tau_stdp_ms"] / 1000.0
        return p

    # ------------------------------------------------------------------ building
    def build(self) -> SpikingEINetwork:
        """Draw connectivity, biases and the initial state (called by :meth:`run` if needed).

        Returns
        -------
        self
        """
        p = self._validated()
        rng_conn, rng_state, rng_bias, rng_drive = as_generator(
            self.seed, "SpikingEINetwork"
        ).spawn(4)
        if self.connectivity is None:
            conn = random_connectivity(
                p["n_exc"],
                p["n_inh"],
                p["connection_prob"],
                w_exc=p["w_exc"],
                w_inh=p["w_inh"],
                w_inh_exc=p["w_inh_exc"],
                rng=rng_conn,
            )
        else:
            # the given arrays are public fields: check and sort them before the engines see them
            c = self.connectivity
            conn = Connectivity.from_arrays(
                c.n_exc, c.n_inh, pre=c.pre, post=c.post, weight=c.weight
            )
        n = conn.n
        self.params_ = p
        self._built_params_ = snapshot_params(self, init_param_names(self))
        self.connectivity_ = conn
        self.weights_ = conn.weight.copy()
        self.bias_mv_ = p["bias_mv"] + p["bias_spread_mv"] * rng_bias.uniform(-1.0, 1.0, n)
        self.v_init_mv_ = rng_state.uniform(p["v_reset_mv"], p["v_threshold_mv"], n)
        self.drive_rng_ = rng_drive
        self.trace_ids_ = (
            np.unique(np.linspace(0, n - 1, min(p["record_v"], n)).round().astype(np.int64))
            if p["record_v"]
            else np.zeros(0, dtype=np.int64)
        )
        self.step_ = 0
        self._state = None
        self._engine = None
        return self

    def reset_state(self) -> SpikingEINetwork:
        """Return to the initial membrane potentials at step 0, keeping the current weights.

        Returns
        -------
        self
        """
        if self._sync_params():
            return self
        self.step_ = 0
        self._state = None
        self._engine = None
        return self

    def _sync_params(self) -> bool:
        """Validate the parameters; build or rebuild if needed (True), else apply runtime ones."""
        if not hasattr(self, "connectivity_"):
            self.build()
            return True
        p = self._validated()
        built = self._built_params_
        structural = [k for k in init_param_names(self) if k not in _RUNTIME]
        if changed_params(built, self, structural):
            self.build()
            return True
        runtime = changed_params(built, self, _RUNTIME)
        if runtime:
            if p["backend"] == "brian2" and p["plasticity"] and not built["plasticity"]:
                raise ParameterError(
                    f"The 'plasticity' parameter of {type(self).__name__} was False when the "
                    "Brian2 network was built (no plastic synapses); build a new network with "
                    "plasticity=True to run with plasticity."
                )
            self.params_ = p
            built.update(snapshot_params(self, runtime))
        return False

    @property
    def plastic_mask_(self) -> np.ndarray:
        """Synapses the inhibitory rule acts on (I -> E)."""
        return self.connectivity_.inhibitory_to_excitatory()

    def external_counts(self, n_steps: int) -> np.ndarray:
        """Draw the next ``n_steps`` rows of external Poisson spike counts, shape (n_steps, n).

        Both engines consume the same draws; the numba engine draws in chunks of the same rows.
        """
        lam = self.params_["input_rate_hz"] * self.params_["dt_ms"] / 1000.0
        return self.drive_rng_.poisson(lam, size=(n_steps, self.connectivity_.n)).astype(np.uint16)

    # ------------------------------------------------------------------ running
    def run(
        self,
        duration_ms: float,
        *,
        plasticity: bool | None = None,
        input_signal=None,
        input_weight_mv=None,
        hold_ms: float | None = None,
        progress: bool = False,
    ) -> SpikeRecord:
        """Simulate ``duration_ms`` more milliseconds and return what was recorded.

        Parameters
        ----------
        duration_ms : float
            How long to run; rounded to whole steps.
        plasticity : bool or None, default=None
            Override the ``plasticity`` parameter for this run.
        input_signal : array of shape (T,) or None, default=None
            A scalar input held for ``hold_ms`` per value, injected as the current
            ``input_weight_mv * u`` (in mV, like the bias).
        input_weight_mv : array of shape (n,) or None
            Per-neuron input weights; required with ``input_signal``.
        hold_ms : float or None
            Duration of each input value; required with ``input_signal``.
        progress : bool, default=False
            Show a progress bar (numba engine).

        Returns
        -------
        SpikeRecord

        Raises
        ------
        DivergenceError
            When the membrane potential becomes non-finite.
        """
        self._sync_params()
        p = self.params_
        name = type(self).__name__
        # the current weights and biases are public attributes: check them before the engine
        n_syn, n_all = self.connectivity_.n_synapses, self.connectivity_.n
        self.weights_ = check_array(name, "weights_", self.weights_, shape=(n_syn,))
        self.bias_mv_ = check_array(name, "bias_mv_", self.bias_mv_, shape=(n_all,))
        duration_ms = check_param(f"{name}.run", "duration_ms", duration_ms, _POS)
        plastic = (
            p["plasticity"]
            if plasticity is None
            else check_param(f"{name}.run", "plasticity", plasticity, Boolean())
        )
        n = self.connectivity_.n
        n_steps = int(round(duration_ms / p["dt_ms"]))
        if input_signal is None:
            u = np.zeros(0)
            w_in = np.zeros(n)
            hold_steps = 1
        else:
            u = check_array(f"{name}.run", "input_signal", input_signal, ndim=1)
            if input_weight_mv is None or hold_ms is None:
                raise ParameterError(
                    f"{name}.run: 'input_signal' needs 'input_weight_mv' (shape ({n},)) and "
                    "'hold_ms' (how long each value is held)."
                )
            w_in = check_array(
                f"{name}.run",
                "input_weight_mv",
                input_weight_mv,
                ndim=1,
                shape=(n,),
                shape_doc=f"({n},)",
            )
            hold_ms = check_param(f"{name}.run", "hold_ms", hold_ms, _POS)
            hold_steps = max(int(round(hold_ms / p["dt_ms"])), 1)
        drive = (u, w_in, hold_steps)
        if p["backend"] == "numba":
            from neurolearn.spiking._numba_engine import run_numba

            rec = run_numba(self, n_steps, plastic, drive, progress)
        else:
            from neurolearn.spiking._brian2 import run_brian2

            rec = run_brian2(self, n_steps, plastic, drive)
        self.step_ += n_steps
        return rec

    def _divergence(self, step: int):
        raise DivergenceError(
            f"The membrane potential became non-finite at step {step} "
            f"(t = {step * self.params_['dt_ms']:.1f} ms); reduce dt_ms or the weights.",
            step=step,
        )
