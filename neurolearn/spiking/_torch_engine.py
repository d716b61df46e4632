"""Run :class:`~neurolearn.spiking.SpikingEINetwork` objects on PyTorch, the batch as a tensor
dimension.

The networks of one call (any sizes and parameters) are laid out flat, one after the other,
and advance together: one set of tensor operations per step for the whole batch
(``neurolearn._kernels.torch.spiking``). Networks on different devices or dtypes run as
separate groups. Each network keeps its state on its device between runs (in ``net._engine``),
so consecutive runs continue the simulation; the weights are read from ``net.weights_`` at the
start of a run and written back to it (float64) at the end.

Layout rule (``choose_layout``): the event-driven sparse path everywhere except on a CUDA
device when the networks are dense enough for a matrix product to beat gathering synapses and
the padded ``(B, 2 n_max, n_max)`` weight array is small: connection density at least
``DENSE_MIN_DENSITY`` and ``B 2 n_max^2 <=`` ``DENSE_MAX_ELEMENTS`` (and no repeated
synapse). On the CPU the sparse path is always used: it does ``O(spikes x out-degree)`` work
per step against the ``O(B n^2)`` of a matrix product, and in float64 it reproduces the numba
engine bit for bit. ``LAYOUT`` forces one path (``"sparse"`` or ``"dense"``).
"""

from __future__ import annotations

import numpy as np

from neurolearn._kernels.numba.spiking import NEVER
from neurolearn.spiking._record import record_of

__all__ = [
    "run_torch_batch",
    "choose_layout",
    "CHUNK_STEPS",
    "CHUNK_ELEMENTS",
    "LAYOUT",
    "DENSE_MIN_DENSITY",
    "DENSE_MAX_ELEMENTS",
]

#: Most steps per chunk (the spike masks, traces and external counts of a chunk are buffered).
CHUNK_STEPS = 2000
#: Most ``steps x neurons`` entries of a chunk's buffers (fewer steps for big batches).
CHUNK_ELEMENTS = 2**24
#: None picks the path by ``choose_layout``; ``"sparse"`` or ``"dense"`` forces it.
LAYOUT: str | None = None
#: Connection density (synapses / n^2) from which the dense path is used on CUDA.
DENSE_MIN_DENSITY = 0.05
#: Largest padded dense weight array (entries) the dense path builds.
DENSE_MAX_ELEMENTS = 2**28
#: On the CPU, batches of fewer neurons run on one torch thread (restored afterwards): the
#: per-step tensors are small and threads cost more than they save.
SINGLE_THREAD_NEURONS = 2**16


def _torch():
    from neurolearn.backend import import_torch

    return import_torch()


class _NetTensors:
    """One network's connectivity and dynamic state on its device (kept in ``net._engine``)."""

    def __init__(self, net, device, dtype):
        torch = _torch()
        conn = net.connectivity_
        n = conn.n
        p = net.params_
        self.device, self.dtype, self.n = device, dtype, n
        plastic = conn.inhibitory_to_excitatory()
        syn = np.nonzero(plastic)[0]
        order = syn[np.argsort(conn.post[syn], kind="stable")]
        post_indptr = np.searchsorted(conn.post[order], np.arange(n + 1))

        def ints(a):
            return torch.as_tensor(np.asarray(a, dtype=np.int64), device=device)

        self.indptr = ints(conn.indptr())
        self.pre = ints(conn.pre)
        self.post = ints(conn.post)
        self.plastic = torch.as_tensor(plastic, device=device)
        self.post_indptr = ints(post_indptr)
        self.post_syn = ints(order)
        self.unique = len(np.unique(conn.pre * n + conn.post)) == conn.n_synapses
        self.n_syn = conn.n_synapses
        zeros = torch.zeros(n, dtype=dtype, device=device)
        self.v = torch.as_tensor(net.v_init_mv_, device=device).to(dtype)
        self.g_exc = zeros.clone()
        self.g_inh = zeros.clone()
        self.last_spike = torch.full((n,), NEVER, dtype=torch.int64, device=device)
        self.x_pre = zeros.clone()
        self.x_post = zeros.clone()
        self.x_pre_step = torch.zeros(n, dtype=torch.int64, device=device)
        self.x_post_step = torch.zeros(n, dtype=torch.int64, device=device)
        self.hist = torch.zeros((p["delay_steps"], n), dtype=torch.bool, device=device)


