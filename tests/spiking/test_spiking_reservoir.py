"""The spiking reservoir: states, memory capacity with the rate reservoir's protocol, NARMA."""

from __future__ import annotations

import numpy as np
import pytest

from neurolearn.errors import NotFittedError, ParameterError
from neurolearn.reservoir import Readout, memory_capacity, narma_prediction
from neurolearn.spiking import SpikingReservoir, filtered_states

MC = dict(max_delay=20, train_steps=1500, test_steps=500, washout=50, ridge=1e-4)


def test_filtered_states_match_naive_sum():
    rng = np.random.default_rng(0)
    n, hold, n_values, decay = 4, 7, 12, 0.93
    steps = np.sort(rng.integers(0, hold * n_values, 60))
    ids = rng.integers(0, n, 60)
    got = filtered_states(steps, ids, n, 0, hold, n_values, decay)
    want = np.zeros((n_values, n))
    for k in range(n_values):
        end = (k + 1) * hold - 1
        for s, i in zip(steps, ids, strict=True):
            if s <= end:
                want[k, i] += decay ** (end - s)
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_run_is_from_rest_and_deterministic():
    u = np.random.default_rng(1).uniform(-0.8, 0.8, (60, 1))
    res = SpikingReservoir(n=80, seed=3)
    a = res.run(u)
    b = res.run(u)  # from rest again: same states
    c = SpikingReservoir(n=80, seed=3).run(u[:, 0])
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, c)
    assert a.shape == (60, 80) and a.sum() > 0
    assert res.mean_rate_hz_ > 0


def test_memory_capacity_positive_and_grows_with_size():
    totals = []
    for n in (50, 200, 400):
        mc = memory_capacity(SpikingReservoir(n=n, seed=0), **MC, seed=1)
        totals.append(mc["total"])
    assert totals[0] > 0.1
    assert totals[0] < totals[1] < totals[2]


class _InputAlone:
    """A "reservoir" whose state is the current input: the readout of u(t) alone."""

    def run(self, u):
        return np.asarray(u, dtype=float)


NARMA = dict(washout=50, ridge=1e-4)


def test_narma10_is_no_better_than_a_readout_of_the_input_alone():
    """Same series, same readout: the spiking states against u(t) alone.

    Measured (train 1500 / test 500): 0.911 vs 0.879 at n = 200; larger networks overfit
    (n = 800: 1.08). With the default 5000 / 2000 steps at n = 800, seeds 0, 1, 2: 0.850, 0.878,
    0.868 against 0.861, 0.877, 0.861. The filtered spikes carry too little memory (MC ~ 2-3)
    to help on NARMA-10, so the claim that the spiking reservoir beats the current input does
    not hold; this test pins what does: it is far from useless (below the mean's NRMSE 1) and
    within a few percent of the input-alone readout, on the same data.
    """
    kw = dict(train_steps=1500, test_steps=500, seed=0, **NARMA)
    spiking = narma_prediction(SpikingReservoir(n=200, seed=0), **kw)
    alone = narma_prediction(_InputAlone(), **kw)
    np.testing.assert_array_equal(spiking["target"], alone["target"])  # the same scored data
    assert spiking["nrmse"] < 1.0
    assert abs(spiking["nrmse"] - alone["nrmse"]) < 0.05 * alone["nrmse"]


def test_istdp_adaptation_changes_inhibition_then_freezes():
    u = np.random.default_rng(0).uniform(-0.8, 0.8, (200, 1))
    res = SpikingReservoir(
        n=100,
        adaptation="istdp",
        seed=0,
        network_params={"target_rate_hz": 5.0, "learning_rate": 0.01},
    )
    res.initialize()
    w0 = res.network_.weights_.copy()
    res.adapt(u)
    w1 = res.network_.weights_.copy()
    assert res.adapted_ and not np.allclose(w0, w1)
    states = res.run(u)
    np.testing.assert_array_equal(res.network_.weights_, w1)  # frozen while running
    ro = Readout(ridge=1e-4, washout=20).fit(states[:-1], u[1:])
    assert ro.coef_.shape == (100, 1)
    none = SpikingReservoir(n=100, seed=0).initialize()
    w_none = none.network_.weights_.copy()
    none.adapt(u)
    np.testing.assert_array_equal(none.network_.weights_, w_none)


