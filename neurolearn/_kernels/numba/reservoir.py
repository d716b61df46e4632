"""Jitted reservoir kernels: pure functions over arrays, caller-allocated outputs.

Two unit kinds share one recurrent step, ``pre = W s + W_in u + b``:

* ``KIND_ESN`` (tanh echo-state network, state ``x``):
  ``x <- (1 - a) x + a tanh(pre)``
* ``KIND_EI`` (E/I rate reservoir, potential ``v`` and rate ``r``):
  ``v <- lam v + pre``, ``r = 1 / (1 + exp(-c (v - theta)))``; the stored state is ``r``.

Layouts and paths (the engine in :mod:`neurolearn.reservoir._engine` chooses):

* ``run_csr`` one reservoir, serial; ``run_csr_rows`` one reservoir, rows of each step split
  over threads; ``run_batch`` many reservoirs, one whole time loop per thread;
  ``run_csr_multi`` one reservoir driven by many input sequences: the state is an ``(n, B)``
  block and each weight is read once per step for the whole block (sparse times dense);
  ``run_dense`` / ``run_dense_multi`` dense ``W`` through BLAS ``gemv`` / ``gemm``.
* CSR indices are unsigned (``uint16`` when ``n <= 65536``, else ``uint32``) and every array
  index inside the hot loops is cast to ``uintp``: signed indices make numba emit a negative-
  index wraparound test per load, which cost more than the multiply-add itself.
* A row's dot product keeps four partial sums, so consecutive non-zeros do not wait for one
  another's addition; the result differs from a left-to-right sum only by rounding.
* The recurrent weights and the state may be float32 (half the bytes per non-zero); the
  pre-activation, the nonlinearity and the E/I potential are always computed in float64.
* ``tanh`` and the logistic function come from :mod:`neurolearn._kernels.numba.elementary`
  (no library call), and the unit update is one loop compiled with ``error_model="numpy"``, so
  it vectorises: libm's scalar ``tanh`` (16 ns per unit), then a division check that kept the
  loop scalar (5 ns), dominated small reservoirs.
* Divergence: the step where the stored state first holds NaN/Inf is returned (or -1).
* Arguments come in named groups (:mod:`neurolearn._kernels.reservoir_groups`): the network
  (:class:`Network`, :class:`NetworkStack`), the state (:class:`State`), what a batched run
  writes (:class:`BatchOutputs`); each kernel reads the fields into locals before its loops.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from neurolearn._kernels import FASTMATH
from neurolearn._kernels.numba.elementary import sigmoid, tanh
from neurolearn._kernels.reservoir_groups import (
    BatchOutputs,
    ELLNetwork,
    LinearReadout,
    LocalRule,
    Network,
    NetworkStack,
    RateRecord,
    State,
)

__all__ = [
    "KIND_ESN",
    "KIND_EI",
    "BatchOutputs",
    "ELLNetwork",
    "LinearReadout",
    "LocalRule",
    "Network",
    "NetworkStack",
    "RateRecord",
    "State",
    "adapt_local",
    "run_batch",
    "run_closed_loop",
    "run_csr",
    "run_csr_multi",
    "run_csr_rows",
    "run_dense",
    "run_dense_multi",
]

KIND_ESN = 0
KIND_EI = 1

_BIG = 1.7976931348623157e308


@njit(cache=True, fastmath=FASTMATH, inline="always")
def _row_dot(indptr, indices, data, s, i):
    """``sum_p data[p] * s[indices[p]]`` over row ``i``, four partial sums."""
    p = np.uintp(indptr[i])
    stop = np.uintp(indptr[i + 1])
    a0 = 0.0
    a1 = 0.0
    a2 = 0.0
    a3 = 0.0
    four = np.uintp(4)
    while p + four <= stop:
        a0 += data[p] * s[np.uintp(indices[p])]
        a1 += data[p + np.uintp(1)] * s[np.uintp(indices[p + np.uintp(1)])]
        a2 += data[p + np.uintp(2)] * s[np.uintp(indices[p + np.uintp(2)])]
        a3 += data[p + np.uintp(3)] * s[np.uintp(indices[p + np.uintp(3)])]
        p += four
    while p < stop:
        a0 += data[p] * s[np.uintp(indices[p])]
        p += np.uintp(1)
    return (a0 + a1) + (a2 + a3)


@njit(cache=True, fastmath=FASTMATH)
def _drive_rows(net, u_t, s, pre, r0, r1):
    """``pre[i] = b_i + (W s)_i + (W_in u_t)_i`` for rows ``r0 <= i < r1`` (CSR ``W``).

    The input term is added in a second loop over the rows that vectorises (the same sums in
    the same order as adding it row by row)."""
    indptr = net.indptr
    indices = net.indices
    data = net.data
    w_in = net.w_in
    bias = net.bias
    for i in range(r0, r1):
        pre[i] = bias[i] + _row_dot(indptr, indices, data, s, i)
    for k in range(u_t.shape[0]):
        uk = u_t[k]
        for i in range(r0, r1):
            pre[i] += w_in[i, k] * uk


@njit(cache=True, fastmath=FASTMATH, error_model="numpy")
def _activate(kind, leak, gain, threshold, pre, s, v):
    """Unit update in place from ``pre`` (float64): the state ``s`` and, for E/I, ``v``.

    ``leak`` and ``v`` have the length of ``pre``. One loop over the units that vectorises
    (the elementary ``tanh`` and ``sigmoid`` make no library call). Returns 1 when a new state
    is NaN/Inf, else 0.
    """
    bad = False
    if kind == KIND_ESN:
        for i in range(pre.shape[0]):
            x = (1.0 - leak[i]) * s[i] + leak[i] * tanh(pre[i])
            s[i] = x
            bad |= not abs(x) <= _BIG
    else:
        for i in range(pre.shape[0]):
            vi = leak[i] * v[i] + pre[i]
            v[i] = vi
            x = sigmoid(gain * (vi - threshold))
            s[i] = x
            bad |= not abs(x) <= _BIG
    return 1 if bad else 0


@njit(cache=True, fastmath=FASTMATH, error_model="numpy")
def _activate_into(kind, leak, gain, threshold, pre, s_old, s_new, v):
    """:func:`_activate` writing the new state to ``s_new``, which must not overlap ``s_old``
    (an overlap would make the vectorised loop's run-time alias check choose the scalar one)."""
    bad = False
    if kind == KIND_ESN:
        for i in range(pre.shape[0]):
            x = (1.0 - leak[i]) * s_old[i] + leak[i] * tanh(pre[i])
            s_new[i] = x
            bad |= not abs(x) <= _BIG
    else:
        for i in range(pre.shape[0]):
            vi = leak[i] * v[i] + pre[i]
            v[i] = vi
            x = sigmoid(gain * (vi - threshold))
            s_new[i] = x
            bad |= not abs(x) <= _BIG
    return 1 if bad else 0


@njit(cache=True, fastmath=FASTMATH)
def _step_csr(net, u_t, s, v, pre):
    """One CSR step in place on ``s`` and ``v`` with the caller-owned work array ``pre (n,)``;
    returns 1 when the new state is non-finite."""
    _drive_rows(net, u_t, s, pre, 0, s.shape[0])
    return _activate(net.kind, net.leak, net.gain, net.threshold, pre, s, v)


@njit(cache=True, fastmath=FASTMATH)
def _run_csr(net, u, state, states_out):
    s = state.s
    v = state.v
    n = s.shape[0]
    store = states_out.shape[0] > 0
    pre = np.empty(n)
    for t in range(u.shape[0]):
        bad = _step_csr(net, u[t], s, v, pre)
        if store:
            states_out[t, :] = s
        if bad:
            return t
    return -1


@njit(cache=True, fastmath=FASTMATH)
def run_csr(net, u, state, states_out):
    """One reservoir (a :class:`Network`, CSR form) over ``T = u.shape[0]`` steps, serial, in
    place on ``state`` (a :class:`State`).

    Shapes: ``u (T, d)``, ``state.s (n,)`` (dtype of ``net.data``), ``state.v (n,)`` float64,
    ``states_out (T, n)`` or ``(0, n)`` to keep only the final state. Returns the first
    non-finite step or -1.
    """
    return _run_csr(net, u, state, states_out)


@njit(cache=True, fastmath=FASTMATH)
def run_dense(net, u, state, states_out):
    """:func:`run_csr` with the dense ``net.dense (n, n)``: one BLAS ``gemv`` per step."""
    kind = net.kind
    W = net.dense
    w_in = net.w_in
    bias = net.bias
    leak = net.leak
    gain = net.gain
    threshold = net.threshold
    s = state.s
    v = state.v
    n = s.shape[0]
    d = u.shape[1]
    store = states_out.shape[0] > 0
    prod = np.empty(n, dtype=s.dtype)
    pre = np.empty(n)
    for t in range(u.shape[0]):
        np.dot(W, s, prod)
        for i in range(n):
            acc = bias[i] + prod[i]
            for k in range(d):
                acc += w_in[i, k] * u[t, k]
            pre[i] = acc
        bad = _activate(kind, leak, gain, threshold, pre, s, v)
        if store:
            states_out[t, :] = s
        if bad:
            return t
    return -1


@njit(cache=True, fastmath=FASTMATH)
def _first_nonfinite(s):
    for i in range(s.shape[0]):
        if not np.isfinite(s[i]):
            return True
    return False


@njit(cache=True, fastmath=FASTMATH, parallel=True)
def run_batch(nets, u, start, out):
    """Advance ``B`` reservoirs over ``T`` steps, one reservoir's whole time loop per thread.

    ``nets`` is a :class:`NetworkStack` of ``Bw = B`` reservoirs (or 1, shared), ``u (Bu, T, d)``
    with ``Bu = B`` or 1, ``start`` a :class:`State` of ``(B, n)`` starting states and ``out``
    the :class:`BatchOutputs`.
    """
    # every field is read into a local before the parallel loop: a write through a named
    # tuple's field inside it (``out.diverged_at[b] = ...``) did not reach the caller's array
    kind = nets.kind
    indptr = nets.indptr
    indices = nets.indices
    data = nets.data
    w_in = nets.w_in
    bias = nets.bias
    leak = nets.leak
    gain = nets.gain
    threshold = nets.threshold
    s0 = start.s
    v0 = start.v
    states_out = out.states
    s_final = out.s_final
    v_final = out.v_final
    diverged_at = out.diverged_at
    n_batch = s0.shape[0]
    w_stride = 1 if indptr.shape[0] > 1 else 0
    u_stride = 1 if u.shape[0] > 1 else 0
    no_dense = np.empty((0, 0), dtype=data.dtype)
    for b in prange(n_batch):
        wb = b * w_stride
        ub = b * u_stride
        s = s0[b].copy()
        v = v0[b].copy()
        net = Network(
            kind,
            indptr[wb],
            indices[wb],
            data[wb],
            no_dense,
            w_in[wb],
            bias[wb],
            leak[wb],
            gain[wb],
            threshold[wb],
        )
        diverged_at[b] = _run_csr(net, u[ub], State(s, v), states_out[b])
        s_final[b, :] = s
        v_final[b, :] = v


@njit(cache=True, fastmath=FASTMATH)
def _multi_group(net, dense, u, start, out, b0, b1):
    """Sequences ``b0 <= b < b1`` of :func:`run_csr_multi` (state block ``(n, b1 - b0)``)."""
    kind = net.kind
    indptr = net.indptr
    indices = net.indices
    data = net.data
    W = net.dense
    w_in = net.w_in
    bias = net.bias
    leak = net.leak
    gain = net.gain
    threshold = net.threshold
    s0 = start.s
    v0 = start.v
    states_out = out.states
    s_final = out.s_final
    v_final = out.v_final
    diverged_at = out.diverged_at
    n = s0.shape[1]
    m = b1 - b0
    d = u.shape[2]
    store = states_out.shape[1] > 0
    size = n * m
    s_flat = np.empty(size, dtype=s0.dtype)
    S = s_flat.reshape((n, m))
    v_flat = np.empty(size)
    leak_flat = np.empty(size)
    for i in range(n):
        for c in range(m):
            S[i, c] = s0[b0 + c, i]
            v_flat[i * m + c] = v0[b0 + c, i]
            leak_flat[i * m + c] = leak[i]
    prod = np.empty((n, m), dtype=s0.dtype)
    pre = np.empty(size)
    for c in range(m):
        diverged_at[b0 + c] = -1
    for t in range(u.shape[1]):
        if dense:
            np.dot(W, S, prod)
        for i in range(n):
            base = np.uintp(i * m)
            for c in range(m):
                acc = bias[i]
                for k in range(d):
                    acc += w_in[i, k] * u[b0 + c, t, k]
                pre[base + np.uintp(c)] = acc
            if dense:
                for c in range(m):
                    pre[base + np.uintp(c)] += prod[i, c]
            else:
                # four non-zeros per pass over the row of the block: one load and one store
                # of the partial sums for four multiply-adds
                p = np.uintp(indptr[i])
                stop = np.uintp(indptr[i + 1])
                um = np.uintp(m)
                while p + np.uintp(4) <= stop:
                    w0 = data[p]
                    w1 = data[p + np.uintp(1)]
                    w2 = data[p + np.uintp(2)]
                    w3 = data[p + np.uintp(3)]
                    c0 = np.uintp(indices[p]) * um
                    c1 = np.uintp(indices[p + np.uintp(1)]) * um
                    c2 = np.uintp(indices[p + np.uintp(2)]) * um
                    c3 = np.uintp(indices[p + np.uintp(3)]) * um
                    for c in range(m):
                        uc = np.uintp(c)
                        pre[base + uc] += (w0 * s_flat[c0 + uc] + w1 * s_flat[c1 + uc]) + (
                            w2 * s_flat[c2 + uc] + w3 * s_flat[c3 + uc]
                        )
                    p += np.uintp(4)
                while p < stop:
                    w0 = data[p]
                    c0 = np.uintp(indices[p]) * um
                    for c in range(m):
                        pre[base + np.uintp(c)] += w0 * s_flat[c0 + np.uintp(c)]
                    p += np.uintp(1)
        bad = _activate(kind, leak_flat, gain, threshold, pre, s_flat, v_flat)
        if store:
            for c in range(m):
                for i in range(n):
                    states_out[b0 + c, t, i] = S[i, c]
        if bad:
            for c in range(m):
                if diverged_at[b0 + c] < 0:
                    for i in range(n):
                        if not abs(S[i, c]) <= _BIG:
                            diverged_at[b0 + c] = t
                            break
    for c in range(m):
        for i in range(n):
            s_final[b0 + c, i] = S[i, c]
            v_final[b0 + c, i] = v_flat[i * m + c]


@njit(cache=True, fastmath=FASTMATH, parallel=True)
def run_csr_multi(net, u, start, out, group_bounds):
    """One reservoir driven by ``B`` input sequences: sparse times dense block each step.

    The state is held as an ``(n, B_g)`` block per group of sequences, so each non-zero
    ``W_ij`` is loaded once per step and multiplied into a contiguous row of ``B_g`` states.
    Groups (``group_bounds``, e.g. ``[0, 16, 32]``) run on separate threads with no
    synchronisation. ``net`` is one :class:`Network` (CSR form), ``u (B, T, d)``, ``start`` and
    ``out`` as in :func:`run_batch`. A sequence that diverges is recorded in
    ``out.diverged_at`` and the others run on.
    """
    for g in prange(group_bounds.shape[0] - 1):
        _multi_group(net, False, u, start, out, group_bounds[g], group_bounds[g + 1])


@njit(cache=True, fastmath=FASTMATH, parallel=True)
def run_dense_multi(net, u, start, out, group_bounds):
    """:func:`run_csr_multi` with ``net.dense``: one BLAS ``gemm`` per step and group."""
    for g in prange(group_bounds.shape[0] - 1):
        _multi_group(net, True, u, start, out, group_bounds[g], group_bounds[g + 1])


@njit(cache=True, fastmath=FASTMATH)
def run_closed_loop(net, readout, start, n_steps, states_out, y_out):
    """Free-running (generative) mode of one reservoir (a :class:`Network`, CSR form).

    The readout's prediction from the current state is the next input:
    ``y(t) = W_out s(t) + b_out``, ``u(t+1) = y(t)``; ``y_out[0]`` is the prediction from the
    ``start`` state itself (a :class:`State`, left unchanged). ``readout`` is a
    :class:`LinearReadout` ``(w_out (d, n), b_out (d,))``, ``y_out (n_steps, d)``,
    ``states_out (n_steps, n)`` (``states_out[0] = start.s``); returns the first non-finite
    step or -1.
    """
    w_out = readout.w_out
    b_out = readout.b_out
    n = start.s.shape[0]
    d = w_out.shape[0]
    s = start.s.copy()
    v = start.v.copy()
    y = np.empty((1, d))
    pre = np.empty(n)
    for t in range(n_steps):
        if t > 0:
            _step_csr(net, y[0], s, v, pre)
        for k in range(d):
            acc = b_out[k]
            for i in range(n):
                acc += w_out[k, i] * s[i]
            y[0, k] = acc
            y_out[t, k] = acc
        states_out[t, :] = s
        if _first_nonfinite(y[0]):
            return t
    return -1


@njit(cache=True, fastmath=FASTMATH)
def adapt_local(net, rule, u, v, record):
    """Local inhibitory adaptation toward per-unit target rates, in place on ``net.inh_w``.

    Each step: ``v <- lam v + A_E r - A_I r + W_in u``, ``r = sigmoid(c (v - theta))``, then
    for every existing inhibitory synapse onto unit i
    ``A_I[i, j] <- max(0, A_I[i, j] + eta_t (r_i - rho_i))``.

    ``net`` is an :class:`ELLNetwork` (fixed in-degree layout), ``rule`` a :class:`LocalRule`
    (``learning_rate (T,)`` is the per-step schedule, ``target (n,)`` the rates rho), ``u (T,
    d)``. ``v (n,)`` is the potential at the start and is left at the end, so that successive
    calls continue one run (a chunked adaptation with a convergence check between chunks).
    ``record`` (a :class:`RateRecord`) receives the mean rate of each window and the sum of
    every unit's rate over the ``T`` steps. Returns the first non-finite step or -1.
    """
    exc_idx = net.exc_idx
    exc_w = net.exc_w
    inh_idx = net.inh_idx
    inh_w = net.inh_w
    w_in = net.w_in
    leak = net.leak
    gain = net.gain
    threshold = net.threshold
    learning_rate = rule.learning_rate
    target = rule.target
    record_every = record.record_every
    rate_record = record.rate_record
    rate_sum = record.rate_sum
    n = exc_idx.shape[0]
    n_steps = u.shape[0]
    d = u.shape[1]
    r = np.empty(n)
    r_new = np.empty(n)
    for i in range(n):
        r[i] = sigmoid(gain * (v[i] - threshold))
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
            r_new[i] = sigmoid(gain * (v[i] - threshold))
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


@njit(cache=True, fastmath=FASTMATH)
def _step_rows(net, u_t, cur, nxt, v, pre, r0, r1):
    """Rows ``r0 <= i < r1`` of one step of :func:`run_csr_rows`: ``nxt`` from ``cur``."""
    _drive_rows(net, u_t, cur, pre, r0, r1)
    return _activate_into(
        net.kind,
        net.leak[r0:r1],
        net.gain,
        net.threshold,
        pre[r0:r1],
        cur[r0:r1],
        nxt[r0:r1],
        v[r0:r1],
    )


@njit(cache=True, fastmath=FASTMATH, parallel=True)
def run_csr_rows(net, u, state, states_out, blocks):
    """:func:`run_csr` with the rows of each step split over threads.

    ``blocks`` holds the first row of each block and ``n`` (blocks of about equal non-zeros,
    one per thread). Each block writes its rows of the next state into the other half of a
    two-row buffer, so all blocks read the same previous state. Same numbers as
    :func:`run_csr` bit for bit.
    """
    s = state.s
    v = state.v
    n = s.shape[0]
    n_blocks = blocks.shape[0] - 1
    store = states_out.shape[0] > 0
    buf = np.empty((2, n), dtype=s.dtype)
    buf[0, :] = s
    pre = np.empty(n)
    flags = np.zeros(n_blocks, dtype=np.int64)
    n_steps = u.shape[0]
    for t in range(n_steps):
        cur = buf[t % 2]
        nxt = buf[(t + 1) % 2]
        for blk in prange(n_blocks):
            r0 = blocks[blk]
            r1 = blocks[blk + 1]
            flags[blk] = _step_rows(net, u[t], cur, nxt, v, pre, r0, r1)
            if store:
                states_out[t, r0:r1] = nxt[r0:r1]
        if flags.sum() > 0:
            s[:] = nxt
            return t
    s[:] = buf[n_steps % 2]
    return -1
