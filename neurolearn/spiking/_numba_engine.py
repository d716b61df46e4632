"""Run a :class:`~neurolearn.spiking.SpikingEINetwork` on the numba kernel, in chunks."""

from __future__ import annotations

import numba
import numpy as np

from neurolearn._kernels.numba.spiking import (
    NEVER,
    Connectivity,
    Drive,
    LIFParams,
    Outputs,
    State,
    STDPParams,
    lif_run,
    lif_run_batch,
    list_of,
    list_push,
    pcg64_state,
    set_pcg64_state,
)
from neurolearn.spiking._record import record_of

__all__ = ["run_numba_batch", "CHUNK_STEPS"]

#: Steps per kernel call: bounds the spike buffer and the external-drive block in memory.
CHUNK_STEPS = 2000


def _initial_state(net) -> State:
    p = net.params_
    n = net.connectivity_.n
    slots = p["delay_steps"] + 1
    return State(
        v=net.v_init_mv_.copy(),
        g_exc=np.zeros(n),
        g_inh=np.zeros(n),
        last_spike=np.full(n, NEVER, dtype=np.int64),
        x_pre=np.zeros(n),
        x_pre_step=np.zeros(n, dtype=np.int64),
        x_post=np.zeros(n),
        x_post_step=np.zeros(n, dtype=np.int64),
        queue=np.zeros((slots, n), dtype=np.int64),
        queue_len=np.zeros(slots, dtype=np.int64),
    )


def _csr(net):
    conn = net.connectivity_
    plastic = conn.inhibitory_to_excitatory()
    syn = np.nonzero(plastic)[0]
    order = syn[np.argsort(conn.post[syn], kind="stable")]
    post_indptr = np.searchsorted(conn.post[order], np.arange(conn.n + 1)).astype(np.int64)
    return conn.indptr(), plastic, post_indptr, order.astype(np.int64)


def _connectivity(net, plastic: bool) -> Connectivity:
    """The network's synapses; with ``plastic=False`` no synapse is marked plastic."""
    indptr, plastic_mask, post_indptr, post_syn = net._csr
    if not plastic:
        plastic_mask = np.zeros_like(plastic_mask)
        post_indptr = np.zeros_like(post_indptr)
    conn = net.connectivity_
    return Connectivity(
        indptr=indptr,
        pre=conn.pre,
        post=conn.post,
        weight=net.weights_,
        plastic=plastic_mask,
        post_indptr=post_indptr,
        post_syn=post_syn,
    )


def _lif_params(p: dict, n_exc: int) -> LIFParams:
    return LIFParams(
        dt=float(p["dt_ms"]),
        n_exc=int(n_exc),
        tau_m=float(p["tau_m_ms"]),
        v_rest=float(p["v_rest_mv"]),
        v_threshold=float(p["v_threshold_mv"]),
        v_reset=float(p["v_reset_mv"]),
        ref_steps=int(p["ref_steps"]),
        conductance=p["synapse"] == "conductance",
        e_exc=float(p["e_exc_mv"]),
        e_inh=float(p["e_inh_mv"]),
        tau_exc=float(p["tau_exc_ms"]),
        tau_inh=float(p["tau_inh_ms"]),
        delay_steps=int(p["delay_steps"]),
    )


def _stdp_params(p: dict) -> STDPParams:
    return STDPParams(
        eta=float(p["learning_rate"]),
        alpha=float(p["alpha"]),
        tau=float(p["tau_stdp_ms"]),
        w_max=float(p["w_max"]),
    )


def _drive(net, drive) -> Drive:
    u, w_in, hold_steps = drive
    p = net.params_
    lam = float(p["input_rate_hz"] * p["dt_ms"] / 1000.0)
    return Drive(
        bias=np.ascontiguousarray(net.bias_mv_, dtype=np.float64),
        input_weight=np.ascontiguousarray(w_in, dtype=np.float64),
        input_signal=np.ascontiguousarray(u, dtype=np.float64),
        hold_steps=int(hold_steps),
        input_step0=int(net.step_),
        ext_mean=lam,
        ext_weight=float(p["w_input"]),
        pcg64=_inline_state(net.drive_rng_, lam),
    )


def _inline_state(rng, lam: float) -> np.ndarray:
    """The generator's state for the kernel's own draws (numpy's ``PCG64`` and a mean below
    10, where the kernel reproduces numpy's algorithm), else an empty array: the kernel then
    calls the generator itself."""
    if type(rng.bit_generator) is np.random.PCG64 and 0.0 < lam < 10.0:
        return pcg64_state(rng.bit_generator)
    return np.zeros(0, dtype=np.uint64)


