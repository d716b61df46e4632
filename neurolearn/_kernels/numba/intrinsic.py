"""Jitted intrinsic plasticity: per-unit gain and bias adapted toward a target output distribution.

Each unit sees its synaptic drive ``x = W s + W_in u + bias`` (recurrent weights as drawn) and
has an intrinsic gain ``a`` and bias ``b``:

* sigmoid (E/I) units, Triesch (2005), target exponential with mean ``mu``:
  ``y = sigmoid(a x + b)``, ``db = eta (1 - (2 + 1/mu) y + y^2 / mu)``, ``da = eta / a + x db``;
  the unit integrates ``v <- lam v + (a x + b) / c + theta`` and fires ``sigmoid(c (v - theta))``,
  which is ``y`` exactly when ``lam = 0``;
* tanh (ESN) units, Schrauwen et al. (2008), target Gaussian ``N(mu, sigma^2)``:
  ``y = tanh(a x + b)``,
  ``db = -eta (-mu / sigma^2 + (y / sigma^2) (2 sigma^2 + 1 - y^2 + mu y))``,
  ``da = eta / a + x db``;
  the state is ``s <- (1 - leak) s + leak y``.

``a`` and ``b`` change every step; ``a`` is kept above ``MIN_GAIN``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from neurolearn._kernels import FASTMATH
from neurolearn._kernels.numba.reservoir import KIND_EI, _drive_rows

#: the intrinsic gain never falls below this (a unit that lost its input would be stuck)
MIN_GAIN = 1e-6


class IPNet(NamedTuple):
    """A reservoir's arrays as drawn (CSR ``W``), its unit kind and constants."""

    kind: int
    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray
    w_in: np.ndarray
    bias: np.ndarray
    leak: np.ndarray
    gain: float
    threshold: float


class IPRule(NamedTuple):
    """``learning_rate`` eta, per-unit ``target_mean`` mu (n,), ``target_std`` sigma (tanh)."""

    learning_rate: float
    target_mean: np.ndarray
    target_std: float


@njit(cache=True, fastmath=FASTMATH)
def intrinsic_plasticity(net, rule, u, a, b, s, v, outputs):
    """Drive ``net`` with ``u (T, d)``, adapting ``a`` and ``b`` (n,) in place every step.

    ``s`` (stored state) and ``v`` (E/I potential) advance in place; ``outputs (T, n)`` receives
    every unit's output ``y`` (or ``(0, n)`` to keep none). Returns the first step with a
    non-finite output, or -1.
    """
    n = s.shape[0]
    pre = np.empty(n)
    store = outputs.shape[0] > 0
    eta = rule.learning_rate
    var = rule.target_std * rule.target_std
    for t in range(u.shape[0]):
        _drive_rows(net.indptr, net.indices, net.data, net.w_in, net.bias, u[t], s, pre, 0, n)
        for i in range(n):
            x = pre[i]
            z = a[i] * x + b[i]
            mu = rule.target_mean[i]
            if net.kind == KIND_EI:
                v[i] = net.leak[i] * v[i] + z / net.gain + net.threshold
                y = 1.0 / (1.0 + np.exp(-net.gain * (v[i] - net.threshold)))
                s[i] = y
                db = eta * (1.0 - (2.0 + 1.0 / mu) * y + y * y / mu)
            else:
                y = np.tanh(z)
                s[i] = (1.0 - net.leak[i]) * s[i] + net.leak[i] * y
                db = -eta * (-mu / var + (y / var) * (2.0 * var + 1.0 - y * y + mu * y))
            if not np.isfinite(y):
                return t
            b[i] += db
            a[i] += eta / a[i] + x * db
            if a[i] < MIN_GAIN:
                a[i] = MIN_GAIN
            if store:
                outputs[t, i] = y
    return -1