#: the per-neuron state a network keeps between runs
_DYNAMIC = ("v", "g_exc", "g_inh", "last_spike", "x_pre", "x_pre_step", "x_post", "x_post_step")


def _tensors(net):
    torch = _torch()
    device = torch.device(net.params_["device"])
    dtype = getattr(torch, net.params_["dtype"])
    if net._engine is None:
        net._engine = _NetTensors(net, device, dtype)
    return net._engine


def choose_layout(nets, device) -> str:
    """``"dense"`` or ``"sparse"`` for networks ``nets`` on ``device`` (see the module doc).

    Examples
    --------
    >>> import torch
    >>> from neurolearn.spiking import SpikingEINetwork
    >>> net = SpikingEINetwork(n_exc=40, n_inh=10, backend="torch", seed=0).initialize()
    >>> choose_layout([net], torch.device("cpu"))
    'sparse'
    """
    if LAYOUT is not None:
        if LAYOUT not in ("sparse", "dense"):
            raise ValueError(f"LAYOUT must be None, 'sparse' or 'dense'. Got {LAYOUT!r}.")
        return LAYOUT
    if device.type != "cuda":
        return "sparse"
    sizes = np.array([net.connectivity_.n for net in nets], dtype=np.float64)
    synapses = sum(net.connectivity_.n_synapses for net in nets)
    density = synapses / float((sizes**2).sum())
    padded = len(nets) * 2 * int(sizes.max()) ** 2
    unique = all(_tensors(net).unique for net in nets)
    if unique and density >= DENSE_MIN_DENSITY and padded <= DENSE_MAX_ELEMENTS:
        return "dense"
    return "sparse"


def _full(parts, dtype, device):
    torch = _torch()
    return torch.as_tensor(np.concatenate(parts), device=device).to(dtype)


