"""Jitted integrators and recurrences behind :mod:`neurolearn.tasks.timeseries`."""

from __future__ import annotations

import numpy as np
from numba import njit

from neurolearn._kernels import FASTMATH


@njit(cache=True, fastmath=FASTMATH)
def narma_fill(u, order, y):
    """Canonical NARMA recurrence into ``y`` (zeros on entry); returns the first step whose
    value exceeds 1e6 in magnitude, or -1."""
    for t in range(order - 1, u.shape[0] - 1):
        acc = 0.0
        for i in range(order):
            acc += y[t - i]
        y[t + 1] = 0.3 * y[t] + 0.05 * y[t] * acc + 1.5 * u[t - order + 1] * u[t] + 0.1
        if not abs(y[t + 1]) < 1e6:
            return t + 1
    return -1


@njit(cache=True, fastmath=FASTMATH)
def _mg_rhs(xt, xlag, beta, gamma, exponent):
    return beta * xlag / (1.0 + xlag**exponent) - gamma * xt


@njit(cache=True, fastmath=FASTMATH)
def mackey_glass_fill(x, lag, beta, gamma, exponent, dt):
    """RK4 for the delay equation on a grid of step ``dt``; ``x[:lag + 1]`` holds the history.
    The delayed value at half steps is the mean of its two grid neighbours."""
    for i in range(lag, x.shape[0] - 1):
        xd0 = x[i - lag]
        xd1 = x[i - lag + 1]
        xdh = 0.5 * (xd0 + xd1)
        k1 = _mg_rhs(x[i], xd0, beta, gamma, exponent)
        k2 = _mg_rhs(x[i] + 0.5 * dt * k1, xdh, beta, gamma, exponent)
        k3 = _mg_rhs(x[i] + 0.5 * dt * k2, xdh, beta, gamma, exponent)
        k4 = _mg_rhs(x[i] + dt * k3, xd1, beta, gamma, exponent)
        x[i + 1] = x[i] + dt / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)


@njit(cache=True, fastmath=FASTMATH)
def _lorenz_rhs(s, out, sigma, rho, beta):
    out[0] = sigma * (s[1] - s[0])
    out[1] = s[0] * (rho - s[2]) - s[1]
    out[2] = s[0] * s[1] - beta * s[2]


@njit(cache=True, fastmath=FASTMATH)
def lorenz_fill(state, n_transient, substeps, h, sigma, rho, beta, out):
    """RK4 with step ``h``; ``substeps`` steps per stored sample, first ``n_transient``
    samples discarded; ``out (n_samples, 3)``."""
    k1 = np.empty(3)
    k2 = np.empty(3)
    k3 = np.empty(3)
    k4 = np.empty(3)
    tmp = np.empty(3)
    s = state.copy()
    for i in range(n_transient + out.shape[0]):
        for _ in range(substeps):
            _lorenz_rhs(s, k1, sigma, rho, beta)
            for j in range(3):
                tmp[j] = s[j] + 0.5 * h * k1[j]
            _lorenz_rhs(tmp, k2, sigma, rho, beta)
            for j in range(3):
                tmp[j] = s[j] + 0.5 * h * k2[j]
            _lorenz_rhs(tmp, k3, sigma, rho, beta)
            for j in range(3):
                tmp[j] = s[j] + h * k3[j]
            _lorenz_rhs(tmp, k4, sigma, rho, beta)
            for j in range(3):
                s[j] = s[j] + h / 6.0 * (k1[j] + 2.0 * k2[j] + 2.0 * k3[j] + k4[j])
        if i >= n_transient:
            out[i - n_transient, :] = s
