"""The LIF E/I + iSTDP step of :mod:`neurolearn._kernels.numba.spiking` in PyTorch, batched.

Many independent networks are laid out flat, one after the other (block-diagonal
connectivity): every per-neuron constant is a vector over all the neurons of the batch, so that
networks of different sizes and parameters advance together, one set of tensor operations per
step. Same equations and the same Brian2-like schedule as the numba kernel (see its module
docstring): Euler update frozen while refractory, threshold, delayed delivery with the
pre-spike iSTDP update, external Poisson counts, post-spike iSTDP update, reset; the STDP
traces are kept per neuron and decayed exactly (``x exp(-(s - s_last) dt / tau)``) at the steps
where they are touched, which are the steps where the numba kernel touches them.

Two ways to deliver the spikes:

* :func:`run_sparse` (event-driven): the synapses of the neurons whose spikes arrive are
  gathered from the CSR layout and added with ``index_add_`` in the numba kernel's order
  (pre-synaptic neuron by neuron, synapse by synapse); the plastic synapses touched by a spike
  are gathered too. On the CPU in float64 every addition happens in the same order as in the
  numba kernel and the trace decay uses the same scalar ``exp``, so the numbers are identical.
  It reads the spike counts on the host every step (``nonzero``).
* :func:`run_dense`: one ``bmm`` per step on a padded ``(B, 2 n, n)`` weight array (rows of the
  excitatory and of the inhibitory synaptic variable), the plastic synapses updated as masked
  vectors and written into it; nothing is read back on the host during a chunk, which suits a
  GPU. The sums of the matrix product are ordered differently, so the results agree with the
  sparse path up to rounding.
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["Neurons", "Synapses", "DenseSynapses", "State", "Chunk", "run_sparse", "run_dense"]

#: ``first_bad`` of a neuron whose membrane potential stayed finite
FINITE = 2**62


class Neurons(NamedTuple):
    """Per-neuron constants of the flat batch (each a ``(N,)`` tensor; floats in the run's
    dtype, ``step0``, ``ref_steps``, ``delay``, ``net`` int64, ``exc``/``cond`` bool): the
    network's absolute start step, Euler factor ``dt / tau_m``, potentials, reversal
    potentials, synaptic decay factors ``1 - dt / tau``, bias and input weight, external spike
    weight, refractory and delay steps, the network index, excitatory or not, conductance or
    current synapses, and the STDP constants (``dt``, ``tau_stdp``, ``eta``, ``alpha``,
    ``w_max``). ``all_cond``/``any_cond`` and ``delay0`` (the delay when every network has the
    same, else -1) are Python values."""

    step0: object
    dt_tau: object
    v_rest: object
    v_threshold: object
    v_reset: object
    e_exc: object
    e_inh: object
    decay_exc: object
    decay_inh: object
    bias: object
    w_in: object
    ext_w: object
    ref_steps: object
    delay: object
    net: object
    exc: object
    cond: object
    dt: object
    tau_stdp: object
    eta: object
    alpha: object
    w_max: object
    all_cond: bool
    any_cond: bool
    delay0: int


class Synapses(NamedTuple):
    """Synapses of the flat batch in CSR by pre-synaptic neuron (``indptr (N + 1,)``,
    ``pre``/``post (S,)``, ``weight (S,)`` updated in place), ``plastic (S,)`` bool (the
    plastic synapses of the networks that learn in this run) and those grouped by
    post-synaptic neuron (``post_indptr (N + 1,)``, ``post_syn``). ``any_plastic`` is a
    Python bool."""

    indptr: object
    pre: object
    post: object
    weight: object
    plastic: object
    post_indptr: object
    post_syn: object
    any_plastic: bool


class DenseSynapses(NamedTuple):
    """The padded dense layout of :func:`run_dense`: ``W (B, 2 n_max, n_max)`` (row ``r`` of
    network ``b`` feeds ``g_exc`` for ``r < n_max``, ``g_inh`` otherwise), ``pad (N,)`` the
    position ``b n_max + i`` of every neuron, and the plastic synapses as vectors: their ids
    ``syn``, ``pre``, ``post``, positions ``pos`` in ``W.view(-1)``."""

    W: object
    n_max: int
    pad: object
    syn: object
    pre: object
    post: object
    pos: object


class State(NamedTuple):
    """Dynamic state of the flat batch (``(N,)`` tensors, replaced step by step: the fields
    hold the latest values after a call), the ring of spike masks ``ring (slots, N)`` indexed by
    the run's step modulo ``slots`` (the previous ``delay`` steps filled in), and ``first_bad``,
    the first step at which each neuron's ``v`` was not finite (:data:`FINITE` if none)."""

    v: object
    g_exc: object
    g_inh: object
    last_spike: object
    x_pre: object
    x_pre_step: object
    x_post: object
    x_post_step: object
    ring: object
    first_bad: object


