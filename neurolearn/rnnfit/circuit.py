"""Ground-truth rate circuits: any user-supplied weight matrix, and its simulation.

A :class:`RateCircuit` integrates ``tau dx/dt = -x + W g(x) + h(t)`` and reports rates
``r = r0 + g(x)``; the stability-optimised circuit (:class:`~neurolearn.rnnfit.SOCircuit`)
builds one. A user brings a teacher as ``RateCircuit(weights=W, readout=C)``.
"""

from __future__ import annotations

import numpy as np

from neurolearn._declare import Estimator
from neurolearn._params import Interval, check_array, check_param
from neurolearn.errors import DivergenceError, NotFittedError, ParameterError
from neurolearn.rnnfit import _declared as D

__all__ = ["RateCircuit", "gain"]


def gain(x, *, baseline_rate_hz: float = 5.0, max_rate_hz: float = 100.0):
    """The piecewise-tanh gain ``g`` of Hennequin, Vogels & Gerstner (2014).

    .. math::
        g(x) = r_0 \\tanh(x / r_0) \\; (x < 0), \\qquad
        g(x) = (r_{max} - r_0) \\tanh(x / (r_{max} - r_0)) \\; (x \\ge 0)

    so that the rate ``r0 + g(x)`` lies in ``[0, rmax]`` and ``g'(0) = 1``.
    ``baseline_rate_hz = 0`` gives ``tanh``.

    Examples
    --------
    >>> import numpy as np
    >>> np.round(gain(np.array([-100.0, 0.0, 1000.0])), 3)
    array([-5.,  0., 95.])
    """
    from neurolearn._kernels.numba.rnnfit import soc_gain

    x = check_array("gain", "x", x, allow_nonfinite=True)
    out = np.empty(x.size)
    soc_gain(np.ascontiguousarray(x).ravel(), float(baseline_rate_hz), float(max_rate_hz), out)
    return out.reshape(x.shape)


def gain_slope(x, *, baseline_rate_hz: float = 5.0, max_rate_hz: float = 100.0):
    """``g'(x)`` for :func:`gain` (used by the linearisation around fixed points)."""
    from neurolearn._kernels.numba.rnnfit import soc_gain_slope

    x = check_array("gain_slope", "x", x, allow_nonfinite=True)
    out = np.empty(x.size)
    soc_gain_slope(
        np.ascontiguousarray(x).ravel(), float(baseline_rate_hz), float(max_rate_hz), out
    )
    return out.reshape(x.shape)


