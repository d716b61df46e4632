"""Online readouts (RLS with forgetting, LMS) and FORCE learning with output feedback."""

from __future__ import annotations

import numpy as np

from neurolearn._declare import Estimator, InstanceOf, Param, common_params, declare
from neurolearn._params import Boolean, Interval, NoneOr, check_array, check_param
from neurolearn._rng import as_generator
from neurolearn.errors import DivergenceError, NotFittedError, ParameterError, ParameterTypeError
from neurolearn.reservoir import _declared as D
from neurolearn.reservoir._base import ReservoirBase

__all__ = ["OnlineReadout", "Force"]


def _learning(readout, learn_steps, feedback=False, teacher_forcing=False):
    from neurolearn._kernels.numba.online import Learning

    p = readout._check_params()
    return Learning(
        forgetting=float(p["forgetting"]),
        learning_rate=float(p["learning_rate"]),
        update_every=int(p["update_every"]),
        learn_steps=int(learn_steps),
        feedback=bool(feedback),
        teacher_forcing=bool(teacher_forcing),
        intercept=bool(p["fit_intercept"]),
    )


class OnlineReadout(Estimator):
    r"""Linear readout learned online, one step at a time: RLS (with forgetting) or LMS.

    The learning runs inside a jitted kernel, sample by sample; :meth:`partial_fit` continues
    from where the last call stopped, so a long run can be learned chunk by chunk, and
    :meth:`train` advances a reservoir and this readout together.

    Parameters
    ----------
    {parameters}

    Attributes
    ----------
    coef_ : ndarray of shape (n_states, n_outputs)
    intercept_ : ndarray of shape (n_outputs,)
        Zero when ``fit_intercept`` is False.
    P_ : ndarray of shape (n_states + 1, n_states + 1) or (n_states, n_states)
        The RLS inverse correlation matrix (RLS only).
    n_samples_ : int
        Steps learned from so far.

    Notes
    -----
    With ``z(t) = [x(t), 1]`` and the a-priori error :math:`e = W^T z - y^*`, RLS does

    .. math::
        k = \frac{P z}{\lambda + z^T P z}, \quad P \leftarrow \frac{P - k z^T P}{\lambda},
        \quad W \leftarrow W - k e^T

    from :math:`P_0 = I / \alpha`, :math:`W_0 = 0`. With :math:`\lambda = 1` after T steps
    :math:`W = (Z^T Z + \alpha I)^{-1} Z^T Y`: the ridge solution with penalty
    :math:`\alpha` on every coefficient (the intercept included). LMS does
    :math:`W \leftarrow W - \mu z e^T`.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(500, 3)); y = X @ np.array([1.0, -2.0, 0.5]) + 0.3
    >>> ro = OnlineReadout(alpha=1e-6).fit(X, y)
    >>> np.round(ro.coef_[:, 0], 6).tolist(), round(float(ro.intercept_[0]), 6)
    ([1.0, -2.0, 0.5], 0.3)
    """

    params = D.ONLINE_READOUT

    # -- state ------------------------------------------------------------------------------
    def _start(self, n_states: int, n_outputs: int) -> None:
        p = self._check_params()
        k = n_states + (1 if p["fit_intercept"] else 0)
        self._W = np.zeros((k, n_outputs))
        self._P = np.eye(k) / p["alpha"] if p["method"] == "rls" else np.empty((0, 0))
        self._started_with = (p["method"], p["fit_intercept"], p["alpha"])
        self.n_samples_ = 0

    def _continue(self, n_states: int, n_outputs: int) -> None:
        """Start, or check that the learned state fits these sizes and parameters."""
        if not hasattr(self, "_W"):
            self._start(n_states, n_outputs)
            return
        p = self._check_params()
        if (p["method"], p["fit_intercept"], p["alpha"]) != self._started_with:
            raise ParameterError(
                "OnlineReadout: 'method', 'fit_intercept' and 'alpha' define the learned state; "
                "they changed since it started. Call fit() to start again."
            )
        k_states = self._W.shape[0] - (1 if p["fit_intercept"] else 0)
        if (k_states, self._W.shape[1]) != (n_states, n_outputs):
            raise ParameterError(
                f"OnlineReadout learned from {k_states} states to {self._W.shape[1]} outputs; "
                f"got {n_states} states and {n_outputs} outputs. Call fit() to start again."
            )

    @property
    def coef_(self) -> np.ndarray:
        self._require_fitted()
        n = self._W.shape[0] - (1 if self._started_with[1] else 0)
        return self._W[:n].copy()

    @property
    def intercept_(self) -> np.ndarray:
        self._require_fitted()
        if self._started_with[1]:
            return self._W[-1].copy()
        return np.zeros(self._W.shape[1])

    @property
    def P_(self) -> np.ndarray:
        self._require_fitted()
        return self._P.copy()

    def _require_fitted(self) -> None:
        if not hasattr(self, "_W"):
            raise NotFittedError("This OnlineReadout has not learned yet: call fit() first.")

    # -- learning on given states -------------------------------------------------------------
    def _arrays(self, states, targets):
        x = check_array("OnlineReadout", "states", states, ndim=2, shape_doc="(T, n)")
        y = check_array("OnlineReadout", "targets", targets, ndim=(1, 2), shape_doc="(T, m)")
        y = y[:, None] if y.ndim == 1 else y
        if y.shape[0] != x.shape[0]:
            raise ParameterError(
                f"The 'targets' parameter of OnlineReadout must have {x.shape[0]} steps like the "
                f"states. Got {y.shape[0]} instead."
            )
        if x.shape[0] == 0:
            raise ParameterError("The 'states' parameter of OnlineReadout has no time steps.")
        return np.ascontiguousarray(x, dtype=np.float64), np.ascontiguousarray(y)

    def partial_fit(self, states, targets) -> OnlineReadout:
        """Learn from ``states (T, n)`` and ``targets (T, m)``, continuing the last call."""
        from neurolearn._kernels.numba.online import learn_states

        x, y = self._arrays(states, targets)
        self._continue(x.shape[1], y.shape[1])
        outputs = np.empty_like(y)
        rls = self._started_with[0] == "rls"
        bad = learn_states(_learning(self, x.shape[0]), rls, x, y, self._W, self._P, outputs)
        if bad >= 0:
            raise DivergenceError(
                f"OnlineReadout: the readout became NaN/Inf at step {bad}; lower learning_rate "
                "(LMS) or raise alpha (RLS).",
                step=bad,
            )
        self.n_samples_ += x.shape[0]
        return self

    def fit(self, states, targets) -> OnlineReadout:
        """Start afresh and learn from ``states (T, n)`` and ``targets (T, m)``; returns self."""
        x, y = self._arrays(states, targets)
        self._start(x.shape[1], y.shape[1])
        return self.partial_fit(x, y)

    def predict(self, states) -> np.ndarray:
        """``states (T, n) @ coef_ + intercept_``."""
        x = check_array("OnlineReadout", "states", states, ndim=2, shape_doc="(T, n)")
        coef = self.coef_
        if x.shape[1] != coef.shape[0]:
            raise ParameterError(
                f"The 'states' parameter of OnlineReadout must have {coef.shape[0]} columns. "
                f"Got {x.shape[1]} instead."
            )
        return x @ coef + self.intercept_

    # -- learning together with a reservoir ---------------------------------------------------
    def train(self, reservoir, u, targets, *, continue_state: bool = False) -> np.ndarray:
        """Drive ``reservoir`` with ``u (T, d)`` and learn ``targets (T, m)`` at every step.

        Reservoir and readout advance together in one kernel call (the states are never
        stored). Continues the readout's learned state (call :meth:`fit` on empty history by
        making a new readout to start afresh) and, with ``continue_state``, the reservoir's.
        Returns each step's output after its update, ``(T, m)``.
        """
        u, y = _drive_and_targets("OnlineReadout.train", reservoir, u, targets)
        self._continue(reservoir.n, y.shape[1])
        outputs, _ = _run_together(
            self, reservoir, u, y, None, _learning(self, u.shape[0]), continue_state
        )
        self.n_samples_ += u.shape[0]
        return outputs


