"""Run a :class:`~neurolearn.spiking.SpikingEINetwork` on the numba kernel, in chunks."""

from __future__ import annotations

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
)
from neurolearn.spiking._record import SpikeRecord

__all__ = ["run_numba", "CHUNK_STEPS"]

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


def run_numba(net, n_steps: int, plastic: bool, drive, progress: bool) -> SpikeRecord:
    """Advance ``net`` by ``n_steps`` with the numba kernel; returns the run's record."""
    p = net.params_
    conn = net.connectivity_
    n = conn.n
    if net._state is None:
        net._state = _initial_state(net)
        net._csr = _csr(net)
    params = _lif_params(p, conn.n_exc)
    stdp = _stdp_params(p)
    synapses = _connectivity(net, plastic)
    u, w_in, hold_steps = drive
    has_ext = p["input_rate_hz"] > 0
    ref = max(p["ref_steps"], 1)
    steps_out, ids_out = [], []
    v_trace = np.zeros((n_steps, len(net.trace_ids_)))
    run_start = net.step_
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=n_steps, unit="step", desc="spiking (numba)")
    done = 0
    while done < n_steps:
        chunk = min(CHUNK_STEPS, n_steps - done)
        ext = net.external_counts(chunk) if has_ext else np.zeros((0, n), dtype=np.uint16)
        capacity = n * (chunk // ref + 1)
        out = Outputs(
            spike_step=np.empty(capacity, dtype=np.int64),
            spike_id=np.empty(capacity, dtype=np.int64),
            trace_ids=net.trace_ids_,
            v_trace=v_trace[done : done + chunk],
        )
        inputs = Drive(
            bias=net.bias_mv_,
            input_weight=w_in,
            input_signal=u,
            hold_steps=int(hold_steps),
            input_step0=int(run_start),
            ext_counts=ext,
            ext_weight=float(p["w_input"]),
        )
        count = lif_run(run_start + done, chunk, params, stdp, inputs, synapses, net._state, out)
        if count < 0:
            if bar is not None:
                bar.close()
            net._divergence(-count - 1)
        steps_out.append(out.spike_step[:count].copy())
        ids_out.append(out.spike_id[:count].copy())
        done += chunk
        if bar is not None:
            bar.update(chunk)
    if bar is not None:
        bar.close()
    return SpikeRecord(
        spike_steps=np.concatenate(steps_out) if steps_out else np.zeros(0, np.int64),
        spike_ids=np.concatenate(ids_out) if ids_out else np.zeros(0, np.int64),
        start_step=run_start,
        n_steps=n_steps,
        dt_ms=p["dt_ms"],
        n_exc=conn.n_exc,
        n_inh=conn.n_inh,
        trace_ids=net.trace_ids_,
        v_trace_mv=v_trace,
    )