class RateCircuit(Estimator):
    """A rate network ``tau dx/dt = -x + W g(x) + h(t)`` with an optional linear readout.

    Parameters
    ----------
    {parameters}

    Nothing is drawn or learned: every parameter takes effect at the next use.

    Examples
    --------
    >>> import numpy as np
    >>> c = RateCircuit(weights=np.zeros((3, 3)), tau_ms=10.0)
    >>> x = c.simulate(np.ones((1, 3)), np.ones(200), dt_ms=1.0)
    >>> round(float(x[0, -1, 0]), 3)   # relaxes to the input
    1.0
    """

    params = D.RATE_CIRCUIT_PARAMS

    # ------------------------------------------------------------------ validation
    def _checked(self):
        owner = type(self).__name__
        values = self._check_params()
        w = check_array(owner, "weights", self.weights, ndim=2, shape_doc="(N, N)")
        if w.shape[0] != w.shape[1]:
            raise ParameterError(
                f"The 'weights' parameter of {owner} must be square (N, N). Got shape {w.shape}."
            )
        r0, rmax = values["baseline_rate_hz"], values["max_rate_hz"]
        if self.gain == "soc" and rmax <= r0:
            raise ParameterError(
                f"The 'max_rate_hz' parameter of {owner} must exceed baseline_rate_hz "
                f"({r0}). Got {rmax} instead."
            )
        if self.readout is not None:
            check_array(
                owner,
                "readout",
                self.readout,
                ndim=2,
                shape=(None, w.shape[0]),
                shape_doc=f"(O, {w.shape[0]})",
            )
        return w

    @property
    def n(self) -> int:
        """Number of neurons."""
        return int(np.shape(self.weights)[0])

    def _gain_args(self):
        if self.gain == "tanh":
            return 0.0, 1.0
        return float(self.baseline_rate_hz), float(self.max_rate_hz)

    # ------------------------------------------------------------------ dynamics
    def rates(self, states):
        """Rates ``r0 + g(x)`` of states ``x`` (any shape ending in N)."""
        r0, rmax = self._gain_args()
        return r0 + gain(states, baseline_rate_hz=r0, max_rate_hz=rmax)

    def rate_slope(self, states):
        """``dr/dx = g'(x)``."""
        r0, rmax = self._gain_args()
        return gain_slope(states, baseline_rate_hz=r0, max_rate_hz=rmax)

    def outputs(self, states):
        """Readout ``C g(x)`` of states (any shape ending in N) -> shape ending in O."""
        if self.readout is None:
            raise NotFittedError(f"{type(self).__name__} has no readout; pass readout=...")
        w = self._checked()
        states = self._check_states(states, w.shape[0])
        r0, rmax = self._gain_args()
        g = gain(states, baseline_rate_hz=r0, max_rate_hz=rmax)
        return g @ np.asarray(self.readout, dtype=np.float64).T

    def simulate(self, drive, profile, *, dt_ms: float, initial_state=None):
        """Integrate every condition (Euler).

        Parameters
        ----------
        drive : array of shape (C, N)
            Input pattern of each condition; the input is ``h(t) = profile[t] * drive[c]``.
        profile : array of shape (T,)
            Time course of the input.
        dt_ms : float
            Euler step.
        initial_state : array of shape (C, N) or None, default=None
            ``x`` at step 0 (zeros, i.e. the baseline rate, when None).

        Returns
        -------
        ndarray of shape (C, T, N)
            The states ``x``; :meth:`rates` turns them into rates.
        """
        from neurolearn._kernels.numba.rnnfit import simulate_rate_circuit

        w = self._checked()
        owner = type(self).__name__
        n = w.shape[0]
        drive = check_array(owner, "drive", drive, ndim=2, shape=(None, n), shape_doc=f"(C, {n})")
        profile = check_array(owner, "profile", profile, ndim=1, shape_doc="(T,)")
        dt = check_param(owner, "dt_ms", dt_ms, Interval(float, 0, None, "neither"))
        if dt > self.tau_ms:
            raise ParameterError(
                f"The 'dt_ms' parameter of {owner} must not exceed tau_ms ({self.tau_ms}) for a "
                f"stable Euler step. Got {dt} instead."
            )
        if initial_state is None:
            x_init = np.zeros_like(drive)
        else:
            x_init = check_array(
                owner, "initial_state", initial_state, shape=drive.shape, shape_doc=f"{drive.shape}"
            )
        out = np.empty((drive.shape[0], profile.shape[0], n))
        r0, rmax = self._gain_args()
        simulate_rate_circuit(w, drive, profile, x_init, dt / float(self.tau_ms), r0, rmax, out)
        if not np.all(np.isfinite(out)):
            step = int(np.argmax(~np.all(np.isfinite(out), axis=(0, 2))))
            raise DivergenceError(f"{owner}.simulate: non-finite state at step {step}.", step=step)
        return out

    def _check_states(self, states, n: int, name: str = "states", ndim=None) -> np.ndarray:
        arr = check_array(type(self).__name__, name, states, ndim=ndim, shape_doc=f"(..., {n})")
        if arr.ndim == 0 or arr.shape[-1] != n:
            raise ParameterError(
                f"The '{name}' parameter of {type(self).__name__} must end in the {n} neurons. "
                f"Got shape {arr.shape} instead."
            )
        return arr

    def jacobian(self, state):
        """Jacobian of ``dx/dt`` (in units of 1/tau) at ``state``: ``-I + W diag(g'(x))``."""
        w = self._checked()
        state = self._check_states(state, w.shape[0], "state", ndim=1)
        return -np.eye(w.shape[0]) + w * self.rate_slope(state)[None, :]

    def velocity(self, state):
        """``tau dx/dt`` without input: ``-x + W g(x)``."""
        w = self._checked()
        state = self._check_states(state, w.shape[0], "state", ndim=1)
        r0, rmax = self._gain_args()
        return -state + w @ gain(state, baseline_rate_hz=r0, max_rate_hz=rmax)