def _drive_and_targets(owner: str, reservoir, u, targets):
    if not isinstance(reservoir, ReservoirBase):
        raise ParameterTypeError(
            f"The 'reservoir' parameter of {owner} must be an ESN or EIReservoir. "
            f"Got {type(reservoir).__name__} instead."
        )
    reservoir._ensure_initialized()
    u = reservoir._check_input(u)
    if u.ndim != 2:
        raise ParameterError(
            f"{owner} takes one input sequence of shape (T, {reservoir.n_inputs})."
        )
    y = check_array(owner, "targets", targets, ndim=(1, 2), shape_doc="(T, m)")
    y = y[:, None] if y.ndim == 1 else y
    if y.shape[0] != u.shape[0]:
        raise ParameterError(
            f"The 'targets' parameter of {owner} must have {u.shape[0]} steps like the input. "
            f"Got {y.shape[0]} instead."
        )
    return np.ascontiguousarray(u), np.ascontiguousarray(y)


def _run_together(readout, reservoir, u, targets, feedback, learning, continue_state, fed=None):
    """One kernel call: reservoir (input plus optional feedback weights) and readout."""
    from neurolearn._kernels.numba import online
    from neurolearn._kernels.reservoir_groups import State
    from neurolearn.reservoir._engine import kernel_network

    net = reservoir._net()
    w_in = net.w_in if feedback is None else np.hstack([net.w_in, feedback])
    arrays = kernel_network(net, "float64", w_in=w_in)
    if continue_state:
        if reservoir.last_state_ is None:
            raise NotFittedError("continue_state=True needs a previous run of the reservoir.")
        s0, v0 = reservoir._check_initial_state(reservoir.last_state_, 1)
    else:
        s0, v0 = reservoir._initial(None, 1)
    s = np.ascontiguousarray(s0[0], dtype=np.float64)
    v = np.ascontiguousarray(v0[0], dtype=np.float64)
    m = targets.shape[1]
    fed = np.zeros(m) if fed is None else np.array(fed, dtype=np.float64)
    outputs = np.empty((u.shape[0], m))
    out = online.OnlineOutputs(outputs, np.empty((0, s.shape[0])))
    weights = online.ReadoutState(readout._W, readout._P, fed)
    run = online.run_rls if readout._started_with[0] == "rls" else online.run_lms
    bad = run(arrays, learning, u, targets, weights, State(s, v), out)
    if bad >= 0:
        raise DivergenceError(
            f"online learning: the reservoir state or output became NaN/Inf at step {bad}.",
            step=bad,
        )
    reservoir.last_state_ = (s, v)
    return outputs, fed