class Chunk(NamedTuple):
    """Inputs and outputs of one chunk: ``k0`` the run's step of its first row, ``u (chunk, B)``
    the input value of every network at every step or None, ``counts (chunk, N)`` the external
    Poisson counts or None, ``trace_ids (T,)`` and ``v_trace (chunk, T)`` (filled with ``v`` at
    the start of every step), ``spikes (chunk, N)`` bool (filled)."""

    k0: int
    u: object
    counts: object
    trace_ids: object
    v_trace: object
    spikes: object


def _exp(x):
    """``exp`` of a tensor. On the CPU in float64 the same scalar ``exp`` as the numba kernel's
    (torch's vectorised one differs from it in the last bit for some arguments)."""
    import torch

    if x.device.type == "cpu" and x.dtype == torch.float64:
        from neurolearn._kernels.numba.elementary import exp_inplace

        out = x.contiguous().clone()
        exp_inplace(out.numpy())
        return out
    return torch.exp(x)


def _decay(x, x_step, s, dt, tau):
    """Traces ``x`` decayed exactly to ``s`` (all three gathered at the same neurons)."""
    return x * _exp((-(s - x_step)).to(x.dtype) * dt / tau)


def _segments(indptr, rows):
    """The entries of the CSR rows ``rows`` (ascending within each row, rows in order)."""
    import torch

    starts = indptr.index_select(0, rows)
    counts = indptr.index_select(0, rows + 1) - starts
    ends = torch.cumsum(counts, 0)
    total = int(ends[-1])
    if total == 0:
        return starts[:0]
    k = torch.arange(total, device=rows.device)
    return k + (starts - (ends - counts)).index_select(0, torch.bucketize(k, ends, right=True))


def _membrane(nrn, v, ge, gi, last_spike, first_bad, s, k, chunk):
    """Steps 1-2 of the schedule at absolute steps ``s`` (per neuron; ``k`` the chunk's row):
    Euler update of ``v`` from ``v``, ``ge``, ``gi`` at the start of the step (frozen while
    refractory), divergence bookkeeping, threshold. Returns the new
    ``(v, last_spike, first_bad, spk)``."""
    import torch

    refr = (s - last_spike) < nrn.ref_steps
    if chunk.u is None:
        drive = nrn.bias
    else:
        drive = nrn.bias + nrn.w_in * chunk.u[k][nrn.net]
    if nrn.all_cond:
        dv = nrn.v_rest - v + ge * (nrn.e_exc - v) + gi * (nrn.e_inh - v) + drive
    elif not nrn.any_cond:
        dv = nrn.v_rest - v + ge - gi + drive
    else:
        dv = torch.where(
            nrn.cond,
            nrn.v_rest - v + ge * (nrn.e_exc - v) + gi * (nrn.e_inh - v) + drive,
            nrn.v_rest - v + ge - gi + drive,
        )
    v = torch.where(refr, v, v + nrn.dt_tau * dv)
    bad = ~(v.abs() < 1e300)
    first_bad = torch.minimum(first_bad, torch.where(bad, s, FINITE))
    spk = (v > nrn.v_threshold) & ~refr
    last_spike = torch.where(spk, s, last_spike)
    return v, last_spike, first_bad, spk


def _delivered(nrn, ring, spk, k):
    """Store this step's spikes in the ring and return those that arrive now."""
    import torch

    slots = ring.shape[0]
    ring[k % slots] = spk
    if nrn.delay0 >= 0:
        return ring[(k - nrn.delay0) % slots]
    n = spk.shape[0]
    rows = torch.remainder(k - nrn.delay, slots)
    return ring.view(-1)[rows * n + torch.arange(n, device=spk.device)]


