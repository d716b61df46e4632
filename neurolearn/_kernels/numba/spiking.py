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
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from neurolearn._kernels import FASTMATH

__all__ = ["lif_run", "NEVER"]

#: ``last_spike`` value of a neuron that never spiked (far enough in the past for any period).
NEVER = -(2**40)


@njit(cache=True, fastmath=FASTMATH)
def _trace_at(x, x_step, j, step, dt, tau):
    """Decay trace ``j`` to ``step`` exactly (event-driven) and return it."""
    if x_step[j] != step:
        x[j] = x[j] * math.exp(-(step - x_step[j]) * dt / tau)
        x_step[j] = step
    return x[j]


@njit(cache=True, fastmath=FASTMATH)
def lif_run(
    step0,
    n_steps,
    dt,
    n_exc,
    tau_m,
    v_rest,
    v_threshold,
    v_reset,
    ref_steps,
    conductance,
    e_exc,
    e_inh,
    tau_exc,
    tau_inh,
    bias,
    input_weight,
    input_signal,
    hold_steps,
    input_step0,
    ext_counts,
    ext_weight,
    indptr,
    pre,
    post,
    weight,
    plastic,
    post_indptr,
    post_syn,
    delay_steps,
    eta,
    alpha,
    tau_stdp,
    w_max,
    v,
    g_exc,
    g_inh,
    last_spike,
    x_pre,
    x_pre_step,
    x_post,
    x_post_step,
    queue,
    queue_len,
    spike_step,
    spike_id,
    trace_ids,
    v_trace,
):
    """Advance the network ``n_steps`` steps from absolute step ``step0``, in place.

    State arrays (``v``, ``g_*``, ``last_spike``, traces, ``queue``, ``weight``) are updated in
    place. Spikes are written to ``spike_step``/``spike_id`` (capacity at least
    ``N * (n_steps // max(ref_steps, 1) + 1)``); ``v_trace[k]`` receives ``v[trace_ids]`` at the
    start of local step ``k``. ``ext_counts`` has ``n_steps`` rows (external spike counts, each
    adding ``ext_weight`` to ``g_exc``) or zero rows for no external drive.

    Returns the number of spikes written, or ``-(s + 1)`` when ``v`` became non-finite at
    absolute step ``s``.
    """
    n = v.shape[0]
    n_trace = trace_ids.shape[0]
    n_input = input_signal.shape[0]
    has_ext = ext_counts.shape[0] > 0
    slots = delay_steps + 1
    spiking = np.empty(n, dtype=np.int64)
    n_spikes = 0
    # one rounding per factor, computed once: multiplications in the inner loop
    decay_exc = 1.0 - dt / tau_exc
    decay_inh = 1.0 - dt / tau_inh
    dt_over_tau = dt / tau_m
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
        bad = False
        n_now = 0
        for i in range(n):
            ge = g_exc[i]
            gi = g_inh[i]
            g_exc[i] = ge * decay_exc
            g_inh[i] = gi * decay_inh
            if (s - last_spike[i]) < ref_steps:
                continue
            vi = v[i]
            drive = bias[i] + input_weight[i] * u
            if conductance:
                dv = v_rest - vi + ge * (e_exc - vi) + gi * (e_inh - vi) + drive
            else:
                dv = v_rest - vi + ge - gi + drive
            vi = vi + dt_over_tau * dv
            v[i] = vi
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
        if has_ext:
            for i in range(n):
                c = ext_counts[k, i]
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
