"""Many spiking networks in one call: run_batch equals the single runs it replaces."""

from __future__ import annotations

import copy

import numba
import numpy as np
import pytest

from neurolearn.errors import DivergenceError, ParameterError, ParameterTypeError
from neurolearn.spiking import SpikingEINetwork, replicate, run_batch

# a recurrent, plastic, Poisson-driven network in an irregular regime
DRIVEN = dict(
    n_exc=80,
    n_inh=20,
    connection_prob=0.2,
    w_exc=0.05,
    w_inh=0.5,
    w_inh_exc=0.5,
    bias_mv=5.0,
    bias_spread_mv=2.0,
    input_rate_hz=3000.0,
    w_input=0.02,
    learning_rate=0.01,
    record_v=4,
)


def _same(rec_a, net_a, rec_b, net_b):
    np.testing.assert_array_equal(rec_a.spike_steps, rec_b.spike_steps)
    np.testing.assert_array_equal(rec_a.spike_ids, rec_b.spike_ids)
    np.testing.assert_array_equal(rec_a.v_trace_mv, rec_b.v_trace_mv)
    np.testing.assert_array_equal(net_a.weights_, net_b.weights_)
    assert rec_a.start_step == rec_b.start_step and net_a.step_ == net_b.step_


def _heterogeneous():
    """Five networks differing in seed, size, target rate, synapse model, delay and drive."""
    return [
        SpikingEINetwork(**DRIVEN, seed=0),
        SpikingEINetwork(**DRIVEN, seed=1, target_rate_hz=10.0),
        SpikingEINetwork(**dict(DRIVEN, n_exc=60, n_inh=15), seed=2, delay_ms=1.0),
        SpikingEINetwork(
            **dict(DRIVEN, w_exc=0.8, w_inh=3.0, w_inh_exc=2.0, bias_mv=9.0, w_input=0.5),
            synapse="current",
            seed=3,
        ),
        SpikingEINetwork(**dict(DRIVEN, input_rate_hz=0.0, bias_mv=12.0), seed=4),
    ]


def test_batch_equals_single_runs_bit_for_bit():
    batch, singles = _heterogeneous(), _heterogeneous()
    first = run_batch(batch, 150.0, plasticity=False)
    second = run_batch(batch, 250.0)  # continues every network
    for i, net in enumerate(singles):
        rec1 = net.run(150.0, plasticity=False)
        rec2 = net.run(250.0)
        for a, b in ((first[i], rec1), (second[i], rec2)):
            np.testing.assert_array_equal(a.spike_steps, b.spike_steps)
            np.testing.assert_array_equal(a.spike_ids, b.spike_ids)
            np.testing.assert_array_equal(a.v_trace_mv, b.v_trace_mv)
        _same(second[i], batch[i], rec2, net)
        assert len(rec2.spike_ids) > 100  # every network is active: the comparison is not vacuous
    assert not np.array_equal(batch[0].weights_, batch[0].connectivity_.weight)


def test_batch_does_not_depend_on_thread_count():
    results = []
    for threads in (1, numba.config.NUMBA_NUM_THREADS):
        numba.set_num_threads(threads)
        try:
            nets = replicate(SpikingEINetwork(**DRIVEN), seeds=range(4))
            results.append(run_batch(nets, 100.0))
        finally:
            numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    for a, b in zip(*results, strict=True):
        np.testing.assert_array_equal(a.spike_ids, b.spike_ids)
        np.testing.assert_array_equal(a.spike_steps, b.spike_steps)


