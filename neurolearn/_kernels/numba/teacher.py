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

from neurolearn._kernels import FASTMATH
from neurolearn._kernels.numba.elementary import dot as _dot
from neurolearn._kernels.numba.elementary import sum_squares as _sum_squares
from neurolearn._kernels.numba.elementary import tanh as _tanh
from neurolearn._kernels.teacher_groups import (
    Dataset,
    MinibatchRule,
    OnlineRule,
    Recording,
    TeacherWeights,
)

__all__ = [
    "activation",
    "activation_derivative",
    "mean_squared_error",
    "train_minibatch_epochs",
    "train_online_steps",
    "Dataset",
    "MinibatchRule",
    "Recording",
    "OnlineRule",
    "TeacherWeights",
]

_SQRT_HALF = 1.0 / math.sqrt(2.0)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)


@njit(cache=True, fastmath=FASTMATH)
def activation(u, code):
    """phi(u) for one activation code."""
    if code == 0:
        return u
    if code == 1:
        return _tanh(u)
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
        t = _tanh(u)
        return 1.0 - t * t
    if code == 2:
        return 1.0 if u > 0.0 else 0.0
    if code == 3:
        s = activation(u, 3)
        return s * (1.0 - s)
    return _SQRT_2_OVER_PI * math.exp(-0.5 * u * u)


@njit(cache=True, fastmath=FASTMATH)
def _derivative_at(u, h, code):
    """phi'(u) given ``h = phi(u)`` (tanh and sigmoid reuse ``h`` instead of recomputing)."""
    if code == 1:
        return 1.0 - h * h
    if code == 3:
        return h * (1.0 - h)
    return activation_derivative(u, code)


@njit(cache=True, fastmath=FASTMATH, error_model="numpy")
def _activate_rows(pre, out, rows, code):
    """``out[:rows] = phi(pre[:rows])`` for C-contiguous 2-D arrays (tanh loop vectorised)."""
    src = pre[:rows].ravel()
    dst = out[:rows].ravel()
    if code == 1:
        for i in range(src.shape[0]):
            dst[i] = _tanh(src[i])
    else:
        for i in range(src.shape[0]):
            dst[i] = activation(src[i], code)


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


_ERROR_ROWS = 64


@njit(cache=True, fastmath=FASTMATH)
def _dense_error(w1, w2, x, y, act, out_act, pre, z):
    """:func:`mean_squared_error` through BLAS products on blocks of ``_ERROR_ROWS`` samples
    (small products keep OpenBLAS single-threaded); ``pre (rows, N)``, ``z (rows, K)``."""
    n_samples = x.shape[0]
    rows = pre.shape[0]
    total = 0.0
    for r0 in range(0, n_samples, rows):
        r1 = min(r0 + rows, n_samples)
        if r1 - r0 == rows:
            pb, zb = pre, z
        else:
            pb, zb = pre[: r1 - r0], z[: r1 - r0]
        for p in range(r1 - r0):
            xr = x[r0 + p]
            for j in range(pb.shape[1]):
                pb[p, j] = _dot(w1[j], xr)
        _activate_rows(pb, pb, r1 - r0, act)
        np.dot(pb, w2.T, zb)
        for p in range(r1 - r0):
            for k in range(zb.shape[1]):
                e = activation(zb[p, k], out_act) - y[r0 + p, k]
                total += e * e
    return 0.5 * total / n_samples


