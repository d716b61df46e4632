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