def _assemble(nets, plastic, drives, device, dtype):
    """The flat batch: (Neurons, Synapses, State, offsets, trace_ids)."""
    from neurolearn._kernels.torch.spiking import FINITE, Neurons, State, Synapses

    torch = _torch()
    tens = [_tensors(net) for net in nets]
    sizes = [t.n for t in tens]
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    syn_sizes = [t.n_syn for t in tens]
    syn_offsets = np.concatenate([[0], np.cumsum(syn_sizes)])
    floats = {
        k: []
        for k in (
            "dt_tau v_rest v_threshold v_reset e_exc e_inh decay_exc decay_inh bias w_in ext_w "
            "dt tau_stdp eta alpha w_max"
        ).split()
    }
    ints = {k: [] for k in ("step0", "ref_steps", "delay", "net")}
    exc, cond = [], []
    for b, (net, drive) in enumerate(zip(nets, drives, strict=True)):
        p = net.params_
        n = sizes[b]
        dt = float(p["dt_ms"])
        vals = dict(
            dt_tau=dt / float(p["tau_m_ms"]),
            v_rest=p["v_rest_mv"],
            v_threshold=p["v_threshold_mv"],
            v_reset=p["v_reset_mv"],
            e_exc=p["e_exc_mv"],
            e_inh=p["e_inh_mv"],
            decay_exc=1.0 - dt / float(p["tau_exc_ms"]),
            decay_inh=1.0 - dt / float(p["tau_inh_ms"]),
            ext_w=p["w_input"],
            dt=dt,
            tau_stdp=p["tau_stdp_ms"],
            eta=p["learning_rate"],
            alpha=p["alpha"],
            w_max=p["w_max"],
        )
        for k, val in vals.items():
            floats[k].append(np.full(n, float(val)))
        floats["bias"].append(np.asarray(net.bias_mv_, dtype=np.float64))
        floats["w_in"].append(np.asarray(drive[1], dtype=np.float64))
        for k, val in (
            ("step0", net.step_),
            ("ref_steps", p["ref_steps"]),
            ("delay", p["delay_steps"]),
            ("net", b),
        ):
            ints[k].append(np.full(n, int(val), dtype=np.int64))
        exc.append(np.arange(n) < net.connectivity_.n_exc)
        cond.append(np.full(n, p["synapse"] == "conductance"))
    conds = np.concatenate(cond)
    delays = {net.params_["delay_steps"] for net in nets}
    nrn = Neurons(
        **{k: _full(v, dtype, device) for k, v in floats.items()},
        **{k: _full(v, torch.int64, device) for k, v in ints.items()},
        exc=_full(exc, torch.bool, device),
        cond=_full(cond, torch.bool, device),
        all_cond=bool(conds.all()),
        any_cond=bool(conds.any()),
        delay0=delays.pop() if len(delays) == 1 else -1,
    )
    indptr = [t.indptr[:-1] + int(q) for t, q in zip(tens, syn_offsets, strict=False)]
    indptr.append(torch.tensor([int(syn_offsets[-1])], device=device))
    post_indptr, post_syn, plastic_mask = [], [], []
    p_off = 0
    for t, q, pl in zip(tens, syn_offsets, plastic, strict=False):
        if pl:
            post_indptr.append(t.post_indptr[:-1] + p_off)
            post_syn.append(t.post_syn + int(q))
            plastic_mask.append(t.plastic)
            p_off += t.post_syn.numel()
        else:
            post_indptr.append(torch.full((t.n,), p_off, dtype=torch.int64, device=device))
            plastic_mask.append(torch.zeros_like(t.plastic))
    post_indptr.append(torch.tensor([p_off], device=device))
    plastic_all = torch.cat(plastic_mask)
    weights = np.concatenate([np.asarray(net.weights_, dtype=np.float64) for net in nets])
    syn = Synapses(
        indptr=torch.cat(indptr),
        pre=torch.cat([t.pre + int(o) for t, o in zip(tens, offsets, strict=False)]),
        post=torch.cat([t.post + int(o) for t, o in zip(tens, offsets, strict=False)]),
        weight=torch.as_tensor(weights, device=device).to(dtype),
        plastic=plastic_all,
        post_indptr=torch.cat(post_indptr),
        post_syn=torch.cat(post_syn) if post_syn else torch.zeros(0, dtype=torch.int64),
        any_plastic=bool(plastic_all.any()),
    )
    if not post_syn:
        syn = syn._replace(post_syn=syn.post_syn.to(device))
    slots = max(net.params_["delay_steps"] for net in nets) + 1
    n_all = int(offsets[-1])
    ring = torch.zeros((slots, n_all), dtype=torch.bool, device=device)
    for t, o in zip(tens, offsets, strict=False):
        d = t.hist.shape[0]
        for i in range(d):
            ring[(i - d) % slots, int(o) : int(o) + t.n] = t.hist[i]
    st = State(
        v=torch.cat([t.v for t in tens]),
        g_exc=torch.cat([t.g_exc for t in tens]),
        g_inh=torch.cat([t.g_inh for t in tens]),
        last_spike=torch.cat([t.last_spike for t in tens]),
        x_pre=torch.cat([t.x_pre for t in tens]),
        x_pre_step=torch.cat([t.x_pre_step for t in tens]),
        x_post=torch.cat([t.x_post for t in tens]),
        x_post_step=torch.cat([t.x_post_step for t in tens]),
        ring=ring,
        first_bad=torch.full((n_all,), FINITE, dtype=torch.int64, device=device),
    )
    trace_ids = torch.as_tensor(
        np.concatenate(
            [net.trace_ids_ + int(o) for net, o in zip(nets, offsets, strict=False)]
        ).astype(np.int64),
        device=device,
    )
    return nrn, syn, st, offsets, syn_offsets, trace_ids


