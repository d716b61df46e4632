"""Jitted online learning: a reservoir and its linear readout advanced together, step by step.

Per step ``t``: the reservoir takes ``[u(t), f(t)]`` (input and, with feedback, the fed-back
output ``f(t)``) through the same recurrent step as :mod:`neurolearn._kernels.numba.reservoir`;
the readout predicts ``y(t) = W^T z(t)`` from ``z(t) = [s(t), 1]`` (or ``s(t)``), and, while
learning, moves ``W`` toward ``target(t)``:

* recursive least squares with forgetting factor ``lam`` (:func:`rls_gain`):
  ``k = P z / (lam + z' P z)``, ``P <- (P - k z' P) / lam``, ``W <- W - k e'``;
* least mean squares: ``W <- W - mu z e'``;

with the a-priori error ``e = W^T z - target``. After the update the output is predicted again
(FORCE: the fed-back output is the trained one). The next step's fed-back value is the output
(``teacher_forcing=False``, FORCE) or the target (teacher forcing).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from neurolearn._kernels import FASTMATH
from neurolearn._kernels.numba.reservoir import _step_csr


class Learning(NamedTuple):
    """How the readout learns: ``forgetting`` (RLS lambda), ``learning_rate`` (LMS mu),
    ``update_every`` (steps between updates), ``learn_steps`` (updates stop from this step on),
    ``feedback`` (the output enters the reservoir), ``teacher_forcing`` (the target, not the
    output, is fed back while learning)."""

    forgetting: float
    learning_rate: float
    update_every: int
    learn_steps: int
    feedback: bool
    teacher_forcing: bool
    intercept: bool


class ReadoutState(NamedTuple):
    """What online learning changes in place: the readout ``W (k, m)`` (``k = n + intercept``),
    the RLS matrix ``P (k, k)`` (``(0, 0)`` for LMS) and ``fed (m,)``, the value fed back into
    the reservoir at the next step."""

    W: np.ndarray
    P: np.ndarray
    fed: np.ndarray


class OnlineOutputs(NamedTuple):
    """Each step's prediction ``outputs (T, m)`` and state ``states (T, n)`` (or ``(0, n)``)."""

    outputs: np.ndarray
    states: np.ndarray


@njit(cache=True, fastmath=FASTMATH)
def rls_gain(P, z, forgetting, pz):
    """One recursive-least-squares step of the inverse correlation matrix ``P`` (symmetric).

    Writes ``pz = P z`` (one BLAS ``gemv``) and updates ``P <- (P - pz pz' / denom) /
    forgetting`` in place (a rank-one update, vectorised along rows); returns
    ``denom = forgetting + z' P z``, so the gain is ``pz / denom``.
    """
    k = z.shape[0]
    np.dot(P, z, pz)
    denom = forgetting
    for i in range(k):
        denom += z[i] * pz[i]
    scale = 1.0 / denom
    if forgetting == 1.0:
        for i in range(k):
            c = pz[i] * scale
            for j in range(k):
                P[i, j] -= c * pz[j]
    else:
        inv = 1.0 / forgetting
        for i in range(k):
            c = pz[i] * scale
            for j in range(k):
                P[i, j] = (P[i, j] - c * pz[j]) * inv
    return denom


@njit(cache=True, fastmath=FASTMATH)
def _predict(W, z, y):
    for o in range(W.shape[1]):
        acc = 0.0
        for j in range(z.shape[0]):
            acc += W[j, o] * z[j]
        y[o] = acc


@njit(cache=True, fastmath=FASTMATH)
def _update(rls, learning, W, P, z, y, target, pz):
    """One learning step from the a-priori error ``y - target``; ``y`` is predicted again."""
    m = W.shape[1]
    k = W.shape[0]
    if rls:
        denom = rls_gain(P, z, learning.forgetting, pz)
        for o in range(m):
            err = y[o] - target[o]
            for j in range(k):
                W[j, o] -= err * pz[j] / denom
    else:
        for o in range(m):
            err = y[o] - target[o]
            for j in range(k):
                W[j, o] -= learning.learning_rate * err * z[j]
    _predict(W, z, y)


@njit(cache=True, fastmath=FASTMATH)
def learn_states(learning, rls, states, targets, W, P, outputs):
    """The readout alone, learning online over given ``states (T, n)``; ``outputs (T, m)``
    receives each step's prediction after its update. Returns the first non-finite step or -1.
    """
    n = states.shape[1]
    k = W.shape[0]
    m = W.shape[1]
    z = np.empty(k)
    if learning.intercept:
        z[n] = 1.0
    y = np.empty(m)
    pz = np.empty(k)
    for t in range(states.shape[0]):
        for i in range(n):
            z[i] = states[t, i]
        _predict(W, z, y)
        if t < learning.learn_steps and t % learning.update_every == 0:
            _update(rls, learning, W, P, z, y, targets[t], pz)
        for o in range(m):
            outputs[t, o] = y[o]
            if not np.isfinite(y[o]):
                return t
    return -1


@njit(cache=True, fastmath=FASTMATH)
def _run(net, learning, rls, u, targets, readout, state, out):
    W = readout.W
    P = readout.P
    fed = readout.fed
    s = state.s
    v = state.v
    outputs = out.outputs
    states_out = out.states
    n_steps = u.shape[0]
    n = s.shape[0]
    d = u.shape[1]
    m = W.shape[1]
    k = W.shape[0]
    store = states_out.shape[0] > 0
    drive = np.zeros(d + (m if learning.feedback else 0))
    pre = np.empty(n)
    z = np.empty(k)
    if learning.intercept:
        z[n] = 1.0
    y = np.empty(m)
    pz = np.empty(k)
    for t in range(n_steps):
        for c in range(d):
            drive[c] = u[t, c]
        if learning.feedback:
            for o in range(m):
                drive[d + o] = fed[o]
        if _step_csr(net, drive, s, v, pre):
            return t
        for i in range(n):
            z[i] = s[i]
        _predict(W, z, y)
        learn = t < learning.learn_steps
        if learn and t % learning.update_every == 0:
            _update(rls, learning, W, P, z, y, targets[t], pz)
        for o in range(m):
            outputs[t, o] = y[o]
            fed[o] = targets[t, o] if (learn and learning.teacher_forcing) else y[o]
            if not np.isfinite(y[o]):
                return t
        if store:
            states_out[t, :] = s
    return -1


@njit(cache=True, fastmath=FASTMATH)
def run_rls(net, learning, u, targets, readout, state, out):
    """Advance reservoir and RLS readout over ``T = u.shape[0]`` steps, in place.

    ``net`` is the reservoir's :class:`~neurolearn._kernels.reservoir_groups.Network` (CSR
    form) whose ``w_in (n, d + m)`` holds the input then the feedback weights; ``learning`` a
    :class:`Learning`; ``u (T, d)``, ``targets (T, m)`` (read only while learning); ``readout``
    a :class:`ReadoutState` (``fed`` holds the value fed back at the first step), ``state`` the
    reservoir's :class:`~neurolearn._kernels.reservoir_groups.State` ``(n,)``, ``out`` the
    :class:`OnlineOutputs`. Returns the first step with a non-finite state or output, or -1.
    """
    return _run(net, learning, True, u, targets, readout, state, out)


@njit(cache=True, fastmath=FASTMATH)
def run_lms(net, learning, u, targets, readout, state, out):
    """:func:`run_rls` with the least-mean-squares update (``readout.P`` unused)."""
    return _run(net, learning, False, u, targets, readout, state, out)