def test_reservoir_bad_input():
    with pytest.raises(ParameterError, match="'u' parameter of SpikingReservoir must have shape"):
        SpikingReservoir(n=20, seed=0).run(np.zeros((10, 2)))
    with pytest.raises(ParameterError, match="'adaptation'"):
        SpikingReservoir(n=20, adaptation="bcm").run(np.zeros(5))
    with pytest.raises(ParameterError, match="must not set \\['seed'\\]"):
        SpikingReservoir(n=20, network_params={"seed": 1}).run(np.zeros(5))
    with pytest.raises(ParameterError, match="'step_ms'"):
        SpikingReservoir(n=20, step_ms=0.0).run(np.zeros(5))
    with pytest.raises(NotFittedError):
        _ = SpikingReservoir(n=20).mean_rate_hz_


def test_brian2_engine_gives_the_same_states():
    # the input current path (held values, per-neuron weights) is the same on both engines
    u = np.random.default_rng(2).uniform(-0.8, 0.8, (30, 1))
    a = SpikingReservoir(n=40, seed=5).run(u)
    b = SpikingReservoir(n=40, seed=5, backend="brian2").run(u)
    assert a.sum() > 0
    np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


# ---------------------------------------------------------------- state options
def _spike_matrix(rec) -> np.ndarray:
    spikes = np.zeros((rec.n_steps, rec.n))
    np.add.at(spikes, (rec.spike_steps - rec.start_step, rec.spike_ids), 1.0)
    return spikes


