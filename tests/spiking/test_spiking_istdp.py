"""Inhibitory STDP (Vogels et al. 2011) drives excitatory rates to the target."""

from __future__ import annotations

import numpy as np
import pytest

from neurolearn.spiking import Connectivity, SpikingEINetwork

TARGET_HZ = 5.0
PLASTIC_MS = 20000.0  # long enough to converge (~10 s at the default learning rate)
LAST_MS = 5000.0


def _rates(seed: int, plasticity: bool):
    net = SpikingEINetwork(seed=seed, plasticity=plasticity, target_rate_hz=TARGET_HZ)
    before = net.run(1000.0, plasticity=False).rates_hz()[: net.n_exc]
    during = net.run(PLASTIC_MS)
    after = during.rates_hz(start_ms=PLASTIC_MS - LAST_MS)[: net.n_exc]
    return before, after, net


@pytest.mark.parametrize("seed", [0, 1])
def test_istdp_reaches_target_rate_and_narrows_rates(seed):
    before, after, net = _rates(seed, plasticity=True)
    assert abs(after.mean() - TARGET_HZ) <= 0.10 * TARGET_HZ
    assert after.std() < 0.5 * before.std()
    w = net.weights_[net.plastic_mask_]
    assert w.mean() > net.connectivity_.weight[net.plastic_mask_].mean()  # inhibition grew
    assert w.max() < net.w_max  # not saturated at the bound


def test_without_istdp_the_same_network_misses_the_target():
    before, after, _ = _rates(0, plasticity=False)
    assert abs(after.mean() - TARGET_HZ) > 0.10 * TARGET_HZ
    assert after.std() > 0.8 * before.std()  # no narrowing


def test_target_rate_moves_the_fixed_point():
    # a higher target gives a higher rate: the rule's depression constant alpha = 2 rho0 tau
    rates = []
    for target in (3.0, 10.0):
        net = SpikingEINetwork(n_exc=200, n_inh=50, seed=0, target_rate_hz=target)
        rates.append(net.run(8000.0).population_rate_hz(start_ms=5000.0))
    assert rates[0] < rates[1]
    assert abs(rates[1] - 10.0) < abs(rates[0] - 10.0)


def test_single_synapse_weight_change_matches_rule():
    # one inhibitory neuron (1) onto one excitatory neuron (0); both fire regularly from their
    # biases. The weight change must equal the rule summed over the recorded spike pairs.
    conn = Connectivity.from_arrays(1, 1, pre=[1], post=[0], weight=[0.0])
    eta, tau, alpha = 0.01, 20.0, 2 * 5.0 * 20.0 / 1000.0
    net = SpikingEINetwork(
        n_exc=1,
        n_inh=1,
        connectivity=conn,
        bias_mv=15.0,
        bias_spread_mv=3.0,
        input_rate_hz=0.0,
        learning_rate=eta,
        tau_stdp_ms=tau,
        target_rate_hz=5.0,
        w_max=1e9,
        seed=0,
    )
    rec = net.run(300.0)
    t_pre = rec.spike_times_ms[rec.spike_ids == 1]
    t_post = rec.spike_times_ms[rec.spike_ids == 0]
    w = 0.0
    events = sorted([(t, 0) for t in t_pre] + [(t, 1) for t in t_post])  # pre first on ties
    for t, kind in events:
        if kind == 0:
            x_post = np.exp(-(t - t_post[t_post < t]) / tau).sum()
            w = max(w + eta * (x_post - alpha), 0.0)
        else:
            x_pre = np.exp(-(t - t_pre[t_pre <= t]) / tau).sum()
            w = max(w + eta * x_pre, 0.0)
    assert len(t_pre) > 5 and len(t_post) > 5
    np.testing.assert_allclose(net.weights_[0], w, rtol=1e-9)
