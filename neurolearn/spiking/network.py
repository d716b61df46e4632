"""Leaky integrate-and-fire E/I network with inhibitory plasticity, on two engines."""

from __future__ import annotations

import warnings

import numpy as np

from neurolearn._declare import Estimator
from neurolearn._params import (
    Boolean,
    Interval,
    changed_params,
    check_array,
    check_param,
    snapshot_params,
)
from neurolearn._rng import as_generator
from neurolearn.errors import BackendError, DivergenceError, ParameterError
from neurolearn.spiking import _declared as D
from neurolearn.spiking._connectivity import Connectivity, random_connectivity
from neurolearn.spiking._record import SpikeRecord

__all__ = ["SpikingEINetwork", "ENGINES", "engine_batch"]

#: Engines a :class:`SpikingEINetwork` runs on (the values of ``backend``).
ENGINES = D.ENGINES

_POS = Interval(float, 0, None, "neither")


def _brian2_batch(nets, n_steps, plastic, drives, progress) -> list:
    """Brian2 runs one network at a time: a loop of single runs."""
    from neurolearn.spiking._brian2 import run_brian2

    out = []
    for net, pl, drive in zip(nets, plastic, drives, strict=True):
        try:
            out.append(run_brian2(net, n_steps, pl, drive))
        except DivergenceError as exc:
            out.append(exc)
    return out


def engine_batch(backend: str):
    """The function that runs a list of networks on ``backend``.

    It is called as ``f(nets, n_steps, plastic, drives, progress)`` with one ``plastic`` flag and
    one ``(u, w_in, hold_steps)`` drive per network, and returns one
    :class:`~neurolearn.spiking.SpikeRecord` per network, or the
    :class:`~neurolearn.errors.DivergenceError` of a network that diverged. It does not advance
    ``step_``.
    """
    if backend == "numba":
        from neurolearn.spiking._numba_engine import run_numba_batch

        return run_numba_batch
    if backend == "torch":
        from neurolearn.spiking._torch_engine import run_torch_batch

        return run_torch_batch
    return _brian2_batch


