"""Spiking reservoir (liquid state machine) on the LIF E/I network."""

from __future__ import annotations

import numpy as np

from neurolearn._declare import Estimator
from neurolearn._params import Interval, changed_params, check_array, check_param, snapshot_params
from neurolearn._rng import as_generator
from neurolearn.errors import BackendError, NotFittedError, ParameterError
from neurolearn.spiking import _declared as D
from neurolearn.spiking.network import SpikingEINetwork

__all__ = ["SpikingReservoir", "filtered_states", "synaptic_states", "ADAPTATIONS", "STATES"]

#: How the reservoir's E/I balance is set before the readout is trained.
ADAPTATIONS = D.ADAPTATIONS
#: What the readout sees: filtered spike trains, the recurrent synaptic conductances, or both.
STATES = D.STATES


def filtered_states(
    spike_steps,
    spike_ids,
    n: int,
    start_step: int,
    hold_steps: int,
    n_values: int,
    decay_per_step: float,
) -> np.ndarray:
    r"""Exponentially filtered spike trains sampled at the end of every input value.

    ``states[k, i] = sum_{spikes s of i up to the end of value k} exp(-(t_end(k) - s) / tau)``,
    with ``t_end(k) = start + (k + 1) hold - 1`` in steps and ``decay_per_step = exp(-dt/tau)``.

    Examples
    --------
    >>> s = filtered_states(np.array([0, 3]), np.array([0, 0]), 1, 0, 2, 2, 0.5)
    >>> s[:, 0].tolist()   # spike at 0 seen at step 1 (0.5), then 0.5**3 + spike at 3 (1.0)
    [0.5, 1.125]
    """
    owner = "filtered_states"
    n = check_param(owner, "n", n, Interval(int, 1, None))
    start_step = check_param(owner, "start_step", start_step, Interval(int, 0, None))
    hold_steps = check_param(owner, "hold_steps", hold_steps, Interval(int, 1, None))
    n_values = check_param(owner, "n_values", n_values, Interval(int, 0, None))
    decay_per_step = check_param(owner, "decay_per_step", decay_per_step, Interval(float, 0, 1))
    spike_steps = check_array(owner, "spike_steps", spike_steps, ndim=1, dtype=np.int64)
    spike_ids = check_array(
        owner, "spike_ids", spike_ids, ndim=1, shape=spike_steps.shape, dtype=np.int64
    )
    if spike_ids.size and (spike_ids.min() < 0 or spike_ids.max() >= n):
        raise ParameterError(
            f"The 'spike_ids' parameter of {owner} must hold neuron indices in [0, {n}). "
            f"Got values in [{spike_ids.min()}, {spike_ids.max()}] instead."
        )
    local = spike_steps - start_step
    keep = (local >= 0) & (local < n_values * hold_steps)
    local, ids = local[keep], spike_ids[keep]
    k = local // hold_steps
    lag = (k + 1) * hold_steps - 1 - local
    contrib = np.zeros((n_values, n))
    np.add.at(contrib, (k, ids), decay_per_step ** lag.astype(float))
    decay_value = decay_per_step**hold_steps
    states = np.empty_like(contrib)
    acc = np.zeros(n)
    for t in range(n_values):
        acc = acc * decay_value + contrib[t]
        states[t] = acc
    return states


