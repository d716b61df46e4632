"""Naive reference implementations: plain loops over dense numpy arrays, written from the
equations in the docstrings, used to check the kernels."""

from __future__ import annotations

import numpy as np


def esn_states(W, w_in, bias, leak, u, x0=None):
    """x(t) = (1 - a) x(t-1) + a tanh(W x(t-1) + W_in u(t) + b), one unit at a time."""
    W = np.asarray(W.toarray() if hasattr(W, "toarray") else W)
    n = W.shape[0]
    x = np.zeros(n) if x0 is None else np.array(x0, dtype=float)
    out = np.zeros((u.shape[0], n))
    for t in range(u.shape[0]):
        new = np.empty(n)
        for i in range(n):
            pre = (
                bias[i]
                + sum(W[i, j] * x[j] for j in range(n))
                + sum(w_in[i, k] * u[t, k] for k in range(u.shape[1]))
            )
            new[i] = (1 - leak) * x[i] + leak * np.tanh(pre)
        x = new
        out[t] = x
    return out


def ei_states(W, w_in, leak, gain, threshold, u, v0=None):
    """v(t) = lam v(t-1) + W r(t-1) + W_in u(t); r = 1 / (1 + exp(-c (v - theta)))."""
    W = np.asarray(W.toarray() if hasattr(W, "toarray") else W)
    n = W.shape[0]
    v = np.zeros(n) if v0 is None else np.array(v0, dtype=float)
    r = 1.0 / (1.0 + np.exp(-gain * (v - threshold)))
    out = np.zeros((u.shape[0], n))
    for t in range(u.shape[0]):
        v = leak * v + W @ r + w_in @ u[t]
        r = 1.0 / (1.0 + np.exp(-gain * (v - threshold)))
        out[t] = r
    return out


def local_adaptation(A_E, A_I, w_in, leak, gain, threshold, u, eta, target, record_every):
    """The local rule on dense matrices: after each step, every existing inhibitory synapse
    onto unit i moves by eta_t (r_i - rho_i), clipped at zero. Returns (A_I, window means)."""
    A_I = np.array(A_I, dtype=float)
    mask = A_I > 0
    n = A_E.shape[0]
    v = np.zeros(n)
    r = 1.0 / (1.0 + np.exp(-gain * (v - threshold)))
    windows, acc = [], np.zeros(n)
    for t in range(u.shape[0]):
        v = leak * v + (A_E - A_I) @ r + w_in @ u[t]
        r = 1.0 / (1.0 + np.exp(-gain * (v - threshold)))
        for i in range(n):
            for j in range(n):
                if mask[i, j]:
                    A_I[i, j] = max(0.0, A_I[i, j] + eta[t] * (r[i] - target[i]))
        acc += r
        if (t + 1) % record_every == 0:
            windows.append(acc / record_every)
            acc = np.zeros(n)
    return A_I, np.array(windows)


def ridge_fit(X, Y, ridge):
    """Ridge with an unpenalised intercept, by the augmented normal equations."""
    X1 = np.hstack([X, np.ones((X.shape[0], 1))])
    penalty = ridge * np.eye(X1.shape[1])
    penalty[-1, -1] = 0.0
    sol = np.linalg.solve(X1.T @ X1 + penalty, X1.T @ Y)
    return sol[:-1], sol[-1]


def narma_loop(u, order):
    """NARMA written straight from the formula, one term at a time."""
    y = [0.0] * len(u)
    for t in range(order - 1, len(u) - 1):
        s = 0.0
        for i in range(order):
            s += y[t - i]
        y[t + 1] = 0.3 * y[t] + 0.05 * y[t] * s + 1.5 * u[t - order + 1] * u[t] + 0.1
    return np.array(y)
