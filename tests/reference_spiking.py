"""Naive reference of the spiking LIF E/I network step (dense matrices, plain numpy)."""

from __future__ import annotations

import numpy as np

from neurolearn.spiking import Connectivity


def feedforward_connectivity(
    n_exc: int, n_inh: int, prob: float, seed: int, w_exc: float = 0.05, w_inh: float = 0.2
) -> Connectivity:
    """Layer 1 (first half of E and of I) projects to layer 2 (the rest); no other synapses."""
    rng = np.random.default_rng(seed)
    n = n_exc + n_inh
    layer1 = np.r_[np.arange(n_exc // 2), np.arange(n_exc, n_exc + n_inh // 2)]
    layer2 = np.setdiff1d(np.arange(n), layer1)
    pi, qi = np.nonzero(rng.random((len(layer1), len(layer2))) < prob)
    pre, post = layer1[pi], layer2[qi]
    weight = np.where(pre < n_exc, w_exc, w_inh)
    return Connectivity.from_arrays(n_exc, n_inh, pre=pre, post=post, weight=weight)


def reference_run(net, n_steps: int, plastic: bool = True):
    """Simulate a built :class:`SpikingEINetwork` from its initial state, the plain way.

    Dense weight matrices ``W[post, pre]``, per-neuron traces decayed every step (not
    event-driven), spike queue as a list of past spike vectors. Returns ``(spikes (n_steps, n)
    bool, final weights as the synapse vector)``. Only ``input_rate_hz == 0`` is supported.
    """
    p = net.params_
    conn = net.connectivity_
    n, n_exc = conn.n, conn.n_exc
    dt = p["dt_ms"]
    w = np.zeros((n, n))
    w[conn.post, conn.pre] = net.connectivity_.weight
    is_plastic = np.zeros((n, n), dtype=bool)
    mask = conn.inhibitory_to_excitatory() if plastic else np.zeros(conn.n_synapses, bool)
    is_plastic[conn.post[mask], conn.pre[mask]] = True
    exists = np.zeros((n, n), dtype=bool)
    exists[conn.post, conn.pre] = True
    exc_pre = np.arange(n) < n_exc
    v = net.v_init_mv_.copy()
    ge = np.zeros(n)
    gi = np.zeros(n)
    last = np.full(n, -(10**9))
    x_pre = np.zeros(n)
    x_post = np.zeros(n)
    decay = np.exp(-dt / p["tau_stdp_ms"])
    history = []
    spikes = np.zeros((n_steps, n), dtype=bool)
    for s in range(n_steps):
        x_pre *= decay
        x_post *= decay
        not_ref = (s - last) >= p["ref_steps"]
        if p["synapse"] == "conductance":
            dv = (
                p["v_rest_mv"]
                - v
                + ge * (p["e_exc_mv"] - v)
                + gi * (p["e_inh_mv"] - v)
                + net.bias_mv_
            ) / p["tau_m_ms"]
        else:
            dv = (p["v_rest_mv"] - v + ge - gi + net.bias_mv_) / p["tau_m_ms"]
        v = np.where(not_ref, v + dt * dv, v)
        ge = ge + dt * (-ge / p["tau_exc_ms"])
        gi = gi + dt * (-gi / p["tau_inh_ms"])
        fired = not_ref & (v > p["v_threshold_mv"])
        spikes[s] = fired
        last[fired] = s
        history.append(fired)
        if s - p["delay_steps"] >= 0:
            arrived = history[s - p["delay_steps"]]
            # pre-synaptic pathway: plastic synapses update before they transmit
            upd = is_plastic & arrived[None, :]
            w[upd] = np.clip(
                w[upd] + p["learning_rate"] * (x_post[:, None] - p["alpha"]).repeat(n, axis=1)[upd],
                0.0,
                p["w_max"],
            )
            ge += (w * (exists & arrived[None, :] & exc_pre[None, :])).sum(axis=1)
            gi += (w * (exists & arrived[None, :] & ~exc_pre[None, :])).sum(axis=1)
            x_pre[arrived] += 1.0
        x_post[fired] += 1.0
        upd = is_plastic & fired[:, None]
        w[upd] = np.clip(
            w[upd] + p["learning_rate"] * np.broadcast_to(x_pre[None, :], (n, n))[upd],
            0.0,
            p["w_max"],
        )
        v[fired] = p["v_reset_mv"]
    return spikes, w[conn.post, conn.pre]


#: the recurrent, plastic, Poisson-driven network of the engine-agreement tests (an irregular,
#: active regime)
RECURRENT = dict(
    n_exc=200,
    n_inh=50,
    connection_prob=0.2,
    w_exc=0.05,
    w_inh=0.5,
    w_inh_exc=0.5,
    bias_mv=5.0,
    bias_spread_mv=0.0,
    input_rate_hz=3000.0,
    w_input=0.02,
    learning_rate=0.01,
    record_v=0,
)