def run_sparse(n_steps, nrn, syn, st, chunk):
    """Advance the batch ``n_steps`` steps, event-driven; returns the new :class:`State`.

    ``nrn`` (:class:`Neurons`), ``syn`` (:class:`Synapses`, ``syn.weight`` updated in place),
    ``st`` (:class:`State`, its ring updated in place) and ``chunk`` (:class:`Chunk`, its
    ``v_trace`` and ``spikes`` filled). The two synaptic variables are handled as one vector
    ``(g_exc, g_inh)`` of ``2 N`` entries (a synapse targets ``post`` or ``N + post`` by the
    kind of its pre-synaptic neuron), the traces as one vector ``(x_post, x_pre)``, so that a
    step gathers and scatters each once.
    """
    import torch

    n = st.v.shape[0]
    v, last_spike, first_bad, ring = st.v, st.last_spike, st.first_bad, st.ring
    g = torch.cat((st.g_exc, st.g_inh))
    x = torch.cat((st.x_post, st.x_pre))
    x_step = torch.cat((st.x_post_step, st.x_pre_step))
    decay = torch.cat((nrn.decay_exc, nrn.decay_inh))
    step0 = torch.cat((nrn.step0, nrn.step0))
    dt = torch.cat((nrn.dt, nrn.dt))
    tau = torch.cat((nrn.tau_stdp, nrn.tau_stdp))
    target = syn.post + n * (~nrn.exc[syn.pre]).to(syn.post.dtype)
    weight, post, pre, plastic = syn.weight, syn.post, syn.pre, syn.plastic
    eta, alpha, w_max = nrn.eta, nrn.alpha, nrn.w_max
    has_trace = chunk.trace_ids.numel() > 0
    for k in range(n_steps):
        kr = chunk.k0 + k
        s2 = step0 + kr
        s = s2[:n]
        if has_trace:
            chunk.v_trace[k] = v.index_select(0, chunk.trace_ids)
        v, last_spike, first_bad, spk = _membrane(
            nrn, v, g[:n], g[n:], last_spike, first_bad, s, k, chunk
        )
        g = g * decay
        chunk.spikes[k] = spk
        arrived = _delivered(nrn, ring, spk, kr)
        spiking = torch.nonzero(spk)[:, 0]
        source = torch.nonzero(arrived)[:, 0]
        # 3. synapses: the synapses of the arriving spikes, the plastic ones among them, and
        # the plastic synapses onto the neurons that spiked
        out = _segments(syn.indptr, source) if source.numel() else source
        p_syn = out[plastic.index_select(0, out)] if syn.any_plastic and out.numel() else out[:0]
        q_syn = (
            syn.post_syn.index_select(0, _segments(syn.post_indptr, spiking))
            if syn.any_plastic and spiking.numel()
            else spiking[:0]
        )
        # the traces this step touches, decayed to it (one touched twice is decayed once)
        jumps = torch.cat((spiking, source + n))
        touched = torch.cat((post.index_select(0, p_syn), pre.index_select(0, q_syn) + n, jumps))
        if touched.numel():
            at = s2.index_select(0, touched)
            x.index_put_(
                (touched,),
                x.index_select(0, touched)
                * _exp(
                    (x_step.index_select(0, touched) - at).to(x.dtype)
                    * dt.index_select(0, touched)
                    / tau.index_select(0, touched)
                ),
            )
            x_step.index_put_((touched,), at)
        # the pre-spike rule (before the weight is delivered), then the delivery
        if p_syn.numel():
            tgt = post.index_select(0, p_syn)
            w = weight.index_select(0, p_syn) + eta.index_select(0, tgt) * (
                x.index_select(0, tgt) - alpha.index_select(0, tgt)
            )
            w = torch.clamp(w, min=torch.zeros_like(w), max=w_max.index_select(0, tgt))
            weight.index_copy_(0, p_syn, w)
        if out.numel():
            g.index_add_(0, target.index_select(0, out), weight.index_select(0, out))
        # the trace jumps of the arrived (pre) and emitted (post) spikes
        if jumps.numel():
            x.index_put_((jumps,), x.index_select(0, jumps) + 1.0)
        if chunk.counts is not None:
            g[:n].add_(nrn.ext_w * chunk.counts[k].to(g.dtype))
        # the post-spike rule
        if q_syn.numel():
            tgt = post.index_select(0, q_syn)
            w = weight.index_select(0, q_syn) + eta.index_select(0, tgt) * x.index_select(
                0, pre.index_select(0, q_syn) + n
            )
            w = torch.clamp(w, min=torch.zeros_like(w), max=w_max.index_select(0, tgt))
            weight.index_copy_(0, q_syn, w)
        # 4. reset
        v = torch.where(spk, nrn.v_reset, v)
    return State(
        v,
        g[:n].clone(),
        g[n:].clone(),
        last_spike,
        x[n:].clone(),
        x_step[n:].clone(),
        x[:n].clone(),
        x_step[:n].clone(),
        ring,
        first_bad,
    )


