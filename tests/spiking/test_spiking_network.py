"""The LIF E/I network on the numba engine: reference, theory, determinism, errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
from reference_spiking import reference_run

from neurolearn.errors import (
    BackendError,
    DivergenceError,
    ParameterError,
    ParameterTypeError,
)
from neurolearn.spiking import Connectivity, SpikingEINetwork, first_divergence
from neurolearn.spiking._numba_engine import CHUNK_STEPS

SMALL = dict(n_exc=40, n_inh=10, connection_prob=0.2, input_rate_hz=0.0, bias_spread_mv=6.0)


@pytest.mark.parametrize("synapse", ["conductance", "current"])
@pytest.mark.parametrize("delay_ms", [0.0, 1.0])
def test_kernel_matches_naive_reference(synapse, delay_ms):
    weights = {"conductance": {}, "current": dict(w_exc=0.5, w_inh=2.0, w_inh_exc=1.0)}[synapse]
    net = SpikingEINetwork(
        **SMALL, synapse=synapse, delay_ms=delay_ms, learning_rate=0.01, seed=3, **weights
    ).initialize()
    n_steps = 3000
    spikes_ref, w_ref = reference_run(net, n_steps)
    rec = net.run(n_steps * net.dt_ms)
    spikes = np.zeros_like(spikes_ref)
    spikes[rec.spike_steps, rec.spike_ids] = True
    assert spikes_ref.sum() > 100  # the comparison is not vacuous
    np.testing.assert_array_equal(spikes, spikes_ref)
    np.testing.assert_allclose(net.weights_, w_ref, rtol=1e-9, atol=1e-12)
    assert not np.allclose(net.weights_, net.connectivity_.weight)  # plasticity acted


def test_isi_of_uncoupled_neuron_matches_theory():
    # v_inf = v_rest + bias; the time from reset to threshold is tau ln((v_inf - v_r)/(v_inf - th))
    bias = 15.0
    conn = Connectivity.from_arrays(1, 0, pre=[], post=[], weight=[])
    net = SpikingEINetwork(
        n_exc=1,
        n_inh=0,
        connectivity=conn,
        bias_mv=bias,
        bias_spread_mv=0.0,
        input_rate_hz=0.0,
        dt_ms=0.01,
        seed=0,
    )
    rec = net.run(1000.0)
    isi = np.diff(rec.spike_times_ms)
    theory = net.refractory_ms + net.tau_m_ms * math.log(bias / (bias - 10.0))
    assert isi.std() < 0.02
    assert abs(isi.mean() - theory) < 0.05  # Euler at dt = 0.01 ms: error ~ dt


def test_seeded_determinism_and_seed_dependence():
    a = SpikingEINetwork(**SMALL, seed=7).run(300.0)
    b = SpikingEINetwork(**SMALL, seed=7).run(300.0)
    c = SpikingEINetwork(**SMALL, seed=8).run(300.0)
    assert first_divergence(a, b) is None
    assert first_divergence(a, c) is not None


def test_runs_continue_across_calls_and_chunks():
    # one long run == two runs back to back (state, spike queue, traces and drive carry over),
    # across a kernel chunk boundary
    kw = dict(
        n_exc=40,
        n_inh=10,
        connection_prob=0.2,
        input_rate_hz=800.0,
        delay_ms=0.5,
        learning_rate=0.01,
        seed=2,
    )
    total = CHUNK_STEPS + 700
    whole = SpikingEINetwork(**kw)
    a = whole.run(total * 0.1)
    parts = SpikingEINetwork(**kw)
    b1 = parts.run(123.4)
    b2 = parts.run(total * 0.1 - 123.4)
    assert (b1.n_steps, b2.start_step) == (1234, 1234)
    np.testing.assert_array_equal(np.r_[b1.spike_steps, b2.spike_steps], a.spike_steps)
    np.testing.assert_array_equal(np.r_[b1.spike_ids, b2.spike_ids], a.spike_ids)
    np.testing.assert_array_equal(parts.weights_, whole.weights_)
    assert len(a.spike_ids) > 100


def test_record_statistics():
    rec = SpikingEINetwork(**SMALL, seed=1).run(500.0)
    counts = rec.spike_counts()
    assert counts.sum() == len(rec.spike_ids)
    np.testing.assert_allclose(rec.rates_hz(), counts / 0.5)
    starts, rate = rec.binned_rate_hz(50.0, "all")
    assert len(starts) == 10
    assert np.isclose(rate.mean(), rec.population_rate_hz("all"))
    assert rec.v_trace_mv.shape == (5000, 10)


def test_membrane_traces_obey_threshold_reset_and_refractory_period():
    net = SpikingEINetwork(**SMALL, seed=1)
    rec = net.run(500.0)
    v = rec.v_trace_mv
    # at the start of a step a neuron is below threshold (a crossing spikes and resets it within
    # the step) and, with conductance synapses, never below the inhibitory reversal potential
    assert v.max() < net.v_threshold_mv and v.min() >= net.e_inh_mv
    refractory_steps = int(round(net.refractory_ms / net.dt_ms))
    checked = 0
    for column, neuron in enumerate(rec.trace_ids):
        steps = rec.spike_steps[rec.spike_ids == neuron] - rec.start_step
        for s in steps[steps + refractory_steps + 1 < rec.n_steps]:
            # held at reset for exactly the refractory period after the spike, then free again
            np.testing.assert_array_equal(
                v[s + 1 : s + 1 + refractory_steps, column], net.v_reset_mv
            )
            assert v[s + 1 + refractory_steps, column] != net.v_reset_mv
            checked += 1
    assert checked > 50


def test_cv_isi_matches_a_naive_computation():
    rec = SpikingEINetwork(**SMALL, seed=1).run(500.0)
    start_ms = 250.0
    times = rec.spike_times_ms
    want = []
    for neuron in range(rec.n_exc):
        t = np.sort(times[(rec.spike_ids == neuron) & (times >= start_ms)])
        if len(t) >= 3:
            isi = np.diff(t)
            want.append(np.sqrt(np.mean((isi - isi.mean()) ** 2)) / isi.mean())
    got = rec.cv_isi(start_ms=start_ms)
    assert len(want) > 10
    np.testing.assert_allclose(got, want, rtol=1e-12)
    # constant bias, no Poisson drive: near-periodic firing, far from Poisson (CV 1)
    assert 0 <= got.max() < 0.3
    assert rec.mean_cv_isi(start_ms=start_ms) == pytest.approx(np.mean(want), rel=1e-12)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(tau_m_ms=-20.0), "'tau_m_ms' parameter of SpikingEINetwork must be a float > 0"),
        (dict(tau_exc_ms=0.0), "'tau_exc_ms'"),
        (dict(dt_ms=1.0, refractory_ms=0.5), "'dt_ms' parameter .* must not exceed refractory_ms"),
        (dict(v_reset_mv=-40.0), "'v_reset_mv'"),
        (dict(connection_prob=1.5), "'connection_prob'"),
        (dict(synapse="alpha"), "'synapse'"),
    ],
)
def test_bad_parameters_are_named(kwargs, match):
    with pytest.raises(ParameterError, match=match):
        SpikingEINetwork(**dict(SMALL, **kwargs)).run(10.0)


def test_unknown_backend_and_wrong_types():
    with pytest.raises(BackendError, match="'backend' parameter .* 'numba', 'brian2', 'torch'"):
        SpikingEINetwork(**SMALL, backend="nest").run(10.0)
    with pytest.raises(ParameterTypeError, match="'n_exc'"):
        SpikingEINetwork(**dict(SMALL, n_exc="40")).initialize()
    with pytest.raises(ParameterTypeError, match="'connectivity'"):
        SpikingEINetwork(**SMALL, connectivity=np.zeros((3, 3))).initialize()
    conn = Connectivity.from_arrays(2, 1, pre=[0], post=[1], weight=[0.1])
    with pytest.raises(ParameterError, match="2 E / 1 I"):
        SpikingEINetwork(**SMALL, connectivity=conn).initialize()
    with pytest.raises(ParameterError, match="'input_weight_mv'"):
        SpikingEINetwork(**SMALL, seed=0).run(10.0, input_signal=np.zeros(3))
    with pytest.raises(ParameterError, match="'duration_ms'"):
        SpikingEINetwork(**SMALL, seed=0).run(-1.0)


def test_connectivity_validation():
    with pytest.raises(ParameterError, match="'post' parameter of Connectivity"):
        Connectivity.from_arrays(2, 1, pre=[0], post=[3], weight=[0.1])
    with pytest.raises(ParameterError, match="'weight' parameter of Connectivity must be >= 0"):
        Connectivity.from_arrays(2, 1, pre=[0], post=[1], weight=[-0.1])
    with pytest.raises(ParameterError, match="same shape"):
        Connectivity.from_arrays(2, 1, pre=[0, 1], post=[1], weight=[0.1])
    dense = Connectivity.from_arrays(2, 1, pre=[2, 0], post=[0, 1], weight=[0.5, 0.1]).to_dense()
    assert dense[0, 2] == -0.5 and dense[1, 0] == 0.1


def test_divergence_is_detected_with_its_step():
    net = SpikingEINetwork(**dict(SMALL, w_inh=1e200, w_inh_exc=1e200), seed=0)
    with pytest.raises(DivergenceError) as info:
        net.run(200.0)
    assert info.value.step is not None and info.value.step > 0
