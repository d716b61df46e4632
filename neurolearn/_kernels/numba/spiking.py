"""Clock-driven leaky integrate-and-fire E/I network with inhibitory STDP (numba kernel).

The step follows Brian2's default schedule so that both engines compute the same thing:

1. ``groups``: forward-Euler update of ``v`` (frozen while refractory) and of the synaptic
   variables, from the values at the start of the step;
2. ``thresholds``: a neuron spikes when it is not refractory and ``v > v_threshold``;
3. ``synapses``: spikes emitted ``delay_steps`` ago are delivered (pre-synaptic pathway, with the
   pre-spike iSTDP update), external Poisson counts are added, then post-synaptic spikes of this
   step apply the post-spike iSTDP update;
4. ``resets``: ``v = v_reset`` for the neurons that spiked.

Membrane (``conductance=True``; conductances in units of the leak conductance)::

    tau_m dv/dt = (v_rest - v) + g_e (E_e - v) + g_i (E_i - v) + I_i(t)

and with ``conductance=False`` (current-based, ``g`` in mV)::

    tau_m dv/dt = (v_rest - v) + g_e - g_i + I_i(t)

with ``dg_e/dt = -g_e / tau_e``, ``dg_i/dt = -g_i / tau_i`` (Euler: ``v += (dt/tau_m) (...)``,
``g *= 1 - dt/tau``, with the factors computed once; this rounds differently from Brian2's
generated expressions only in the last bit) and
``I_i(t) = bias_i + input_weight_i * u[(step - input_step0) // hold_steps]`` (the last value is
held after the end of ``u``).

Inhibitory plasticity (Vogels et al. 2011) on the inhibitory-to-excitatory synapses marked
``plastic``: traces ``x`` jump by 1 at each (delivered) pre- or post-synaptic spike and decay with
``tau_stdp``; on a delivered pre spike ``w <- clip(w + eta (x_post - alpha), 0, w_max)``, on a
post spike ``w <- clip(w + eta x_pre, 0, w_max)``. Traces are kept per neuron and decayed
exactly between events, as Brian2's event-driven synaptic traces are.

The kernel's arguments come in named groups (:class:`LIFParams`, :class:`STDPParams`,
:class:`Drive`, :class:`Connectivity`, :class:`State`, :class:`Outputs`), so that two time
constants cannot be swapped unnoticed and a batched kernel can reuse the same groups.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numba import njit, prange
from numba.typed import List

from neurolearn._kernels import FASTMATH

__all__ = [
    "lif_run",
    "lif_run_batch",
    "list_of",
    "list_push",
    "NEVER",
    "LIFParams",
    "STDPParams",
    "pcg64_state",
    "set_pcg64_state",
    "pcg64_next_double",
    "pcg64_poisson_small",
    "Drive",
    "Connectivity",
    "State",
    "Outputs",
]

#: ``last_spike`` value of a neuron that never spiked (far enough in the past for any period).
NEVER = -(2**40)


class LIFParams(NamedTuple):
    """Neuron and synapse constants of one network (floats in ms and mV, integers in steps)."""

    dt: float
    n_exc: int
    tau_m: float
    v_rest: float
    v_threshold: float
    v_reset: float
    ref_steps: int
    conductance: bool
    e_exc: float
    e_inh: float
    tau_exc: float
    tau_inh: float
    delay_steps: int


class STDPParams(NamedTuple):
    """Inhibitory STDP constants: learning rate ``eta``, target ``alpha``, trace ``tau``, cap."""

    eta: float
    alpha: float
    tau: float
    w_max: float


class Drive(NamedTuple):
    """Inputs: ``bias + input_weight * input_signal[(step - input_step0) // hold_steps]``
    (float arrays ``(N,)``, ``(N,)``, ``(T,)``) and external Poisson spikes: every step each
    neuron receives ``Poisson(ext_mean)`` counts (none when ``ext_mean`` is 0), each adding
    ``ext_weight`` to ``g_exc``. The counts are drawn in the kernel, step by step and neuron by
    neuron, from the run's ``numpy.random.Generator``: the same numbers, in the same order, as
    ``rng.poisson(ext_mean, size=(n_steps, N))``. When the generator is a ``PCG64`` and
    ``0 < ext_mean < 10``, ``pcg64`` holds its state (:func:`pcg64_state`) and the kernel draws
    with :func:`pcg64_poisson_small` on it, which is numpy's algorithm on numpy's stream (the
    caller writes the state back); otherwise ``pcg64`` is empty and the generator draws."""

    bias: np.ndarray
    input_weight: np.ndarray
    input_signal: np.ndarray
    hold_steps: int
    input_step0: int
    ext_mean: float
    ext_weight: float
    pcg64: np.ndarray


class Connectivity(NamedTuple):
    """Synapses in CSR by pre-synaptic neuron (``indptr``, ``pre``, ``post``, ``weight``), the
    ``plastic`` mask, and the plastic synapses grouped by post-synaptic neuron
    (``post_indptr``, ``post_syn``). ``weight`` is updated in place by plasticity."""

    indptr: np.ndarray
    pre: np.ndarray
    post: np.ndarray
    weight: np.ndarray
    plastic: np.ndarray
    post_indptr: np.ndarray
    post_syn: np.ndarray


class State(NamedTuple):
    """Dynamic state, updated in place: membrane, conductances, last spike step, STDP traces
    with the step they were last decayed to, and the ring buffer of delayed spikes."""

    v: np.ndarray
    g_exc: np.ndarray
    g_inh: np.ndarray
    last_spike: np.ndarray
    x_pre: np.ndarray
    x_pre_step: np.ndarray
    x_post: np.ndarray
    x_post_step: np.ndarray
    queue: np.ndarray
    queue_len: np.ndarray


class Outputs(NamedTuple):
    """Spike buffers ``spike_step``/``spike_id`` and the voltage trace ``v_trace
    (n_steps, len(trace_ids))`` of the neurons ``trace_ids``."""

    spike_step: np.ndarray
    spike_id: np.ndarray
    trace_ids: np.ndarray
    v_trace: np.ndarray


# numpy's PCG64 (128-bit LCG, XSL-RR output) on a state held as four uint64: high and low words
# of the state, then of the increment
_PCG_MUL_HI = np.uint64(2549297995355413924)
_PCG_MUL_LO = np.uint64(4865540595714422341)
_LOW32 = np.uint64(0xFFFFFFFF)
_U32 = np.uint64(32)


def pcg64_state(bit_generator) -> np.ndarray:
    """The state of a numpy ``PCG64`` as the ``uint64[4]`` :func:`pcg64_next_double` advances."""
    st = bit_generator.state["state"]
    mask = (1 << 64) - 1
    return np.array(
        [st["state"] >> 64, st["state"] & mask, st["inc"] >> 64, st["inc"] & mask],
        dtype=np.uint64,
    )


def set_pcg64_state(bit_generator, words: np.ndarray) -> None:
    """Give a numpy ``PCG64`` the state ``words`` (from :func:`pcg64_state`, advanced)."""
    state = bit_generator.state
    state["state"] = {
        "state": (int(words[0]) << 64) | int(words[1]),
        "inc": (int(words[2]) << 64) | int(words[3]),
    }
    bit_generator.state = state


@njit(cache=True, inline="always")
def _mul_hi_lo(a, b):
    """The 128-bit product of two uint64 as (high, low) words."""
    a0 = a & _LOW32
    a1 = a >> _U32
    b0 = b & _LOW32
    b1 = b >> _U32
    p00 = a0 * b0
    p01 = a0 * b1
    p10 = a1 * b0
    mid = (p00 >> _U32) + (p01 & _LOW32) + (p10 & _LOW32)
    hi = a1 * b1 + (p01 >> _U32) + (p10 >> _U32) + (mid >> _U32)
    return hi, a * b


@njit(cache=True, inline="always")
def pcg64_next_double(st):
    """numpy's ``next_double`` of ``PCG64``: advance the state ``st`` in place and return a
    uniform double in [0, 1) from the top 53 bits of the output."""
    hi, lo = _mul_hi_lo(st[1], _PCG_MUL_LO)
    hi = hi + st[0] * _PCG_MUL_LO + st[1] * _PCG_MUL_HI
    new_lo = lo + st[3]
    carry = np.uint64(1) if new_lo < lo else np.uint64(0)
    new_hi = hi + st[2] + carry
    st[0] = new_hi
    st[1] = new_lo
    rot = new_hi >> np.uint64(58)
    x = new_hi ^ new_lo
    out = (x >> rot) | (x << ((np.uint64(64) - rot) & np.uint64(63)))
    return np.float64(out >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@njit(cache=True, inline="always")
def pcg64_poisson_small(st, floor):
    """numpy's Poisson draw for a mean ``lam`` below 10 (multiply uniforms until the product
    falls to ``floor = exp(-lam)``) on the ``PCG64`` state ``st``."""
    count = 0
    prod = 1.0
    while True:
        prod *= pcg64_next_double(st)
        if prod > floor:
            count += 1
        else:
            return count


@njit(cache=True, fastmath=FASTMATH)
def _trace_at(x, x_step, j, step, dt, tau):
    """Decay trace ``j`` to ``step`` exactly (event-driven) and return it."""
    if x_step[j] != step:
        x[j] = x[j] * math.exp(-(step - x_step[j]) * dt / tau)
        x_step[j] = step
    return x[j]


@njit(cache=True, fastmath=FASTMATH)
def lif_run(step0, n_steps, params, stdp, drive, conn, state, out, rng):
    """Advance the network ``n_steps`` steps from absolute step ``step0``, in place.

    ``params`` (:class:`LIFParams`), ``stdp`` (:class:`STDPParams`), ``drive`` (:class:`Drive`),
    ``conn`` (:class:`Connectivity`), ``state`` (:class:`State`), ``out`` (:class:`Outputs`) and
    ``rng`` (the ``numpy.random.Generator`` of the external drive, advanced in place).
    ``state`` and ``conn.weight`` are updated in place. Spikes are written to
    ``out.spike_step``/``out.spike_id`` (capacity at least
    ``N * (n_steps // max(ref_steps, 1) + 1)``); ``out.v_trace[k]`` receives
    ``v[out.trace_ids]`` at the start of local step ``k``.

    Returns the number of spikes written, or ``-(s + 1)`` when ``v`` became non-finite at
    absolute step ``s``.
    """
    dt = params.dt
    n_exc = params.n_exc
    v_rest = params.v_rest
    v_threshold = params.v_threshold
    v_reset = params.v_reset
    ref_steps = params.ref_steps
    conductance = params.conductance
    e_exc = params.e_exc
    e_inh = params.e_inh
    delay_steps = params.delay_steps
    eta = stdp.eta
    alpha = stdp.alpha
    tau_stdp = stdp.tau
    w_max = stdp.w_max
    bias = drive.bias
    input_weight = drive.input_weight
    input_signal = drive.input_signal
    hold_steps = drive.hold_steps
    input_step0 = drive.input_step0
    ext_mean = drive.ext_mean
    ext_weight = drive.ext_weight
    indptr = conn.indptr
    pre = conn.pre
    post = conn.post
    weight = conn.weight
    plastic = conn.plastic
    post_indptr = conn.post_indptr
    post_syn = conn.post_syn
    v = state.v
    g_exc = state.g_exc
    g_inh = state.g_inh
    last_spike = state.last_spike
    x_pre = state.x_pre
    x_pre_step = state.x_pre_step
    x_post = state.x_post
    x_post_step = state.x_post_step
    queue = state.queue
    queue_len = state.queue_len
    spike_step = out.spike_step
    spike_id = out.spike_id
    trace_ids = out.trace_ids
    v_trace = out.v_trace
    n = v.shape[0]
    n_trace = trace_ids.shape[0]
    n_input = input_signal.shape[0]
    has_ext = ext_mean > 0.0
    pcg = drive.pcg64
    inline_rng = pcg.shape[0] == 4
    ext_floor = math.exp(-ext_mean)
    slots = delay_steps + 1
    spiking = np.empty(n, dtype=np.int64)
    n_spikes = 0
    # one rounding per factor, computed once: multiplications in the inner loop
    decay_exc = 1.0 - dt / params.tau_exc
    decay_inh = 1.0 - dt / params.tau_inh
    dt_over_tau = dt / params.tau_m
    for k in range(n_steps):
        s = step0 + k
        for t in range(n_trace):
            v_trace[k, t] = v[trace_ids[t]]
        # 1. state update (forward Euler from the values at the start of the step)
        u = 0.0
        if n_input > 0:
            idx = (s - input_step0) // hold_steps
            if idx >= n_input:
                idx = n_input - 1
            u = input_signal[idx]
        # the update of every neuron first (a loop without branches that vectorises: a
        # refractory neuron keeps its v), then the threshold test of the free neurons
        for i in range(n):
            ge = g_exc[i]
            gi = g_inh[i]
            g_exc[i] = ge * decay_exc
            g_inh[i] = gi * decay_inh
            vi = v[i]
            drive = bias[i] + input_weight[i] * u
            if conductance:
                dv = v_rest - vi + ge * (e_exc - vi) + gi * (e_inh - vi) + drive
            else:
                dv = v_rest - vi + ge - gi + drive
            v[i] = vi + dt_over_tau * dv if (s - last_spike[i]) >= ref_steps else vi
        bad = False
        n_now = 0
        for i in range(n):
            if (s - last_spike[i]) < ref_steps:
                continue
            vi = v[i]
            if not (abs(vi) < 1e300):
                bad = True
            # 2. threshold (a neuron's test needs only its own updated v)
            if vi > v_threshold:
                spiking[n_now] = i
                n_now += 1
                last_spike[i] = s
                spike_step[n_spikes] = s
                spike_id[n_spikes] = i
                n_spikes += 1
        if bad:
            return -(s + 1)
        slot = s % slots
        for m in range(n_now):
            queue[slot, m] = spiking[m]
        queue_len[slot] = n_now
        # 3. synapses: delivered pre-synaptic spikes, external drive, post-synaptic spikes
        dslot = (s - delay_steps) % slots
        if s - delay_steps >= 0:
            for m in range(queue_len[dslot]):
                j = queue[dslot, m]
                for syn in range(indptr[j], indptr[j + 1]):
                    target = post[syn]
                    if plastic[syn]:
                        xp = _trace_at(x_post, x_post_step, target, s, dt, tau_stdp)
                        w = weight[syn] + eta * (xp - alpha)
                        w = min(max(w, 0.0), w_max)
                        weight[syn] = w
                        g_inh[target] += w
                    elif j < n_exc:
                        g_exc[target] += weight[syn]
                    else:
                        g_inh[target] += weight[syn]
                _trace_at(x_pre, x_pre_step, j, s, dt, tau_stdp)
                x_pre[j] += 1.0
        if has_ext and inline_rng:
            for i in range(n):
                c = pcg64_poisson_small(pcg, ext_floor)
                if c != 0:
                    g_exc[i] += ext_weight * c
        elif has_ext:
            for i in range(n):
                c = rng.poisson(ext_mean)
                if c != 0:
                    g_exc[i] += ext_weight * c
        for m in range(n_now):
            i = spiking[m]
            _trace_at(x_post, x_post_step, i, s, dt, tau_stdp)
            x_post[i] += 1.0
            for q in range(post_indptr[i], post_indptr[i + 1]):
                syn = post_syn[q]
                xq = _trace_at(x_pre, x_pre_step, pre[syn], s, dt, tau_stdp)
                w = weight[syn] + eta * xq
                weight[syn] = min(max(w, 0.0), w_max)
        # 4. reset
        for m in range(n_now):
            v[spiking[m]] = v_reset
    return n_spikes


@njit(cache=True, parallel=True)
def lif_run_batch(step0, n_steps, params, stdp, drives, conns, states, outs, rngs, counts):
    """Advance many independent networks ``n_steps`` steps each, spread over the threads.

    Every argument after ``n_steps`` is a ``numba.typed.List`` with one entry per network (the
    groups and generator :func:`lif_run` takes), and ``step0`` an int64 array of absolute start
    steps. Network ``b`` runs :func:`lif_run` exactly as a single call would (its own arrays, its
    own generator, nothing shared), so a batch reproduces the single runs bit for bit. Networks
    with ``counts[b] < 0`` on entry (diverged earlier) are skipped; otherwise ``counts[b]``
    receives :func:`lif_run`'s return value.
    """
    for j in prange(len(params)):
        b = np.int64(j)  # typed lists take a signed index
        if counts[b] >= 0:
            counts[b] = lif_run(
                step0[b],
                n_steps,
                params[b],
                stdp[b],
                drives[b],
                conns[b],
                states[b],
                outs[b],
                rngs[b],
            )


# Typed lists of a batch are built through these compiled (and disk-cached) functions: building
# them from Python would compile the list's methods anew in every process.
@njit(cache=True)
def list_of(item):
    """A ``numba.typed.List`` holding ``item``."""
    out = List()
    out.append(item)
    return out


@njit(cache=True)
def list_push(items, item):
    """Append ``item`` to the typed list ``items``."""
    items.append(item)