def _dense(nets, nrn, syn, offsets, device, dtype):
    """The padded dense layout of the batch (:class:`~neurolearn._kernels.torch.spiking.
    DenseSynapses`)."""
    from neurolearn._kernels.torch.spiking import DenseSynapses

    torch = _torch()
    n_nets = len(nets)
    n_max = max(net.connectivity_.n for net in nets)
    offs = torch.as_tensor(offsets[:-1].astype(np.int64), device=device)
    n_exc = torch.as_tensor(
        np.array([net.connectivity_.n_exc for net in nets], dtype=np.int64), device=device
    )
    net_of = nrn.net
    local = torch.arange(net_of.numel(), device=device) - offs[net_of]
    pad = net_of * n_max + local
    b = net_of[syn.pre]
    pre_l = local[syn.pre]
    post_l = local[syn.post]
    row = post_l + torch.where(pre_l < n_exc[b], 0, n_max)
    pos = b * (2 * n_max * n_max) + row * n_max + pre_l
    W = torch.zeros(n_nets * 2 * n_max * n_max, dtype=dtype, device=device)
    W.index_put_((pos,), syn.weight, accumulate=True)
    p_syn = torch.nonzero(syn.plastic)[:, 0]
    return DenseSynapses(
        W=W.view(n_nets, 2 * n_max, n_max),
        n_max=n_max,
        pad=pad,
        syn=p_syn,
        pre=syn.pre[p_syn],
        post=syn.post[p_syn],
        pos=pos[p_syn],
    )