class Force(Estimator):
    r"""FORCE learning (Sussillo & Abbott 2009): an online RLS readout whose output is fed
    back into the reservoir while it learns, so the loop learns to generate a pattern.

    Parameters
    ----------
    {parameters}

    Attributes
    ----------
    feedback_weights_ : ndarray of shape (n, n_outputs)
        Uniform in ``[-feedback_scaling, feedback_scaling]``, drawn from ``seed``.
    reservoir_, readout_ : the fitted copies (the objects passed in are not changed).
    last_output_ : ndarray of shape (n_outputs,)
        The output the next step feeds back.
    training_outputs_ : ndarray of shape (T, n_outputs)

    Notes
    -----
    Every ``update_every``-th step of :meth:`fit`, the readout's output :math:`z(t) = W^T
    [x(t), 1]` is moved toward the target by RLS and the trained output is fed back through
    :math:`W_{fb}` at the next step: :math:`x(t+1) = F(x(t), [u(t+1), z(t)])`. After fitting,
    :meth:`generate` runs the same loop with the weights frozen.

    Examples
    --------
    >>> t = np.arange(3000)
    >>> target = np.sin(2 * np.pi * t / 100)[:, None]
    >>> force = Force(seed=0).fit(target[:2000])
    >>> out = force.generate(1000)
    >>> bool(np.sqrt(np.mean((out - target[2000:]) ** 2)) < 0.1)
    True
    """

    params = declare(
        reservoir=Param(
            None,
            NoneOr(InstanceOf(ReservoirBase, "an ESN or EIReservoir")),
            "The reservoir; None: ESN(n=300, spectral_radius=1.2, leak=0.3, density=0.1, "
            "input_scaling=0.0), seeded from seed.",
            type_doc="ESN, EIReservoir or None",
        ),
        readout=Param(
            None,
            NoneOr(InstanceOf(OnlineReadout, "an OnlineReadout")),
            "The online readout (method 'rls'); None: OnlineReadout(alpha=1.0).",
            type_doc="OnlineReadout or None",
        ),
        feedback_scaling=Param(
            1.0, Interval(float, 0, None), "Feedback weights are uniform in [-s, s]."
        ),
        teacher_forcing=Param(
            False,
            Boolean(),
            "Feed the target (not the output) back while learning (echo-state style); "
            "FORCE feeds the output.",
        ),
    ) | common_params(backends=None, device=False)

    def _parts(self):
        """Fresh reservoir and readout copies (the given ones are not changed)."""
        from neurolearn.reservoir.esn import ESN

        p = self._check_params()
        rng_res, rng_fb = as_generator(p["seed"], "Force").spawn(2)
        if p["reservoir"] is None:
            reservoir = ESN(
                n=300, spectral_radius=1.5, leak=0.1, density=0.1, input_scaling=0.0, seed=rng_res
            )
        else:
            reservoir = p["reservoir"].clone()
        readout = OnlineReadout(alpha=1.0) if p["readout"] is None else p["readout"].clone()
        if readout.method != "rls":
            raise ParameterError(
                "The 'readout' parameter of Force must learn by RLS (method='rls'). "
                f"Got method={readout.method!r} instead."
            )
        return reservoir, readout, rng_fb

    def _input(self, u, n_steps: int, n_inputs: int):
        if u is None:
            return np.zeros((n_steps, n_inputs))
        arr = check_array("Force", "u", u, ndim=(1, 2), shape_doc=f"(T, {n_inputs})")
        arr = arr[:, None] if arr.ndim == 1 else arr
        if arr.shape != (n_steps, n_inputs):
            raise ParameterError(
                f"The 'u' parameter of Force must have shape ({n_steps}, {n_inputs}). "
                f"Got {arr.shape} instead."
            )
        return np.ascontiguousarray(arr)

    def fit(self, targets, u=None) -> Force:
        """Learn to produce ``targets (T, m)`` (with external input ``u (T, d)`` if given)."""
        reservoir, readout, rng_fb = self._parts()
        reservoir._ensure_initialized()
        y = check_array("Force", "targets", targets, ndim=(1, 2), shape_doc="(T, m)")
        y = np.ascontiguousarray(y[:, None] if y.ndim == 1 else y)
        u = self._input(u, y.shape[0], reservoir.n_inputs)
        m = y.shape[1]
        scale = float(self.feedback_scaling)
        self.feedback_weights_ = rng_fb.uniform(-scale, scale, (reservoir.n, m))
        readout._start(reservoir.n, m)
        learning = _learning(readout, y.shape[0], True, self.teacher_forcing)
        outputs, fed = _run_together(
            readout, reservoir, u, y, self.feedback_weights_, learning, False
        )
        readout.n_samples_ = y.shape[0]
        self.reservoir_, self.readout_ = reservoir, readout
        self.last_output_ = fed
        self.training_outputs_ = outputs
        return self

    def generate(self, n_steps: int, u=None) -> np.ndarray:
        """Continue from the end of :meth:`fit` (or the last call) for ``n_steps``, weights
        frozen; returns the outputs ``(n_steps, m)``."""
        from neurolearn._kernels.numba.online import Learning

        if not hasattr(self, "readout_"):
            raise NotFittedError("This Force model has not learned yet: call fit() first.")
        n_steps = check_param("Force", "n_steps", n_steps, Interval(int, 1, None))
        u = self._input(u, n_steps, self.reservoir_.n_inputs)
        readout = self.readout_
        frozen = Learning(
            forgetting=1.0,
            learning_rate=0.0,
            update_every=1,
            learn_steps=0,
            feedback=True,
            teacher_forcing=False,
            intercept=bool(readout._started_with[1]),
        )
        no_targets = np.zeros((n_steps, self.last_output_.shape[0]))
        outputs, fed = _run_together(
            readout,
            self.reservoir_,
            u,
            no_targets,
            self.feedback_weights_,
            frozen,
            True,
            fed=self.last_output_,
        )
        self.last_output_ = fed
        return outputs