def synaptic_states(
    spike_steps,
    spike_ids,
    connectivity,
    weights,
    *,
    start_step: int,
    hold_steps: int,
    n_values: int,
    dt_ms: float,
    tau_exc_ms: float,
    tau_inh_ms: float,
    delay_steps: int,
) -> np.ndarray:
    r"""Recurrent synaptic conductances of every neuron at the end of every input value.

    The network's synaptic variables, rebuilt from its spikes: a spike of neuron ``j`` at step
    ``e`` reaches its targets at ``e + d`` (``d = delay_steps``) and then decays by
    ``1 - dt/tau`` per step (the numba engine's update), so at the end of value ``k``

    .. math::
        g^{E}_i(k) = \sum_{j < n_E} w_{ij} \sum_{e + d \le t_k}
                     \left(1 - \tfrac{dt}{\tau_E}\right)^{t_k - e - d},
        \qquad t_k = \mathrm{start} + (k + 1)\,\mathrm{hold} - 1,

    and ``g^I`` likewise over the inhibitory neurons with ``tau_inh_ms``. External Poisson
    drive is not included. Returns ``[g^E, g^I]`` of shape ``(n_values, 2 n)``.

    Examples
    --------
    >>> from neurolearn.spiking import Connectivity
    >>> conn = Connectivity.from_arrays(1, 1, pre=[0, 1], post=[1, 0], weight=[2.0, 3.0])
    >>> s = synaptic_states(np.array([0]), np.array([0]), conn, conn.weight, start_step=0,
    ...                     hold_steps=2, n_values=2, dt_ms=0.5, tau_exc_ms=1.0,
    ...                     tau_inh_ms=1.0, delay_steps=0)
    >>> s[:, 1].tolist()   # g^E of neuron 1: 2 * 0.5**1 at step 1, 2 * 0.5**3 at step 3
    [1.0, 0.25]
    """
    import scipy.sparse

    owner = "synaptic_states"
    n = connectivity.n
    dt_ms = check_param(owner, "dt_ms", dt_ms, Interval(float, 0, None, "neither"))
    delay_steps = check_param(owner, "delay_steps", delay_steps, Interval(int, 0, None))
    weights = check_array(owner, "weights", weights, ndim=1, shape=connectivity.pre.shape)
    spike_steps = check_array(owner, "spike_steps", spike_steps, ndim=1, dtype=np.int64)
    blocks = []
    for tau, excitatory in ((tau_exc_ms, True), (tau_inh_ms, False)):
        tau = check_param(owner, "tau_ms", tau, Interval(float, dt_ms, None))
        # a spike acts as if emitted delay_steps later; its trace then decays per step
        traces = filtered_states(
            spike_steps + delay_steps,
            spike_ids,
            n,
            start_step,
            hold_steps,
            n_values,
            1.0 - dt_ms / tau,
        )
        from_exc = connectivity.pre < connectivity.n_exc
        use = from_exc if excitatory else ~from_exc
        w = scipy.sparse.csr_matrix(
            (weights[use], (connectivity.post[use], connectivity.pre[use])), shape=(n, n)
        )
        blocks.append(np.asarray(w @ traces.T).T)
    return np.concatenate(blocks, axis=1)


