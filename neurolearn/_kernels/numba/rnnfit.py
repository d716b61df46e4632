"""Jitted kernels of the rnnfit family: pure functions over arrays, caller-allocated outputs.

* :func:`soc_gain` / :func:`soc_gain_slope`: the piecewise-tanh gain of the stability-optimised
  circuit, ``g(x) = r0 tanh(x / r0)`` for ``x < 0`` and ``(rmax - r0) tanh(x / (rmax - r0))``
  for ``x >= 0`` (rates are ``r0 + g(x)``). ``r0 <= 0`` selects plain ``tanh``.
* :func:`simulate_rate_circuit`: Euler integration of ``tau dx/dt = -x + W g(x) + h(t)`` for
  every condition, with ``h(t) = profile[t] * drive[c]``.
* :func:`force_trial`: one trial of FORCE / CURBD training (recursive least squares on the
  readout and on the recurrent rows of the recorded units, one shared inverse-correlation matrix).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from neurolearn._kernels import FASTMATH


@njit(cache=True, fastmath=FASTMATH)
def soc_gain(x, r0, rmax, out):
    """``out[...] = g(x)`` elementwise (flat arrays); ``r0 <= 0`` means ``tanh``."""
    n = x.shape[0]
    if r0 <= 0.0:
        for i in range(n):
            out[i] = np.tanh(x[i])
        return
    hi = rmax - r0
    for i in range(n):
        v = x[i]
        if v < 0.0:
            out[i] = r0 * np.tanh(v / r0)
        else:
            out[i] = hi * np.tanh(v / hi)


@njit(cache=True, fastmath=FASTMATH)
def soc_gain_slope(x, r0, rmax, out):
    """``out[...] = g'(x)`` elementwise (flat arrays); ``r0 <= 0`` means ``tanh``."""
    n = x.shape[0]
    if r0 <= 0.0:
        for i in range(n):
            t = np.tanh(x[i])
            out[i] = 1.0 - t * t
        return
    hi = rmax - r0
    for i in range(n):
        v = x[i]
        if v < 0.0:
            t = np.tanh(v / r0)
        else:
            t = np.tanh(v / hi)
        out[i] = 1.0 - t * t


@njit(cache=True, fastmath=FASTMATH)
def simulate_rate_circuit(weights, drive, profile, x_init, dt_over_tau, r0, rmax, out):
    """Euler-integrate ``x_{t+1} = x_t + dt/tau (-x_t + W g(x_t) + profile[t] drive[c])``.

    Parameters
    ----------
    weights : (N, N) float64
    drive : (C, N) float64, the input pattern of each condition
    profile : (T,) float64, its time course
    x_init : (C, N) float64, the state at step 0
    out : (C, T, N) float64, filled with the states; ``out[:, 0] = x_init``
    """
    n_cond, n_steps, n = out.shape
    g = np.empty(n)
    for c in range(n_cond):
        x = x_init[c].copy()
        for t in range(n_steps):
            out[c, t] = x
            if t == n_steps - 1:
                break
            soc_gain(x, r0, rmax, g)
            rec = weights @ g
            for i in range(n):
                x[i] += dt_over_tau * (-x[i] + rec[i] + profile[t] * drive[c, i])


@njit(cache=True, fastmath=FASTMATH)
def force_trial(
    x,
    recurrent,
    feedback,
    input_weights,
    readout,
    inv_corr,
    inputs,
    z_target,
    unit_target,
    recorded,
    dt_over_tau,
    update_every,
    learn,
    z_out,
    state_out,
):
    """Run (and train) one trial of a FORCE / CURBD rate network, in place.

    Dynamics ``x_{t+1} = x_t + dt/tau (-x_t + J r_t + W_fb z_t + B u_t)`` with ``r = tanh(x)``
    and ``z = W_out r``. At every ``update_every``-th step (when ``learn``) recursive least
    squares with one shared inverse correlation matrix ``P`` (Sussillo & Abbott 2009) moves
    ``W_out`` towards ``z_target[t]`` and the rows of ``J`` of the recorded units
    (``recorded[k]`` is the student unit of target ``k``) so that their total input equals
    ``unit_target[t, k]`` (CURBD, Perich et al. 2020):
    ``k = P r / (1 + r' P r)``, ``P <- P - k (P r)'``, ``w <- w - e k``.

    Parameters
    ----------
    x : (N,) state, updated in place
    recurrent : (N, N), feedback : (N, O), input_weights : (N, I), readout : (O, N)
    inv_corr : (N, N) the RLS matrix ``P``
    inputs : (T, I), z_target : (T, O), unit_target : (T, K), recorded : (K,) int64
    z_out : (T, O), state_out : (T, N) written for every step (before the step's update of x)
    """
    n_steps = inputs.shape[0]
    n = x.shape[0]
    n_out = readout.shape[0]
    n_rec = recorded.shape[0]
    r = np.empty(n)
    pr = np.empty(n)
    for t in range(n_steps):
        for i in range(n):
            r[i] = np.tanh(x[i])
        z = readout @ r
        if learn and t % update_every == 0:
            for i in range(n):
                acc = 0.0
                for j in range(n):
                    acc += inv_corr[i, j] * r[j]
                pr[i] = acc
            denom = 1.0
            for i in range(n):
                denom += r[i] * pr[i]
            for i in range(n):
                for j in range(n):
                    inv_corr[i, j] -= pr[i] * pr[j] / denom
            for o in range(n_out):
                err = z[o] - z_target[t, o]
                for j in range(n):
                    readout[o, j] -= err * pr[j] / denom
            if n_rec > 0:
                for k in range(n_rec):
                    i = recorded[k]
                    total = 0.0
                    for j in range(n):
                        total += recurrent[i, j] * r[j]
                    for o in range(n_out):
                        total += feedback[i, o] * z[o]
                    for d in range(inputs.shape[1]):
                        total += input_weights[i, d] * inputs[t, d]
                    err = total - unit_target[t, k]
                    for j in range(n):
                        recurrent[i, j] -= err * pr[j] / denom
            z = readout @ r
        z_out[t] = z
        state_out[t] = x
        pre = recurrent @ r + feedback @ z + input_weights @ inputs[t]
        for i in range(n):
            x[i] += dt_over_tau * (-x[i] + pre[i])