def _input_table(nets, drives, k0, steps):
    """``u (steps, B)``: the input value of every network at the run's steps ``k0 ...``."""
    table = np.zeros((steps, len(nets)))
    k = k0 + np.arange(steps)
    for b, (u, _, hold) in enumerate(drives):
        if len(u):
            table[:, b] = np.asarray(u, dtype=np.float64)[np.minimum(k // hold, len(u) - 1)]
    return table


def _counts(nets, steps):
    """External Poisson counts ``(steps, N)`` of the chunk, drawn from each network's stream
    (``net.external_counts``); None when no network has an external drive."""
    parts, any_ext = [], False
    for net in nets:
        p = net.params_
        if p["input_rate_hz"] * p["dt_ms"] / 1000.0 > 0.0:
            parts.append(net.external_counts(steps))
            any_ext = True
        else:
            parts.append(np.zeros((steps, net.connectivity_.n), dtype=np.uint16))
    if not any_ext:
        return None
    counts = np.concatenate(parts, axis=1)
    return counts.astype(np.uint8) if counts.max() < 256 else counts.astype(np.int32)


def _save(nets, st, syn, offsets, syn_offsets, n_steps):
    """Write each network's state back to it (``net._engine``) and its weights to
    ``net.weights_``."""
    weights = syn.weight.to("cpu", dtype=_torch().float64).numpy()
    slots = st.ring.shape[0]
    for b, net in enumerate(nets):
        t = net._engine
        lo, hi = int(offsets[b]), int(offsets[b + 1])
        for name in _DYNAMIC:
            setattr(t, name, getattr(st, name)[lo:hi].clone())
        d = t.hist.shape[0]
        if d:
            rows = [(n_steps - d + i) % slots for i in range(d)]
            t.hist = st.ring[rows, lo:hi].clone()
        net.weights_[:] = weights[int(syn_offsets[b]) : int(syn_offsets[b + 1])]


def _run_group(nets, n_steps, plastic, drives, bar):
    """Advance networks that share a device and dtype; returns one record or error each."""
    from neurolearn._kernels.torch.spiking import FINITE, Chunk, run_dense, run_sparse

    torch = _torch()
    device = torch.device(nets[0].params_["device"])
    dtype = getattr(torch, nets[0].params_["dtype"])
    nrn, syn, st, offsets, syn_offsets, trace_ids = _assemble(nets, plastic, drives, device, dtype)
    layout = choose_layout(nets, device)
    dense = _dense(nets, nrn, syn, offsets, device, dtype) if layout == "dense" else None
    n_all = int(offsets[-1])
    b = len(nets)
    has_input = any(len(d[0]) for d in drives)
    chunk_steps = max(1, min(CHUNK_STEPS, CHUNK_ELEMENTS // max(n_all, 1)))
    starts = [int(net.step_) for net in nets]
    trace_off = np.concatenate([[0], np.cumsum([len(net.trace_ids_) for net in nets])])
    v_traces = [np.zeros((n_steps, len(net.trace_ids_))) for net in nets]
    steps_out = [[] for _ in nets]
    ids_out = [[] for _ in nets]
    diverged = [None] * b
    net_index = nrn.net
    done = 0
    while done < n_steps:
        chunk = min(chunk_steps, n_steps - done)
        u = None
        if has_input:
            u = torch.as_tensor(_input_table(nets, drives, done, chunk), device=device).to(dtype)
        counts = _counts(nets, chunk)
        if counts is not None:
            counts = torch.as_tensor(counts, device=device)
        out = Chunk(
            k0=done,
            u=u,
            counts=counts,
            trace_ids=trace_ids,
            v_trace=torch.empty((chunk, trace_ids.numel()), dtype=dtype, device=device),
            spikes=torch.zeros((chunk, n_all), dtype=torch.bool, device=device),
        )
        if dense is None:
            st = run_sparse(chunk, nrn, syn, st, out)
        else:
            st = run_dense(chunk, nrn, syn, dense, st, out)
        first_bad = torch.full((b,), FINITE, dtype=torch.int64, device=device)
        first_bad = first_bad.scatter_reduce(0, net_index, st.first_bad, "amin").cpu().numpy()
        spikes = out.spikes.cpu()
        v_trace = out.v_trace.to("cpu", dtype=torch.float64).numpy()
        for i in range(b):
            if diverged[i] is not None:
                continue
            if first_bad[i] < FINITE:
                diverged[i] = int(first_bad[i])
                continue
            lo, hi = int(offsets[i]), int(offsets[i + 1])
            where = torch.nonzero(spikes[:, lo:hi]).numpy()
            steps_out[i].append(where[:, 0].astype(np.int64) + starts[i] + done)
            ids_out[i].append(where[:, 1].astype(np.int64))
            v_traces[i][done : done + chunk] = v_trace[:, trace_off[i] : trace_off[i + 1]]
        done += chunk
        if bar is not None:
            bar.update(chunk)
        if all(d is not None for d in diverged):
            break
    _save(nets, st, syn, offsets, syn_offsets, n_steps)
    return [
        net._divergence_error(diverged[i])
        if diverged[i] is not None
        else record_of(net, steps_out[i], ids_out[i], starts[i], n_steps, v_traces[i])
        for i, net in enumerate(nets)
    ]


def run_torch_batch(nets, n_steps: int, plastic, drives, progress: bool) -> list:
    """Advance every network of ``nets`` by ``n_steps``, all networks of a device and dtype
    together (the batch as a tensor dimension).

    ``plastic`` and ``drives`` hold one entry per network (as for
    :func:`~neurolearn.spiking._numba_engine.run_numba_batch`). Each network gets the record
    and the final state a single run gives it; an entry of the result is a
    :class:`~neurolearn.errors.DivergenceError` (not raised) for a network whose membrane
    potential became non-finite, at the first such step. ``step_`` is not advanced.

    Examples
    --------
    >>> from neurolearn.spiking import SpikingEINetwork
    >>> nets = [SpikingEINetwork(n_exc=40, n_inh=10, backend="torch", dtype="float64", seed=s)
    ...         for s in (0, 1)]
    >>> runs = [net._prepare_run(50.0, None, None, None, None) for net in nets]
    >>> recs = run_torch_batch(nets, 500, [r[1] for r in runs], [r[2] for r in runs], False)
    >>> [rec.n_steps for rec in recs]
    [500, 500]
    """
    nets = list(nets)
    for net in nets:
        _tensors(net)
    groups: dict[tuple, list[int]] = {}
    for i, net in enumerate(nets):
        groups.setdefault((net.params_["device"], net.params_["dtype"]), []).append(i)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        b = len(nets)
        what = "spiking (torch)" if b == 1 else f"spiking (torch, {b} networks)"
        bar = tqdm(total=n_steps * len(groups), unit="step", desc=what)
    records: list = [None] * len(nets)
    torch = _torch()
    threads = torch.get_num_threads()
    try:
        for members in groups.values():
            small = sum(nets[i].connectivity_.n for i in members) < SINGLE_THREAD_NEURONS
            cpu = torch.device(nets[members[0]].params_["device"]).type == "cpu"
            torch.set_num_threads(1 if small and cpu else threads)
            out = _run_group(
                [nets[i] for i in members],
                n_steps,
                [plastic[i] for i in members],
                [drives[i] for i in members],
                bar,
            )
            for i, rec in zip(members, out, strict=True):
                records[i] = rec
    finally:
        torch.set_num_threads(threads)
        if bar is not None:
            bar.close()
    return records