class SpikingEINetwork(Estimator):
    r"""Leaky integrate-and-fire E/I network with inhibitory STDP (Vogels et al. 2011).

    One network, three engines: ``backend="numba"`` (our clock-driven kernel),
    ``backend="brian2"`` (the same equations written for Brian2, the reference) and
    ``backend="torch"`` (PyTorch on ``device``, in ``dtype``; many networks advance together
    as one batch with :func:`~neurolearn.spiking.run_batch`). All receive the same connectivity
    (drawn once here), the same initial state and the same external Poisson drive, and follow
    Brian2's schedule, so their spike trains agree step for step until floating-point
    differences are amplified by recurrent chaos (torch in float64 on the CPU computes the
    numba engine's numbers exactly).

    Parameters
    ----------
    {parameters}

    Parameters are validated on every :meth:`run`. The neuron, synapse-time-constant, drive
    and plasticity-rule parameters (``tau_m_ms``, ``v_rest_mv``, ``v_threshold_mv``,
    ``v_reset_mv``, ``tau_exc_ms``, ``tau_inh_ms``, ``e_exc_mv``, ``e_inh_mv``,
    ``input_rate_hz``, ``w_input``, ``plasticity``, ``target_rate_hz``, ``tau_stdp_ms``,
    ``learning_rate``, ``w_max``) take effect on the next run, which continues the simulation.
    Any other change (sizes, connectivity, weights, biases, ``dt_ms``, ``refractory_ms``,
    ``delay_ms``, ``synapse``, ``record_v``, ``backend``, ``device``, ``dtype``, ``seed``)
    rebuilds the network at step 0 on the next run, discarding learned weights.

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

    params = D.NETWORK_PARAMS

    # ------------------------------------------------------------------ validation
    def _validated(self) -> dict:
        name = type(self).__name__
        if self.backend is not None and (
            not isinstance(self.backend, str) or self.backend not in ENGINES
        ):
            raise BackendError(D.backend_refusal(name, self.backend))
        p = self._check_params()
        if p["backend"] is None:
            p["backend"] = ENGINES[0]
        self._check_device(p)
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
        c = p["connectivity"]
        if c is not None and (c.n_exc, c.n_inh) != (p["n_exc"], p["n_inh"]):
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

    def _check_device(self, p: dict) -> None:
        """Resolve ``device`` and ``dtype`` in ``p`` for its engine, or refuse them."""
        name = type(self).__name__
        backend = p["backend"]
        if backend == "torch":
            from neurolearn.backend import resolve_backend

            try:
                p["device"] = resolve_backend("torch", p["device"]).device
            except BackendError as exc:
                text = str(exc)
                named = text.replace("The 'device' parameter", f"The 'device' parameter of {name}")
                if named == text:
                    named = f"The 'device' parameter of {name}: {text}"
                raise BackendError(named) from None
            p["dtype"] = p["dtype"] or "float32"
            return
        if p["device"] not in (None, "cpu"):
            raise ParameterError(
                f"The 'device' parameter of {name} must be 'cpu' or None with "
                f"backend={backend!r} (it runs on the CPU); use backend='torch' for "
                f"device={p['device']!r}. Got {p['device']!r} instead."
            )
        if p["dtype"] == "float32":
            raise ParameterError(
                f"The 'dtype' parameter of {name} must be 'float64' or None with "
                f"backend={backend!r} (it computes in float64); use backend='torch' for "
                "float32. Got 'float32' instead."
            )
        p["device"], p["dtype"] = "cpu", "float64"

    # ------------------------------------------------------------------ building
    def initialize(self) -> SpikingEINetwork:
        """Draw connectivity, biases and the initial state (called by :meth:`run` if needed).

        Returns
        -------
        self

        Examples
        --------
        >>> net = SpikingEINetwork(n_exc=40, n_inh=10, seed=0).initialize()
        >>> net.connectivity_.n, net.step_
        (50, 0)
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
        self._built_params_ = snapshot_params(self, self._param_names())
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

    def build(self) -> SpikingEINetwork:
        """Deprecated alias of :meth:`initialize` (the one setup verb of every model).

        Examples
        --------
        >>> import warnings
        >>> with warnings.catch_warnings():
        ...     warnings.simplefilter("ignore", DeprecationWarning)
        ...     SpikingEINetwork(n_exc=40, n_inh=10, seed=0).build().step_
        0
        """
        warnings.warn(
            "SpikingEINetwork.build() is deprecated; call initialize() instead.",
            DeprecationWarning,
            stacklevel=2,
        )
        return self.initialize()

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
            self.initialize()
            return True
        p = self._validated()
        built = self._built_params_
        structural = [k for k in self._param_names() if k not in self._runtime_params]
        if changed_params(built, self, structural):
            self.initialize()
            return True
        runtime = changed_params(built, self, self._runtime_params)
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

    def _prepare_run(self, duration_ms, plasticity, input_signal, input_weight_mv, hold_ms):
        """Validate a run's arguments; returns ``(n_steps, plastic, (u, w_in, hold_steps))``."""
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
        return n_steps, plastic, drive

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
            Show a progress bar (numba and torch engines).

        Returns
        -------
        SpikeRecord

        Raises
        ------
        DivergenceError
            When the membrane potential becomes non-finite.
        """
        n_steps, plastic, drive = self._prepare_run(
            duration_ms, plasticity, input_signal, input_weight_mv, hold_ms
        )
        engine = engine_batch(self.params_["backend"])
        (rec,) = engine([self], n_steps, [plastic], [drive], progress)
        if isinstance(rec, DivergenceError):
            raise rec
        self.step_ += n_steps
        return rec

    def _divergence_error(self, step: int) -> DivergenceError:
        return DivergenceError(
            f"The membrane potential became non-finite at step {step} "
            f"(t = {step * self.params_['dt_ms']:.1f} ms); reduce dt_ms or the weights.",
            step=step,
        )

    def _divergence(self, step: int):
        raise self._divergence_error(step)