@pytest.mark.parametrize(
    "make_seed, rate_hz",
    [
        (lambda: 5, 3000.0),  # PCG64, mean 0.3 per step: the kernel's copy of numpy's algorithm
        (lambda: np.random.Generator(np.random.MT19937(5)), 3000.0),  # another generator draws
        (lambda: 5, 200_000.0),  # mean 20: numpy's other algorithm, through the generator
    ],
    ids=["pcg64", "mt19937", "large-mean"],
)
def test_drive_drawn_in_the_kernel_is_the_numpy_poisson_stream(make_seed, rate_hz):
    # the kernel draws Poisson(rate dt) per step and neuron in the order numpy's
    # rng.poisson(lam, size=(n_steps, n)) does: the same counts (the run's drive) and the
    # generator left in the same state; a silent network would not draw at all
    kw = dict(DRIVEN, input_rate_hz=rate_hz, w_input=0.02 * 3000.0 / rate_hz)
    net = SpikingEINetwork(**kw, seed=make_seed()).initialize()
    twin = copy.deepcopy(net.drive_rng_)
    net.run(30.0)
    lam = net.input_rate_hz * net.dt_ms / 1000.0
    counts = twin.poisson(lam, size=(300, net.connectivity_.n))
    assert counts.sum() > 1000
    np.testing.assert_array_equal(twin.random(50), net.drive_rng_.random(50))
    # the same drive, pre-drawn and fed to the torch engine, gives the same network
    other = SpikingEINetwork(**kw, seed=make_seed(), backend="torch", dtype="float64")
    single = SpikingEINetwork(**kw, seed=make_seed())
    assert other.run(30.0).spike_ids.tolist() == single.run(30.0).spike_ids.tolist()


def test_pcg64_copy_is_numpy_stream():
    from neurolearn._kernels.numba.spiking import (
        pcg64_next_double,
        pcg64_poisson_small,
        pcg64_state,
        set_pcg64_state,
    )

    @numba.njit
    def uniforms(st, n):
        out = np.empty(n)
        for i in range(n):
            out[i] = pcg64_next_double(st)
        return out

    @numba.njit
    def counts(st, lam, n):
        out = np.empty(n, np.int64)
        for i in range(n):
            out[i] = pcg64_poisson_small(st, np.exp(-lam))
        return out

    rng = np.random.default_rng(2026)
    st = pcg64_state(rng.bit_generator)
    np.testing.assert_array_equal(uniforms(st, 100_000), rng.random(100_000))
    for lam in (1e-3, 0.1, 0.7, 3.0, 9.9):
        np.testing.assert_array_equal(counts(st, lam, 20_000), rng.poisson(lam, 20_000))
    mirror = np.random.default_rng(0)
    set_pcg64_state(mirror.bit_generator, st)
    assert mirror.random() == rng.random()


def test_input_signal_shared_or_per_network():
    u = np.sin(np.linspace(0, 6, 40))
    nets = replicate(SpikingEINetwork(**DRIVEN), seeds=[0, 1])
    w = [np.full(100, 3.0), np.linspace(0, 6, 100)]
    recs = run_batch(nets, 100.0, input_signal=u, input_weight_mv=w, hold_ms=2.5)
    for i, seed in enumerate((0, 1)):
        single = SpikingEINetwork(**DRIVEN, seed=seed)
        rec = single.run(100.0, input_signal=u, input_weight_mv=w[i], hold_ms=2.5)
        _same(recs[i], nets[i], rec, single)
    # one list of plain numbers is one signal for every network
    nets = replicate(SpikingEINetwork(**DRIVEN), seeds=[0, 1])
    recs = run_batch(nets, 50.0, input_signal=list(u), input_weight_mv=w[0], hold_ms=2.5)
    single = SpikingEINetwork(**DRIVEN, seed=1)
    _same(
        recs[1],
        nets[1],
        single.run(50.0, input_signal=u, input_weight_mv=w[0], hold_ms=2.5),
        single,
    )


def test_divergence_is_reported_per_network():
    good = dict(DRIVEN, input_rate_hz=0.0, bias_mv=12.0)
    bad = dict(good, w_inh=1e200, w_inh_exc=1e200)
    nets = [SpikingEINetwork(**good, seed=0), SpikingEINetwork(**bad, seed=0)]
    recs = run_batch(nets, 100.0, on_divergence="return")
    assert isinstance(recs[1], DivergenceError) and recs[1].step > 0
    assert nets[0].step_ == 1000 and nets[1].step_ == 0  # the healthy one ran to the end
    single = SpikingEINetwork(**good, seed=0)
    _same(recs[0], nets[0], single.run(100.0), single)
    nets = [SpikingEINetwork(**good, seed=0), SpikingEINetwork(**bad, seed=0)]
    with pytest.raises(DivergenceError, match=r"network\(s\) \[1\] diverged"):
        run_batch(nets, 100.0)
    assert nets[0].step_ == 1000


