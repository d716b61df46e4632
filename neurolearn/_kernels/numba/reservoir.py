"""Jitted reservoir kernels: pure functions over arrays, caller-allocated outputs.

Two unit kinds share one sparse (CSR) recurrent step, ``pre = W s + W_in u + b``:

* ``KIND_ESN`` (tanh echo-state network, state ``x``):
  ``x <- (1 - a) x + a tanh(pre)``
* ``KIND_EI`` (E/I rate reservoir, potential ``v`` and rate ``r``):
  ``v <- lam v + pre``, ``r = 1 / (1 + exp(-c (v - theta)))``; the stored state is ``r``.

Batches: weights carry a leading axis ``Bw`` and inputs ``Bu``; each is 1 or the batch size
``B``. Reservoirs are independent, so the batch is split over threads (``prange``) and every
thread runs its reservoir's whole time loop into its own output slice.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from neurolearn.backend import FASTMATH

KIND_ESN = 0
KIND_EI = 1


@njit(cache=True, fastmath=FASTMATH)
def _sigmoid(x):
    if x >= 0.0:
        return 1.0 / (1.0 + np.exp(-x))
    z = np.exp(x)
    return z / (1.0 + z)


@njit(cache=True, fastmath=FASTMATH)
def _advance(kind, indptr, indices, data, w_in, bias, leak, gain, threshold, u_t, s, v, pre):
    """One step of one reservoir, in place on ``s`` (stored state) and ``v`` (EI potential)."""
    n = s.shape[0]
    d = u_t.shape[0]
    for i in range(n):
        acc = bias[i]
        for p in range(indptr[i], indptr[i + 1]):
            acc += data[p] * s[indices[p]]
        for k in range(d):
            acc += w_in[i, k] * u_t[k]
        pre[i] = acc
    if kind == KIND_ESN:
        for i in range(n):
            s[i] = (1.0 - leak[i]) * s[i] + leak[i] * np.tanh(pre[i])
    else:
        for i in range(n):
            v[i] = leak[i] * v[i] + pre[i]
            s[i] = _sigmoid(gain * (v[i] - threshold))


@njit(cache=True, fastmath=FASTMATH)
def _first_nonfinite(s):
    for i in range(s.shape[0]):
        if not np.isfinite(s[i]):
            return True
    return False


@njit(cache=True, fastmath=FASTMATH, parallel=True)
def run_batch(
    kind,
    indptr,
    indices,
    data,
    w_in,
    bias,
    leak,
    gain,
    threshold,
    u,
    s0,
    v0,
    states_out,
    s_final,
    v_final,
    diverged_at,
):
    """Advance ``B`` reservoirs over ``T`` steps.

    Shapes: ``indptr (Bw, n+1)``, ``indices/data (Bw, nnz_max)``, ``w_in (Bw, n, d)``,
    ``bias/leak (Bw, n)``, ``gain/threshold (Bw,)``, ``u (Bu, T, d)``, ``s0/v0 (B, n)``,
    ``states_out (B, T, n)`` (or ``(B, 0, n)`` to keep only the final state),
    ``s_final/v_final (B, n)``, ``diverged_at (B,)`` (first non-finite step or -1).
    """
    n_batch = s0.shape[0]
    n = s0.shape[1]
    n_steps = u.shape[1]
    store = states_out.shape[1] > 0
    w_stride = 1 if indptr.shape[0] > 1 else 0
    u_stride = 1 if u.shape[0] > 1 else 0
    for b in prange(n_batch):
        wb = b * w_stride
        ub = b * u_stride
        s = s0[b].copy()
        v = v0[b].copy()
        pre = np.empty(n)
        diverged_at[b] = -1
        for t in range(n_steps):
            _advance(
                kind,
                indptr[wb],
                indices[wb],
                data[wb],
                w_in[wb],
                bias[wb],
                leak[wb],
                gain[wb],
                threshold[wb],
                u[ub, t],
                s,
                v,
                pre,
            )
            if store:
                states_out[b, t, :] = s
            if _first_nonfinite(s):
                diverged_at[b] = t
                break
        s_final[b, :] = s
        v_final[b, :] = v


@njit(cache=True, fastmath=FASTMATH)
def run_closed_loop(
    kind,
    indptr,
    indices,
    data,
    w_in,
    bias,
    leak,
    gain,
    threshold,
    w_out,
    b_out,
    s0,
    v0,
    n_steps,
    states_out,
    y_out,
):
    """Free-running (generative) mode of one reservoir.

    The readout's prediction from the current state is the next input:
    ``y(t) = W_out s(t) + b_out``, ``u(t+1) = y(t)``; ``y_out[0]`` is the prediction from ``s0``
    itself. ``w_out (d, n)``, ``b_out (d,)``, ``y_out (n_steps, d)``, ``states_out (n_steps, n)``
    (``states_out[0] = s0``); returns the first non-finite step or -1.
    """
    n = s0.shape[0]
    d = w_out.shape[0]
    s = s0.copy()
    v = v0.copy()
    pre = np.empty(n)
    y = np.empty(d)
    for t in range(n_steps):
        if t > 0:
            _advance(kind, indptr, indices, data, w_in, bias, leak, gain, threshold, y, s, v, pre)
        for k in range(d):
            acc = b_out[k]
            for i in range(n):
                acc += w_out[k, i] * s[i]
            y[k] = acc
            y_out[t, k] = acc
        states_out[t, :] = s
        if _first_nonfinite(y):
            return t
    return -1


@njit(cache=True, fastmath=FASTMATH)
def adapt_local(
    exc_idx,
    exc_w,
    inh_idx,
    inh_w,
    w_in,
    leak,
    gain,
    threshold,
    u,
    learning_rate,
    target,
    v,
    record_every,
    rate_record,
    rate_sum,
):
    """Local inhibitory adaptation toward per-unit target rates, in place on ``inh_w``.

    Each step: ``v <- lam v + A_E r - A_I r + W_in u``, ``r = sigmoid(c (v - theta))``, then
    for every existing inhibitory synapse onto unit i
    ``A_I[i, j] <- max(0, A_I[i, j] + eta_t (r_i - rho_i))``.

    Fixed in-degree ("ELL") layout: ``exc_idx/exc_w (n, k_E)``, ``inh_idx/inh_w (n, k_I)``.
    ``learning_rate (T,)`` is the per-step schedule. ``v (n,)`` is the potential at the start
    and is left at the end, so that successive calls continue one run (a chunked adaptation
    with a convergence check between chunks). ``rate_record (T // record_every, n)`` receives
    the mean rate of each window; ``rate_sum (n,)`` the sum of every unit's rate over the
    ``T`` steps. Returns the first non-finite step or -1.
    """
    n = exc_idx.shape[0]
    n_steps = u.shape[0]
    d = u.shape[1]
    r = np.empty(n)
    r_new = np.empty(n)
    for i in range(n):
        r[i] = _sigmoid(gain * (v[i] - threshold))
        rate_sum[i] = 0.0
    window = np.zeros(n)
    row = 0
    for t in range(n_steps):
        for i in range(n):
            acc = 0.0
            for p in range(exc_idx.shape[1]):
                acc += exc_w[i, p] * r[exc_idx[i, p]]
            for p in range(inh_idx.shape[1]):
                acc -= inh_w[i, p] * r[inh_idx[i, p]]
            for k in range(d):
                acc += w_in[i, k] * u[t, k]
            v[i] = leak[i] * v[i] + acc
            r_new[i] = _sigmoid(gain * (v[i] - threshold))
        eta = learning_rate[t]
        for i in range(n):
            r[i] = r_new[i]
            dw = eta * (r[i] - target[i])
            for p in range(inh_idx.shape[1]):
                w = inh_w[i, p] + dw
                inh_w[i, p] = w if w > 0.0 else 0.0
            window[i] += r[i]
            rate_sum[i] += r[i]
        if _first_nonfinite(r):
            return t
        if (t + 1) % record_every == 0 and row < rate_record.shape[0]:
            for i in range(n):
                rate_record[row, i] = window[i] / record_every
                window[i] = 0.0
            row += 1
    return -1


@njit(cache=True, fastmath=FASTMATH, parallel=True)
def run_rows_parallel(
    kind,
    indptr,
    indices,
    data,
    w_in,
    bias,
    leak,
    gain,
    threshold,
    u,
    s0,
    v0,
    states_out,
    s_final,
    v_final,
):
    """One large reservoir, rows of each step split over threads (same equations as
    :func:`run_batch` with ``B = 1``; 1-D/2-D arrays without the batch axis).
    Returns the first non-finite step or -1.

    The step is written out here rather than shared with :func:`_advance` through per-row
    helper functions: measured, such helpers made the serial kernel ~30% slower at N = 100.
    """
    n = s0.shape[0]
    d = u.shape[1]
    s = s0.copy()
    v = v0.copy()
    s_new = np.empty(n)
    store = states_out.shape[0] > 0
    for t in range(u.shape[0]):
        for i in prange(n):
            acc = bias[i]
            for p in range(indptr[i], indptr[i + 1]):
                acc += data[p] * s[indices[p]]
            for k in range(d):
                acc += w_in[i, k] * u[t, k]
            if kind == KIND_ESN:
                s_new[i] = (1.0 - leak[i]) * s[i] + leak[i] * np.tanh(acc)
            else:
                v[i] = leak[i] * v[i] + acc
                s_new[i] = _sigmoid(gain * (v[i] - threshold))
        s[:] = s_new
        if store:
            states_out[t, :] = s
        if _first_nonfinite(s):
            s_final[:] = s
            v_final[:] = v
            return t
    s_final[:] = s
    v_final[:] = v
    return -1
