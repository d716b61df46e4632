"""Naive numpy references of the teacher family's kernels: explicit loops, one sample at a time."""

from __future__ import annotations

import math

import numpy as np


def phi(u, name):
    if name == "linear":
        return u
    if name == "tanh":
        return math.tanh(u)
    if name == "relu":
        return max(u, 0.0)
    if name == "sigmoid":
        return 1.0 / (1.0 + math.exp(-u))
    return math.erf(u / math.sqrt(2.0))


def dphi(u, name):
    if name == "linear":
        return 1.0
    if name == "tanh":
        return 1.0 - math.tanh(u) ** 2
    if name == "relu":
        return 1.0 if u > 0 else 0.0
    if name == "sigmoid":
        s = phi(u, "sigmoid")
        return s * (1 - s)
    return math.sqrt(2 / math.pi) * math.exp(-u * u / 2)


def error(w1, w2, x, y, act, out_act):
    total = 0.0
    for p in range(x.shape[0]):
        h = [
            phi(sum(w1[j, m] * x[p, m] for m in range(x.shape[1])), act) for j in range(w1.shape[0])
        ]
        for k in range(w2.shape[0]):
            out = phi(sum(w2[k, j] * h[j] for j in range(len(h))), out_act)
            total += (out - y[p, k]) ** 2
    return 0.5 * total / x.shape[0]


def minibatch_epochs(
    w1, w2, x, y, orders, *, eta, batch, act, out_act, s1, s2, feedback=None, rescale=False
):
    """Epochs of the paper's rule: eta' = eta * B / P on batch means, sign flips, rescaling."""
    w1, w2 = w1.copy(), w2.copy()
    n_hidden, n_inputs = w1.shape
    n_out = w2.shape[0]
    n = x.shape[0]
    step = eta * batch / n
    n1, n2 = np.sqrt((w1**2).sum()), np.sqrt((w2**2).sum())
    curve = []
    for order in orders:
        for start in range(0, n, batch):
            idx = order[start : start + batch]
            g1 = np.zeros_like(w1)
            g2 = np.zeros_like(w2)
            for p in idx:
                a = [sum(w1[j, m] * x[p, m] for m in range(n_inputs)) for j in range(n_hidden)]
                h = [phi(v, act) for v in a]
                e = [
                    phi(sum(w2[k, j] * h[j] for j in range(n_hidden)), out_act) - y[p, k]
                    for k in range(n_out)
                ]
                fb = w2 if feedback is None else feedback
                for k in range(n_out):
                    for j in range(n_hidden):
                        g2[k, j] += e[k] * h[j]
                for j in range(n_hidden):
                    d = sum(fb[k, j] * e[k] for k in range(n_out)) * dphi(a[j], act)
                    for m in range(n_inputs):
                        g1[j, m] += d * x[p, m]
            for k in range(n_out):
                for j in range(n_hidden):
                    w2[k, j] -= step / len(idx) * g2[k, j] * s2[j]
            for j in range(n_hidden):
                for m in range(n_inputs):
                    w1[j, m] -= step / len(idx) * g1[j, m] * s1[m]
            if rescale:
                w1 *= n1 / np.sqrt((w1**2).sum())
                w2 *= n2 / np.sqrt((w2**2).sum())
        curve.append(error(w1, w2, x, y, act, out_act))
    return w1, w2, np.array(curve)


def online_steps(
    w1, w2, tw1, tw2, inputs, noise, *, eta, act, out_act, s1, s_in, s2, train_second_layer=True
):
    """Saad-Solla online steps: W += (eta / M) * ... with e = y - y_hat."""
    w1, w2 = w1.copy(), w2.copy()
    n_inputs = w1.shape[1]
    for t in range(inputs.shape[0]):
        x = inputs[t]
        a = [float(w1[j] @ x) for j in range(w1.shape[0])]
        h = [phi(v, act) for v in a]
        th = [phi(float(tw1[j] @ x), act) for j in range(tw1.shape[0])]
        e = [
            phi(float(tw2[k] @ np.array(th)), out_act)
            + noise[t, k]
            - phi(float(w2[k] @ np.array(h)), out_act)
            for k in range(w2.shape[0])
        ]
        old_w2 = w2.copy()
        if train_second_layer:
            for k in range(w2.shape[0]):
                for j in range(w2.shape[1]):
                    w2[k, j] += eta / n_inputs * e[k] * h[j] * s2[j]
        for j in range(w1.shape[0]):
            back = sum(old_w2[k, j] * e[k] for k in range(w2.shape[0]))
            for m in range(n_inputs):
                w1[j, m] += eta / n_inputs * s_in[j] * back * dphi(a[j], act) * x[m] * s1[m]
    return w1, w2