def _typed(items):
    out = list_of(items[0])
    for item in items[1:]:
        list_push(out, item)
    return out


def run_numba_batch(nets, n_steps: int, plastic, drives, progress: bool) -> list:
    """Advance every network of ``nets`` by ``n_steps``, in one kernel call per chunk.

    ``plastic`` and ``drives`` hold one entry per network. A single network runs
    :func:`lif_run` directly; several run :func:`lif_run_batch` (networks spread over the
    threads). Each network gets exactly the record and the final state a single run gives it.
    An entry of the result is a :class:`~neurolearn.errors.DivergenceError` (not raised) for a
    network whose membrane potential became non-finite; it is not simulated further.
    """
    nets = list(nets)
    b = len(nets)
    for net in nets:
        if net._state is None:
            net._state = _initial_state(net)
            net._csr = _csr(net)
    params = [_lif_params(net.params_, net.connectivity_.n_exc) for net in nets]
    stdp = [_stdp_params(net.params_) for net in nets]
    synapses = [_connectivity(net, bool(pl)) for net, pl in zip(nets, plastic, strict=True)]
    inputs = [_drive(net, d) for net, d in zip(nets, drives, strict=True)]
    starts = np.array([net.step_ for net in nets], dtype=np.int64)
    v_traces = [np.zeros((n_steps, len(net.trace_ids_))) for net in nets]
    # spike buffers for the largest (first) chunk, every neuron at its refractory limit,
    # reused by every chunk: each chunk's spikes are copied out
    first = min(CHUNK_STEPS, n_steps)
    sizes = [net.connectivity_.n * (first // max(net.params_["ref_steps"], 1) + 1) for net in nets]
    buffers = [(np.empty(size, np.int64), np.empty(size, np.int64)) for size in sizes]
    steps_out = [[] for _ in nets]
    ids_out = [[] for _ in nets]
    counts = np.zeros(b, dtype=np.int64)
    batched = b > 1
    if batched:
        lists = [_typed(x) for x in (params, stdp, inputs, synapses)]
        states = _typed([net._state for net in nets])
        rngs = _typed([net.drive_rng_ for net in nets])
    bar = None
    if progress:
        from tqdm.auto import tqdm

        what = "spiking (numba)" if b == 1 else f"spiking (numba, {b} networks)"
        bar = tqdm(total=n_steps, unit="step", desc=what)
    done = 0
    try:
        while done < n_steps:
            chunk = min(CHUNK_STEPS, n_steps - done)
            outs = [
                Outputs(
                    spike_step=step_buf,
                    spike_id=id_buf,
                    trace_ids=net.trace_ids_,
                    v_trace=vt[done : done + chunk],
                )
                for net, (step_buf, id_buf), vt in zip(nets, buffers, v_traces, strict=True)
            ]
            if batched:
                # hand out networks one at a time: their costs differ with size and activity
                previous = numba.set_parallel_chunksize(1)
                try:
                    lif_run_batch(starts + done, chunk, *lists, states, _typed(outs), rngs, counts)
                finally:
                    numba.set_parallel_chunksize(previous)
            else:
                net = nets[0]
                counts[0] = lif_run(
                    int(starts[0]) + done,
                    chunk,
                    params[0],
                    stdp[0],
                    inputs[0],
                    synapses[0],
                    net._state,
                    outs[0],
                    net.drive_rng_,
                )
            for net, d in zip(nets, inputs, strict=True):
                if d.pcg64.shape[0]:  # the kernel drew from a copy of the generator's state
                    set_pcg64_state(net.drive_rng_.bit_generator, d.pcg64)
            for i, out in enumerate(outs):
                count = counts[i]
                if count >= 0:
                    steps_out[i].append(out.spike_step[:count].copy())
                    ids_out[i].append(out.spike_id[:count].copy())
            done += chunk
            if bar is not None:
                bar.update(chunk)
            if (counts < 0).all():
                break
    finally:
        if bar is not None:
            bar.close()
    return [
        net._divergence_error(int(-counts[i] - 1))
        if counts[i] < 0
        else record_of(net, steps_out[i], ids_out[i], starts[i], n_steps, v_traces[i])
        for i, net in enumerate(nets)
    ]