class SpikingReservoir(Estimator):
    r"""Liquid state machine: the LIF E/I network driven by a scalar input, read out linearly.

    Each input value ``u[t]`` is held for ``step_ms`` as a current ``w_i u[t]`` (mV) into a random
    ``input_fraction`` of the neurons (``w_i ~ U(-input_scale_mv, input_scale_mv)``, the input
    gain); the state after ``u[t]`` is sampled at the end of the step: every neuron's spike train
    filtered with each time constant of ``filter_tau_ms`` (one block of ``n`` per constant,
    :func:`~neurolearn.spiking.filtered_states`), or the recurrent synaptic conductances
    (:func:`~neurolearn.spiking.synaptic_states`), or both. The states feed the same
    :class:`neurolearn.reservoir.Readout` and the same benchmark protocols (memory capacity,
    NARMA) as the rate reservoirs.

    Parameters
    ----------
    {parameters}

    Parameters are validated on every use. ``step_ms``, ``filter_tau_ms`` and ``state`` take
    effect on the next :meth:`run`; any other change rebuilds the network and input weights
    (discarding adaptation) on the next use.

    Attributes
    ----------
    network_ : SpikingEINetwork
    input_weight_mv_ : ndarray of shape (n,)
    adapted_ : bool

    Examples
    --------
    >>> res = SpikingReservoir(n=60, step_ms=5.0, seed=0)
    >>> u = np.random.default_rng(0).uniform(-0.8, 0.8, (40, 1))
    >>> res.run(u).shape
    (40, 60)
    """

    params = D.RESERVOIR_PARAMS

    #: Network defaults of the reservoir (where ``network_params`` does not set them):
    #: heterogeneous suprathreshold biases, no background noise (noise and chaos limit what a
    #: linear readout recovers), no plasticity.
    NETWORK_DEFAULTS = D.RESERVOIR_NETWORK_DEFAULTS

    def _params(self) -> dict:
        name = type(self).__name__
        if self.backend is not None and (
            not isinstance(self.backend, str) or self.backend not in D.ENGINES
        ):
            raise BackendError(D.backend_refusal(name, self.backend))
        p = self._check_params()
        bad = sorted(set(p["network_params"] or {}) & set(D.RESERVED))
        if bad:
            raise ParameterError(
                f"The 'network_params' parameter of {name} must not set {bad}: use the "
                f"reservoir's own n, excitatory_fraction, backend and seed."
            )
        return p

    def initialize(self) -> SpikingReservoir:
        """Build the network and input weights (called by :meth:`run`/:meth:`adapt` if needed).

        Returns
        -------
        self

        Examples
        --------
        >>> SpikingReservoir(n=60, seed=0).initialize().input_weight_mv_.shape
        (60,)
        """
        p = self._params()
        rng_net, rng_in = as_generator(self.seed, type(self).__name__).spawn(2)
        n_exc = int(round(p["excitatory_fraction"] * p["n"]))
        n_exc = min(max(n_exc, 1), p["n"] - 1)
        kwargs = dict(self.NETWORK_DEFAULTS)
        kwargs["connection_prob"] = min(1.0, p["in_degree"] / (p["n"] - 1))
        kwargs.update(self.network_params or {})
        kwargs["plasticity"] = p["adaptation"] == "istdp"
        self.network_ = SpikingEINetwork(
            n_exc=n_exc,
            n_inh=p["n"] - n_exc,
            record_v=0,
            backend=p["backend"],
            seed=rng_net,
            **kwargs,
        ).initialize()
        driven = rng_in.random(p["n"]) < p["input_fraction"]
        self.input_weight_mv_ = np.where(
            driven, rng_in.uniform(-p["input_scale_mv"], p["input_scale_mv"], p["n"]), 0.0
        )
        self.adapted_ = False
        self._p = p
        self._built_params_ = snapshot_params(self, self._param_names())
        return self

    def _ensure(self):
        """Validate; build on first use, rebuild after a structural change."""
        if not hasattr(self, "network_"):
            self.initialize()
            return
        p = self._params()
        structural = [k for k in self._param_names() if k not in self._runtime_params]
        if changed_params(self._built_params_, self, structural):
            self.initialize()
            return
        self._p.update({k: p[k] for k in self._runtime_params})
        self._built_params_.update(snapshot_params(self, self._runtime_params))

    def _check_u(self, u) -> np.ndarray:
        arr = check_array(type(self).__name__, "u", u, ndim=(1, 2), shape_doc="(T, 1)")
        if arr.ndim == 2:
            if arr.shape[1] != 1:
                raise ParameterError(
                    f"The 'u' parameter of {type(self).__name__} must have shape (T, 1). "
                    f"Got shape {arr.shape} instead."
                )
            arr = arr[:, 0]
        return arr

    def _run_args(self, u: np.ndarray, plasticity: bool) -> dict:
        """Rewind the network to rest; the keyword arguments of its run over ``u``."""
        self.network_.reset_state()
        return dict(
            duration_ms=u.shape[0] * self._p["step_ms"],
            plasticity=plasticity,
            input_signal=u,
            input_weight_mv=self.input_weight_mv_,
            hold_ms=self._p["step_ms"],
        )

    def _drive(self, u: np.ndarray, plasticity: bool):
        return self.network_.run(**self._run_args(u, plasticity))

    def adapt(self, u) -> SpikingReservoir:
        """With ``adaptation="istdp"``, run ``u`` with inhibitory STDP on, then freeze weights.

        With ``adaptation="none"`` this does nothing. Returns self.
        """
        self._ensure()
        u = self._check_u(u)
        if self._p["adaptation"] == "istdp":
            self._drive(u, plasticity=True)
            self.adapted_ = True
        return self

    def run(self, u) -> np.ndarray:
        """Drive the reservoir from rest with ``u`` (T,) or (T, 1); states of shape (T, features).

        ``features`` is ``n`` per filter time constant and ``2 n`` for the synaptic states.
        """
        self._ensure()
        u = self._check_u(u)
        return self._states(self._drive(u, plasticity=False), u)

    def _states(self, rec, u: np.ndarray) -> np.ndarray:
        """The states sampled from the record of a run over ``u``."""
        self.last_record_ = rec
        net = self.network_
        dt = net.params_["dt_ms"]
        hold = max(int(round(self._p["step_ms"] / dt)), 1)
        blocks = []
        if self._p["state"] in ("filtered", "both"):
            taus = self._p["filter_tau_ms"]
            for tau in taus if isinstance(taus, list) else [taus]:
                blocks.append(
                    filtered_states(
                        rec.spike_steps,
                        rec.spike_ids,
                        rec.n,
                        rec.start_step,
                        hold,
                        u.shape[0],
                        float(np.exp(-dt / tau)),
                    )
                )
        if self._p["state"] in ("synaptic", "both"):
            blocks.append(
                synaptic_states(
                    rec.spike_steps,
                    rec.spike_ids,
                    net.connectivity_,
                    net.weights_,
                    start_step=rec.start_step,
                    hold_steps=hold,
                    n_values=u.shape[0],
                    dt_ms=dt,
                    tau_exc_ms=net.params_["tau_exc_ms"],
                    tau_inh_ms=net.params_["tau_inh_ms"],
                    delay_steps=net.params_["delay_steps"],
                )
            )
        return blocks[0] if len(blocks) == 1 else np.concatenate(blocks, axis=1)

    @property
    def mean_rate_hz_(self) -> float:
        """Mean rate of the excitatory neurons over the last :meth:`run`."""
        if not hasattr(self, "last_record_"):
            raise NotFittedError("SpikingReservoir.mean_rate_hz_ needs a run first.")
        return self.last_record_.population_rate_hz("exc")