def test_replicate_seeds_and_values():
    template = SpikingEINetwork(**DRIVEN, seed=7)
    nets = replicate(template, target_rate_hz=[2.0, 5.0, 8.0])
    assert [n.target_rate_hz for n in nets] == [2.0, 5.0, 8.0]
    again = replicate(template, n=3)
    children = np.random.SeedSequence(7).spawn(3)
    for net, child in zip(again, children, strict=True):
        assert net.seed.entropy == child.entropy and net.seed.spawn_key == child.spawn_key
    recs = run_batch(again, 50.0)
    assert len({len(r.spike_ids) for r in recs}) > 1  # the copies differ
    twice = run_batch(replicate(template, n=3), 50.0)
    for a, b in zip(recs, twice, strict=True):  # and are reproducible
        np.testing.assert_array_equal(a.spike_ids, b.spike_ids)
    assert not hasattr(template, "connectivity_")  # the template is untouched


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: run_batch([], 10.0), ParameterError, "must not be empty"),
        (lambda: run_batch(SpikingEINetwork(), 10.0), ParameterTypeError, "list of"),
        (lambda: run_batch([SpikingEINetwork(), 3], 10.0), ParameterTypeError, "Entry 1"),
        (lambda: run_batch([SpikingEINetwork()], -1.0), ParameterError, "duration_ms"),
        (
            lambda: run_batch([SpikingEINetwork()], 10.0, on_divergence="ignore"),
            ParameterError,
            "on_divergence",
        ),
        (
            lambda: run_batch(
                [SpikingEINetwork(), SpikingEINetwork()],
                10.0,
                input_signal=[np.zeros(3)] * 3,
                input_weight_mv=np.zeros(500),
                hold_ms=1.0,
            ),
            ParameterError,
            "list of 2",
        ),
        (lambda: replicate(SpikingEINetwork()), ParameterError, "give n, seeds"),
        (lambda: replicate(3, n=2), ParameterTypeError, "template"),
        (lambda: replicate(SpikingEINetwork(), n=0), ParameterError, "positive int"),
        (
            lambda: replicate(SpikingEINetwork(), seeds=[0, 1], w_exc=[0.1]),
            ParameterError,
            "must agree",
        ),
        (lambda: replicate(SpikingEINetwork(), n=2, w_ecx=[1, 2]), ParameterError, "w_exc"),
    ],
)
def test_bad_input_is_named(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_same_network_twice_is_refused():
    net = SpikingEINetwork(**DRIVEN, seed=0)
    with pytest.raises(ParameterError, match="positions 0 and 1"):
        run_batch([net, net], 10.0)


def test_reservoirs_in_one_batch_equal_their_single_runs():
    from neurolearn.spiking import SpikingReservoir, run_reservoirs

    rng = np.random.default_rng(0)
    u = [rng.uniform(-0.8, 0.8, 40), rng.uniform(-0.8, 0.8, (40, 1)), rng.uniform(-1, 1, 25)]

    def make():
        return [
            SpikingReservoir(n=60, step_ms=5.0, adaptation="istdp", seed=0),
            SpikingReservoir(n=80, step_ms=5.0, input_scale_mv=6.0, state="both", seed=1),
            SpikingReservoir(n=60, step_ms=4.0, adaptation="istdp", seed=2),
        ]

    batch = make()
    states = run_reservoirs(batch, u, adapt=True)
    for i, res in enumerate(make()):
        expected = res.adapt(u[i]).run(u[i])
        np.testing.assert_array_equal(states[i], expected)
        assert states[i].std() > 0
        np.testing.assert_array_equal(batch[i].network_.weights_, res.network_.weights_)
        assert batch[i].adapted_ == res.adapted_
    with pytest.raises(ParameterTypeError, match="Entry 0"):
        run_reservoirs([SpikingEINetwork()], u[0])
