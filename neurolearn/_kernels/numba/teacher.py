"""Jitted kernels of the student-teacher family: whole training loops over arrays.

Activation codes (shared with :mod:`neurolearn.teacher.networks`): 0 linear, 1 tanh, 2 ReLU,
3 logistic sigmoid, 4 ``erf(u / sqrt(2))``.

Every kernel receives its randomness pre-drawn (epoch permutations, input samples) and writes
into caller-allocated arrays. Divergence is reported through the return value, never raised.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from neurolearn.backend import FASTMATH

__all__ = [
    "activation",
    "activation_derivative",
    "mean_squared_error",
    "train_minibatch_epochs",
    "train_online_steps",
]

_SQRT_HALF = 1.0 / math.sqrt(2.0)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)


@njit(cache=True, fastmath=FASTMATH)
def activation(u, code):
    """phi(u) for one activation code."""
    if code == 0:
        return u
    if code == 1:
        return math.tanh(u)
    if code == 2:
        return u if u > 0.0 else 0.0
    if code == 3:
        if u >= 0.0:
            return 1.0 / (1.0 + math.exp(-u))
        z = math.exp(u)
        return z / (1.0 + z)
    return math.erf(u * _SQRT_HALF)


@njit(cache=True, fastmath=FASTMATH)
def activation_derivative(u, code):
    """phi'(u) for one activation code (ReLU: 1 for u > 0, else 0)."""
    if code == 0:
        return 1.0
    if code == 1:
        t = math.tanh(u)
        return 1.0 - t * t
    if code == 2:
        return 1.0 if u > 0.0 else 0.0
    if code == 3:
        s = activation(u, 3)
        return s * (1.0 - s)
    return _SQRT_2_OVER_PI * math.exp(-0.5 * u * u)


@njit(cache=True, fastmath=FASTMATH)
def mean_squared_error(w1, w2, x, y, act, out_act, hidden):
    """``0.5 * mean_p sum_k (phi_out(W2 phi(W1 x_p))_k - y_pk)^2``; ``hidden`` is scratch (N,)."""
    n_samples, n_inputs = x.shape
    n_hidden = w1.shape[0]
    n_out = w2.shape[0]
    total = 0.0
    for p in range(n_samples):
        for j in range(n_hidden):
            a = 0.0
            for m in range(n_inputs):
                a += w1[j, m] * x[p, m]
            hidden[j] = activation(a, act)
        for k in range(n_out):
            z = 0.0
            for j in range(n_hidden):
                z += w2[k, j] * hidden[j]
            e = activation(z, out_act) - y[p, k]
            total += e * e
    return 0.5 * total / n_samples


@njit(cache=True, fastmath=FASTMATH)
def _frobenius(w):
    s = 0.0
    for i in range(w.shape[0]):
        for j in range(w.shape[1]):
            s += w[i, j] * w[i, j]
    return math.sqrt(s)