@njit(cache=True, fastmath=FASTMATH)
def train_minibatch_epochs(w1, w2, rule, data, orders, epoch_offset, threshold, record):
    """Run ``orders.shape[0]`` epochs of sign-flipped mini-batch learning in place.

    Per mini-batch of indices ``b`` (size ``nb``), with ``a = W1 x``, ``h = phi(a)``,
    ``e = phi_out(W2 h) - y`` (the output derivative is dropped, as in the reference rule)::

        W2 -= step_size / nb * sum_b e h^T D2
        W1 -= step_size / nb * sum_b ((F^T e) * phi'(a)) x^T D1

    with ``F = W2`` (gradient/curl descent) or the fixed ``rule.feedback`` matrix (feedback
    alignment, ``rule.use_feedback``). ``D1 = diag(rule.input_signs)``,
    ``D2 = diag(rule.hidden_signs)``. With ``rule.norm1 > 0`` each layer is rescaled to
    Frobenius norms ``norm1``, ``norm2`` after every step.

    ``rule`` is a :class:`~neurolearn._kernels.teacher_groups.MinibatchRule`, ``data`` a
    :class:`~neurolearn._kernels.teacher_groups.Dataset`, ``record`` a
    :class:`~neurolearn._kernels.teacher_groups.Recording`: errors of the whole training and
    test sets are written at global epochs ``e`` (``e = epoch_offset + i + 1``) with
    ``e % record.record_every == 0`` into ``record.train_curve[e // record_every]`` /
    ``record.test_curve[...]``.

    Returns
    -------
    (int, int)
        ``(epochs_run, status)``: status 0 = all epochs run, 1 = training error fell below
        ``threshold`` (checked every epoch when ``threshold > 0``), -1 = non-finite weights
        or error (``epochs_run`` is then the epoch where it happened).
    """
    x, y, x_test, y_test = data.x, data.y, data.x_test, data.y_test
    step_size, batch_size = rule.step_size, rule.batch_size
    act, out_act = rule.activation, rule.output_activation
    input_signs, hidden_signs = rule.input_signs, rule.hidden_signs
    norm1, norm2 = rule.norm1, rule.norm2
    record_every = record.record_every
    train_curve, test_curve = record.train_curve, record.test_curve
    n_samples, n_inputs = x.shape
    n_hidden = w1.shape[0]
    n_out = w2.shape[0]
    n_epochs = orders.shape[0]
    nb_full = min(batch_size, n_samples)
    # Per sample: the hidden pre-activations as dot products of contiguous rows (vectorised
    # sums), then the rank-one update of W1 applied sample by sample (vectorised axpy over the
    # inputs). Mini-batches are too small for BLAS calls to pay for themselves.
    pre = np.empty((nb_full, n_hidden))
    hid = np.empty((nb_full, n_hidden))
    back = np.empty((nb_full, n_hidden))
    err = np.empty((nb_full, n_out))
    signed = np.empty(n_inputs)
    flip_inputs = False
    for m in range(n_inputs):
        if input_signs[m] != 1.0:
            flip_inputs = True
    err_pre = np.empty((_ERROR_ROWS, n_hidden))
    err_z = np.empty((_ERROR_ROWS, n_out))
    fb = rule.feedback if rule.use_feedback else w2
    for ep in range(n_epochs):
        start = 0
        while start < n_samples:
            stop = min(start + nb_full, n_samples)
            nb = stop - start
            for b in range(nb):
                xr = x[orders[ep, start + b]]
                for j in range(n_hidden):
                    pre[b, j] = _dot(w1[j], xr)
            _activate_rows(pre, hid, nb, act)
            for b in range(nb):
                yr = y[orders[ep, start + b]]
                for k in range(n_out):
                    err[b, k] = activation(_dot(w2[k], hid[b]), out_act) - yr[k]
                for j in range(n_hidden):
                    acc = 0.0
                    for k in range(n_out):
                        acc += err[b, k] * fb[k, j]
                    back[b, j] = acc * _derivative_at(pre[b, j], hid[b, j], act)
            scale = step_size / nb
            # W2 after the feedback signal was formed from the old W2
            for k in range(n_out):
                for j in range(n_hidden):
                    g = 0.0
                    for b in range(nb):
                        g += err[b, k] * hid[b, j]
                    w2[k, j] -= scale * g * hidden_signs[j]
            for b in range(nb):
                xr = x[orders[ep, start + b]]
                if flip_inputs:
                    for m in range(n_inputs):
                        signed[m] = xr[m] * input_signs[m]
                    xr = signed
                for j in range(n_hidden):
                    c = scale * back[b, j]
                    row = w1[j]
                    for m in range(n_inputs):
                        row[m] -= c * xr[m]
            if norm1 > 0.0:
                f1 = math.sqrt(_sum_squares(w1))
                f2 = math.sqrt(_sum_squares(w2))
                if not (math.isfinite(f1) and math.isfinite(f2)) or f1 == 0.0 or f2 == 0.0:
                    return ep + 1, -1
                r1 = norm1 / f1
                r2 = norm2 / f2
                for j in range(n_hidden):
                    row = w1[j]
                    for m in range(n_inputs):
                        row[m] *= r1
                for k in range(n_out):
                    for j in range(n_hidden):
                        w2[k, j] *= r2
            start = stop
        epoch = epoch_offset + ep + 1
        train_err = -1.0
        if threshold > 0.0 or epoch % record_every == 0:
            train_err = _dense_error(w1, w2, x, y, act, out_act, err_pre, err_z)
            if not math.isfinite(train_err):
                return ep + 1, -1
        if epoch % record_every == 0:
            slot = epoch // record_every
            if slot < train_curve.shape[0]:
                train_curve[slot] = train_err
                test_curve[slot] = _dense_error(
                    w1, w2, x_test, y_test, act, out_act, err_pre, err_z
                )
        if threshold > 0.0 and train_err < threshold:
            return ep + 1, 1
    if not (math.isfinite(_frobenius(w1)) and math.isfinite(_frobenius(w2))):
        return n_epochs, -1
    return n_epochs, 0


@njit(cache=True, fastmath=FASTMATH)
def train_online_steps(w1, w2, teacher, inputs, label_noise, rule):
    """Online learning, one fresh sample per step (Saad-Solla scaling), in place.

    For each row ``x`` of ``inputs`` (entries N(0, 1), dimension M), with ``a = W1 x``::

        e   = phi_out(W2* phi(W1* x)) + noise - phi_out(W2 phi(a))
        W1 += (eta / M) s_j ((W2^T e) * phi'(a))_j x_m r_m          (s: hidden_in_signs,
        W2 += (eta / M) e phi(a)^T D2                                 r: input_signs)

    so that ``alpha = steps / M`` is the time of the order-parameter ODEs. ``teacher`` is a
    :class:`~neurolearn._kernels.teacher_groups.TeacherWeights` (``W1*``, ``W2*``), ``rule`` an
    :class:`~neurolearn._kernels.teacher_groups.OnlineRule`; ``label_noise (steps, K)``.

    Returns
    -------
    int
        The number of steps run, or ``-(step + 1)`` when the weights became non-finite.
    """
    teacher_w1, teacher_w2 = teacher.w1, teacher.w2
    act, out_act = rule.activation, rule.output_activation
    input_signs, hidden_in_signs, hidden_signs = (
        rule.input_signs,
        rule.hidden_in_signs,
        rule.hidden_signs,
    )
    learning_rate, train_second_layer = rule.learning_rate, rule.train_second_layer
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