def test_several_filter_time_constants_are_numpy_exponential_filters():
    u = np.random.default_rng(4).uniform(-0.8, 0.8, (40, 1))
    taus = [5.0, 20.0, 80.0]
    res = SpikingReservoir(n=50, step_ms=3.0, filter_tau_ms=taus, seed=2)
    states = res.run(u)
    assert states.shape == (40, 3 * 50)
    # an explicit exponential filter of the recorded spike trains, step by step
    rec = res.last_record_
    spikes = _spike_matrix(rec)
    hold = 30  # 3 ms at dt = 0.1 ms
    assert spikes.sum() > 100
    for b, tau in enumerate(taus):
        decay = np.exp(-rec.dt_ms / tau)
        trace = np.zeros(50)
        want = np.empty((40, 50))
        for step in range(rec.n_steps):
            trace = trace * decay + spikes[step]
            if (step + 1) % hold == 0:
                want[(step + 1) // hold - 1] = trace
        np.testing.assert_allclose(states[:, b * 50 : (b + 1) * 50], want, rtol=1e-10, atol=1e-12)
    # each block is the single-time-constant reservoir's states; a scalar is a list of one
    one = SpikingReservoir(n=50, step_ms=3.0, filter_tau_ms=20.0, seed=2).run(u)
    np.testing.assert_array_equal(states[:, 50:100], one)
    listed = SpikingReservoir(n=50, step_ms=3.0, filter_tau_ms=[20.0], seed=2).run(u)
    np.testing.assert_array_equal(listed, one)


def test_synaptic_states_are_the_engines_conductances():
    # the engine's g_exc / g_inh after a run from rest on u[:k] are the states after value k
    u = np.random.default_rng(5).uniform(-0.8, 0.8, (30, 1))
    params = dict(n=60, step_ms=4.0, state="synaptic", seed=1, network_params={"delay_ms": 1.0})
    res = SpikingReservoir(**params)
    states = res.run(u)
    assert states.shape == (30, 120)
    for k in (11, 30):
        part = SpikingReservoir(**params)
        part.run(u[:k])
        g = part.network_._state
        assert g.g_exc.max() > 0 and g.g_inh.max() > 0
        np.testing.assert_allclose(states[k - 1, :60], g.g_exc, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(states[k - 1, 60:], g.g_inh, rtol=1e-12, atol=1e-15)


def test_both_concatenates_filtered_and_synaptic_states():
    u = np.random.default_rng(6).uniform(-0.8, 0.8, (25, 1))
    kw = dict(n=40, step_ms=5.0, filter_tau_ms=[10.0, 30.0], seed=4)
    both = SpikingReservoir(state="both", **kw).run(u)
    filtered = SpikingReservoir(state="filtered", **kw).run(u)
    synaptic = SpikingReservoir(state="synaptic", **kw).run(u)
    np.testing.assert_array_equal(both, np.concatenate([filtered, synaptic], axis=1))
    assert both.shape == (25, 2 * 40 + 2 * 40)


def test_input_fraction_and_gain_set_the_input_weights():
    res = SpikingReservoir(n=400, input_fraction=0.25, input_scale_mv=3.0, seed=0).initialize()
    w = res.input_weight_mv_
    driven = w != 0
    assert 0.18 < driven.mean() < 0.32  # binomial(400, 0.25): 0.25 +- 3.5 sd
    assert np.abs(w).max() <= 3.0 and np.abs(w[driven]).max() > 2.8


def test_state_options_are_validated():
    u = np.zeros(5)
    with pytest.raises(ParameterError, match="'state' parameter of SpikingReservoir"):
        SpikingReservoir(n=20, state="voltage").run(u)
    with pytest.raises(ParameterError, match="'filter_tau_ms' parameter of SpikingReservoir"):
        SpikingReservoir(n=20, filter_tau_ms=[10.0, -1.0]).run(u)
    with pytest.raises(ParameterError, match="'filter_tau_ms' parameter of SpikingReservoir"):
        SpikingReservoir(n=20, filter_tau_ms=[]).run(u)


def test_spec_keys_for_the_state_options():
    from neurolearn import specs
    from neurolearn.errors import SpecError
    from neurolearn.spiking.reservoir_experiment import build_reservoir

    model = specs.load_model(
        "spiking-reservoir", ["network.filter_tau_ms=[10.0, 50.0]", "network.state=both"]
    )
    res = build_reservoir(model, seed=0)
    assert res.filter_tau_ms == [10.0, 50.0] and res.state == "both"
    assert specs.load_model("spiking-reservoir").network.state == "filtered"
    with pytest.raises(SpecError, match="network.state: must be"):
        specs.load_model("spiking-reservoir", ["network.state=voltage"])
    with pytest.raises(SpecError, match="network.filter_tau_ms: must be"):
        specs.load_model("spiking-reservoir", ["network.filter_tau_ms=[0.0]"])


@pytest.mark.parametrize(
    "seed", [0, pytest.param(1, marks=pytest.mark.slow), pytest.param(2, marks=pytest.mark.slow)]
)
def test_remedies_raise_memory_capacity_over_the_default_states(seed):
    # n = 200 with MC's protocol above, seeds 0-2 (measured, this code): the default states
    # give 1.37 / 1.30 / 1.38; a 5 ms step 1.76 / 1.92 / 1.77 (x1.28-1.47); filtered spikes plus
    # synaptic conductances 2.31 / 2.30 / 2.45 (x1.68-1.77); both remedies together
    # 3.32 / 3.23 / 2.92 (x2.11-2.47). The bounds sit below the smallest measured ratio.
    def mc(**kw):
        res = SpikingReservoir(n=200, seed=seed, **kw)
        return memory_capacity(res, **MC, seed=seed + 10)["total"]

    base = mc()
    assert mc(step_ms=5.0) > 1.15 * base
    assert mc(state="both") > 1.4 * base
    assert mc(step_ms=5.0, state="both") > 1.8 * base