@njit(cache=True, fastmath=FASTMATH)
def train_minibatch_epochs(
    w1,
    w2,
    feedback,
    use_feedback,
    x,
    y,
    x_test,
    y_test,
    input_signs,
    hidden_signs,
    orders,
    step_size,
    batch_size,
    act,
    out_act,
    norm1,
    norm2,
    record_every,
    epoch_offset,
    threshold,
    train_curve,
    test_curve,
):
    """Run ``orders.shape[0]`` epochs of sign-flipped mini-batch learning in place.

    Per mini-batch of indices ``b`` (size ``nb``), with ``a = W1 x``, ``h = phi(a)``,
    ``e = phi_out(W2 h) - y`` (the output derivative is dropped, as in the reference rule)::

        W2 -= step_size / nb * sum_b e h^T D2
        W1 -= step_size / nb * sum_b ((F^T e) * phi'(a)) x^T D1

    with ``F = W2`` (gradient/curl descent) or the fixed ``feedback`` matrix (feedback
    alignment, ``use_feedback``). ``D1 = diag(input_signs)``, ``D2 = diag(hidden_signs)``.
    With ``norm1 > 0`` each layer is rescaled to Frobenius norms ``norm1``, ``norm2`` after
    every step.

    Errors of the whole training and test sets are written at global epochs
    ``e`` (``e = epoch_offset + i + 1``) with ``e % record_every == 0`` into
    ``train_curve[e // record_every]`` / ``test_curve[...]``.

    Returns
    -------
    (int, int)
        ``(epochs_run, status)``: status 0 = all epochs run, 1 = training error fell below
        ``threshold`` (checked every epoch when ``threshold > 0``), -1 = non-finite weights
        or error (``epochs_run`` is then the epoch where it happened).
    """
    n_samples, n_inputs = x.shape
    n_hidden = w1.shape[0]
    n_out = w2.shape[0]
    n_epochs = orders.shape[0]
    grad1 = np.zeros((n_hidden, n_inputs))
    grad2 = np.zeros((n_out, n_hidden))
    pre = np.empty(n_hidden)
    hid = np.empty(n_hidden)
    err = np.empty(n_out)
    delta = np.empty(n_hidden)
    fb = feedback if use_feedback else w2
    for ep in range(n_epochs):
        start = 0
        while start < n_samples:
            stop = min(start + batch_size, n_samples)
            nb = stop - start
            grad1[:, :] = 0.0
            grad2[:, :] = 0.0
            for b in range(start, stop):
                p = orders[ep, b]
                for j in range(n_hidden):
                    a = 0.0
                    for m in range(n_inputs):
                        a += w1[j, m] * x[p, m]
                    pre[j] = a
                    hid[j] = activation(a, act)
                for k in range(n_out):
                    z = 0.0
                    for j in range(n_hidden):
                        z += w2[k, j] * hid[j]
                    err[k] = activation(z, out_act) - y[p, k]
                    for j in range(n_hidden):
                        grad2[k, j] += err[k] * hid[j]
                for j in range(n_hidden):
                    back = 0.0
                    for k in range(n_out):
                        back += fb[k, j] * err[k]
                    delta[j] = back * activation_derivative(pre[j], act)
                for j in range(n_hidden):
                    d = delta[j]
                    for m in range(n_inputs):
                        grad1[j, m] += d * x[p, m]
            scale = step_size / nb
            for k in range(n_out):
                for j in range(n_hidden):
                    w2[k, j] -= scale * grad2[k, j] * hidden_signs[j]
            for j in range(n_hidden):
                for m in range(n_inputs):
                    w1[j, m] -= scale * grad1[j, m] * input_signs[m]
            if norm1 > 0.0:
                f1 = _frobenius(w1)
                f2 = _frobenius(w2)
                if not (math.isfinite(f1) and math.isfinite(f2)) or f1 == 0.0 or f2 == 0.0:
                    return ep + 1, -1
                w1 *= norm1 / f1
                w2 *= norm2 / f2
            start = stop
        epoch = epoch_offset + ep + 1
        train_err = -1.0
        if threshold > 0.0 or epoch % record_every == 0:
            train_err = mean_squared_error(w1, w2, x, y, act, out_act, hid)
            if not math.isfinite(train_err):
                return ep + 1, -1
        if epoch % record_every == 0:
            slot = epoch // record_every
            if slot < train_curve.shape[0]:
                train_curve[slot] = train_err
                test_curve[slot] = mean_squared_error(w1, w2, x_test, y_test, act, out_act, hid)
        if threshold > 0.0 and train_err < threshold:
            return ep + 1, 1
    if not (math.isfinite(_frobenius(w1)) and math.isfinite(_frobenius(w2))):
        return n_epochs, -1
    return n_epochs, 0


@njit(cache=True, fastmath=FASTMATH)
def train_online_steps(
    w1,
    w2,
    teacher_w1,
    teacher_w2,
    inputs,
    label_noise,
    input_signs,
    hidden_in_signs,
    hidden_signs,
    learning_rate,
    train_second_layer,
    act,
    out_act,
):
    """Online learning, one fresh sample per step (Saad-Solla scaling), in place.

    For each row ``x`` of ``inputs`` (entries N(0, 1), dimension M), with ``a = W1 x``::

        e   = phi_out(W2* phi(W1* x)) + noise - phi_out(W2 phi(a))
        W1 += (eta / M) s_j ((W2^T e) * phi'(a))_j x_m r_m          (s: hidden_in_signs,
        W2 += (eta / M) e phi(a)^T D2                                 r: input_signs)

    so that ``alpha = steps / M`` is the time of the order-parameter ODEs.

    Returns
    -------
    int
        The number of steps run, or ``-(step + 1)`` when the weights became non-finite.
    """
    n_steps, n_inputs = inputs.shape
    n_hidden = w1.shape[0]
    n_out = w2.shape[0]
    n_teacher = teacher_w1.shape[0]
    pre = np.empty(n_hidden)
    hid = np.empty(n_hidden)
    thid = np.empty(n_teacher)
    err = np.empty(n_out)
    step = learning_rate / n_inputs
    for t in range(n_steps):
        for j in range(n_teacher):
            a = 0.0
            for m in range(n_inputs):
                a += teacher_w1[j, m] * inputs[t, m]
            thid[j] = activation(a, act)
        for j in range(n_hidden):
            a = 0.0
            for m in range(n_inputs):
                a += w1[j, m] * inputs[t, m]
            pre[j] = a
            hid[j] = activation(a, act)
        for k in range(n_out):
            zt = 0.0
            for j in range(n_teacher):
                zt += teacher_w2[k, j] * thid[j]
            zs = 0.0
            for j in range(n_hidden):
                zs += w2[k, j] * hid[j]
            err[k] = activation(zt, out_act) + label_noise[t, k] - activation(zs, out_act)
        for j in range(n_hidden):
            back = 0.0
            for k in range(n_out):
                back += w2[k, j] * err[k]
            d = step * hidden_in_signs[j] * back * activation_derivative(pre[j], act)
            for m in range(n_inputs):
                w1[j, m] += d * inputs[t, m] * input_signs[m]
        if train_second_layer:
            for k in range(n_out):
                for j in range(n_hidden):
                    w2[k, j] += step * err[k] * hid[j] * hidden_signs[j]
        if not math.isfinite(err[0]):
            return -(t + 1)
    return n_steps