def run_dense(n_steps, nrn, syn, dense, st, chunk):
    """Advance the batch ``n_steps`` steps with one ``bmm`` per step; returns the new
    :class:`State`.

    As :func:`run_sparse`, with ``dense`` (:class:`DenseSynapses`; ``dense.W`` holds the
    current weights and is updated in place, as is ``syn.weight``). Nothing is read back on the
    host.
    """
    import torch

    v, g_exc, g_inh = st.v, st.g_exc, st.g_inh
    last_spike, first_bad, ring = st.last_spike, st.first_bad, st.ring
    x_pre, x_pre_step, x_post, x_post_step = st.x_pre, st.x_pre_step, st.x_post, st.x_post_step
    W, n_max, pad = dense.W, dense.n_max, dense.pad
    n_nets = W.shape[0]
    n = v.shape[0]
    dtype = v.dtype
    plastic = dense.syn.numel() > 0
    flat_w = W.view(-1)
    if plastic:
        p_pre, p_post = dense.pre, dense.post
        w_p = syn.weight[dense.syn]
        eta_p, alpha_p, w_max_p = nrn.eta[p_post], nrn.alpha[p_post], nrn.w_max[p_post]
        zero_p = torch.zeros_like(w_p)
    padded = torch.zeros(n_nets * n_max, dtype=dtype, device=v.device)
    zeros_n = torch.zeros(n, dtype=dtype, device=v.device)
    has_trace = chunk.trace_ids.numel() > 0
    for k in range(n_steps):
        kr = chunk.k0 + k
        s = nrn.step0 + kr
        if has_trace:
            chunk.v_trace[k] = v[chunk.trace_ids]
        v, last_spike, first_bad, spk = _membrane(
            nrn, v, g_exc, g_inh, last_spike, first_bad, s, k, chunk
        )
        g_exc = g_exc * nrn.decay_exc
        g_inh = g_inh * nrn.decay_inh
        chunk.spikes[k] = spk
        arrived = _delivered(nrn, ring, spk, kr)
        touched_post, touched_pre = spk, arrived
        if plastic:
            arrived_p = arrived[p_pre]
            spiked_p = spk[p_post]
            touched_post = spk | (zeros_n.index_add(0, p_post, arrived_p.to(dtype)) > 0)
            touched_pre = arrived | (zeros_n.index_add(0, p_pre, spiked_p.to(dtype)) > 0)
        x_post = torch.where(
            touched_post, _decay(x_post, x_post_step, s, nrn.dt, nrn.tau_stdp), x_post
        )
        x_post_step = torch.where(touched_post, s, x_post_step)
        if plastic:
            w = torch.clamp(w_p + eta_p * (x_post[p_post] - alpha_p), min=zero_p, max=w_max_p)
            w_p = torch.where(arrived_p, w, w_p)
            flat_w.index_copy_(0, dense.pos, w_p)
        padded.index_copy_(0, pad, arrived.to(dtype))
        inc = torch.bmm(W, padded.view(n_nets, n_max, 1)).view(n_nets, 2, n_max)
        g_exc = g_exc + inc[:, 0].reshape(-1)[pad]
        g_inh = g_inh + inc[:, 1].reshape(-1)[pad]
        x_pre = torch.where(touched_pre, _decay(x_pre, x_pre_step, s, nrn.dt, nrn.tau_stdp), x_pre)
        x_pre_step = torch.where(touched_pre, s, x_pre_step)
        x_pre = x_pre + arrived.to(dtype)
        if chunk.counts is not None:
            g_exc = g_exc + nrn.ext_w * chunk.counts[k].to(dtype)
        x_post = x_post + spk.to(dtype)
        if plastic:
            w = torch.clamp(w_p + eta_p * x_pre[p_pre], min=zero_p, max=w_max_p)
            w_p = torch.where(spiked_p, w, w_p)
        v = torch.where(spk, nrn.v_reset, v)
    if plastic:
        flat_w.index_copy_(0, dense.pos, w_p)
        syn.weight.index_copy_(0, dense.syn, w_p)
    return State(
        v, g_exc, g_inh, last_spike, x_pre, x_pre_step, x_post, x_post_step, ring, first_bad
    )
