"""The torch engine of the spiking E/I network: the numba engine's numbers (float64 on the CPU),
its statistics (float32, CUDA), batches equal to the single runs they replace."""

from __future__ import annotations

import numpy as np
import pytest
from needs import optional_torch
from reference_spiking import RECURRENT, feedforward_connectivity

from neurolearn import specs
from neurolearn.errors import BackendError, DivergenceError, ParameterError, SpecError
from neurolearn.spiking import (
    SpikingEINetwork,
    SpikingReservoir,
    replicate,
    run_batch,
    run_reservoirs,
)
from neurolearn.spiking import _torch_engine as engine
from neurolearn.spiking.experiment import network_kwargs

pytestmark = pytest.mark.torch
torch = optional_torch()

F64 = dict(backend="torch", dtype="float64")

#: the feedforward cases of test_spiking_engines.py
FEEDFORWARD = [
    ("conductance", 0.0, dict(w_exc=0.05, w_inh=0.2)),
    ("conductance", 1.5, dict(w_exc=0.05, w_inh=0.2)),
    ("current", 0.0, dict(w_exc=1.0, w_inh=2.0)),
]


#: a 1000-neuron E/I network with iSTDP in an irregular regime (rate ~13 Hz, CV ~0.6)
LARGE = dict(
    n_exc=800,
    n_inh=200,
    connection_prob=0.1,
    w_exc=0.03,
    w_inh=0.3,
    w_inh_exc=0.3,
    bias_mv=5.0,
    bias_spread_mv=0.0,
    input_rate_hz=4000.0,
    w_input=0.02,
    learning_rate=0.01,
    record_v=0,
)


def _feedforward(synapse, delay_ms, weights):
    conn = feedforward_connectivity(40, 10, 0.3, seed=0, **weights)
    return dict(
        n_exc=40,
        n_inh=10,
        connectivity=conn,
        synapse=synapse,
        delay_ms=delay_ms,
        bias_mv=11.0,
        bias_spread_mv=4.0,
        input_rate_hz=0.0,
        learning_rate=0.01,
        record_v=5,
        seed=1,
    )


def _same(a, b):
    np.testing.assert_array_equal(a.spike_steps, b.spike_steps)
    np.testing.assert_array_equal(a.spike_ids, b.spike_ids)
    assert a.start_step == b.start_step and a.n_steps == b.n_steps


@pytest.mark.parametrize("synapse, delay_ms, weights", FEEDFORWARD)
def test_float64_feedforward_equals_numba(synapse, delay_ms, weights):
    kw = _feedforward(synapse, delay_ms, weights)
    ref_net = SpikingEINetwork(**kw)
    ref = ref_net.run(300.0)
    net = SpikingEINetwork(**kw, **F64)
    rec = net.run(300.0)
    assert len(ref.spike_ids) > 150
    _same(rec, ref)
    # the same operations in the same order: not just close, equal
    np.testing.assert_array_equal(rec.v_trace_mv, ref.v_trace_mv)
    np.testing.assert_array_equal(net.weights_, ref_net.weights_)
    assert not np.allclose(net.weights_, kw["connectivity"].weight)  # plasticity exercised


@pytest.mark.parametrize(
    "seed", [0] + [pytest.param(s, marks=pytest.mark.slow) for s in range(1, 5)]
)
def test_float64_recurrent_equals_numba(seed):
    ref_net = SpikingEINetwork(**RECURRENT, seed=seed)
    ref = ref_net.run(300.0)
    net = SpikingEINetwork(**RECURRENT, **F64, seed=seed)
    rec = net.run(300.0)
    assert ref.population_rate_hz() > 2.0 and ref.mean_cv_isi() > 0.3
    _same(rec, ref)
    np.testing.assert_array_equal(net.weights_, ref_net.weights_)


def test_sparse_and_dense_paths_agree(monkeypatch):
    kw = dict(RECURRENT, n_exc=80, n_inh=20, record_v=4, delay_ms=0.3, seed=3)
    recs, nets = {}, {}
    for layout in ("sparse", "dense"):
        monkeypatch.setattr(engine, "LAYOUT", layout)
        nets[layout] = SpikingEINetwork(**kw, **F64)
        recs[layout] = [nets[layout].run(80.0), nets[layout].run(30.0, plasticity=False)]
    for a, b in zip(recs["sparse"], recs["dense"], strict=True):
        assert len(a.spike_ids) > 50
        _same(a, b)
        # the matrix product sums in another order: equal to rounding
        np.testing.assert_allclose(a.v_trace_mv, b.v_trace_mv, rtol=0, atol=1e-9)
    np.testing.assert_allclose(nets["sparse"].weights_, nets["dense"].weights_, atol=1e-12)
    assert not np.allclose(nets["dense"].weights_, nets["dense"].connectivity_.weight)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_sparse_and_dense_paths_agree_on_a_heterogeneous_batch(dtype, monkeypatch):
    # sizes, synapse kinds, delays (the per-neuron delay gather), plasticity on and off
    small = dict(n_exc=40, n_inh=10, connection_prob=0.2, learning_rate=0.01, record_v=3)
    configs = [
        dict(small, seed=0),
        dict(small, n_exc=60, n_inh=15, synapse="current", w_exc=1.0, w_inh=2.0, seed=1),
        dict(small, delay_ms=1.2, input_rate_hz=500.0, seed=2),
        dict(small, n_exc=30, n_inh=5, plasticity=False, seed=3),
    ]
    out = {}
    for layout in ("sparse", "dense"):
        monkeypatch.setattr(engine, "LAYOUT", layout)
        nets = [SpikingEINetwork(**c, backend="torch", dtype=dtype) for c in configs]
        recs = run_batch(nets, 60.0) + run_batch(nets, 20.0, plasticity=False)
        out[layout] = recs, [net.weights_ for net in nets]
    for a, b in zip(out["sparse"][0], out["dense"][0], strict=True):
        assert len(a.spike_ids) > 20
        _same(a, b)
    for a, b in zip(out["sparse"][1], out["dense"][1], strict=True):
        np.testing.assert_allclose(a, b, atol=1e-6 if dtype == "float32" else 1e-12)


def test_consecutive_runs_continue_the_simulation(monkeypatch):
    # state, delay ring, traces, drive and weights carry over, across a chunk boundary
    monkeypatch.setattr(engine, "CHUNK_STEPS", 500)
    kw = dict(
        n_exc=40,
        n_inh=10,
        connection_prob=0.2,
        input_rate_hz=800.0,
        delay_ms=0.5,
        learning_rate=0.01,
        seed=2,
    )
    whole = SpikingEINetwork(**kw, **F64)
    a = whole.run(150.0)
    parts = SpikingEINetwork(**kw, **F64)
    b1 = parts.run(62.3)
    b2 = parts.run(150.0 - 62.3)
    assert (b1.n_steps, b2.start_step, parts.step_) == (623, 623, 1500)
    assert len(a.spike_ids) > 100
    np.testing.assert_array_equal(np.r_[b1.spike_steps, b2.spike_steps], a.spike_steps)
    np.testing.assert_array_equal(np.r_[b1.spike_ids, b2.spike_ids], a.spike_ids)
    np.testing.assert_array_equal(parts.weights_, whole.weights_)


def test_consecutive_runs_match_numba_with_a_runtime_change():
    kw = dict(
        n_exc=40,
        n_inh=10,
        connection_prob=0.2,
        input_rate_hz=800.0,
        delay_ms=0.5,
        learning_rate=0.01,
        seed=4,
    )
    ref, net = SpikingEINetwork(**kw), SpikingEINetwork(**kw, **F64)
    for change in ({}, {"tau_m_ms": 15.0, "learning_rate": 0.02}, {"input_rate_hz": 0.0}):
        ref.set_params(**change)
        net.set_params(**change)
        _same(net.run(40.0), ref.run(40.0))
        np.testing.assert_array_equal(net.weights_, ref.weights_)
    # weights_ is public: an edit between runs is what the next run starts from
    for model in (ref, net):
        model.weights_[model.plastic_mask_] = 0.5
    _same(net.run(40.0), ref.run(40.0))
    np.testing.assert_array_equal(net.weights_, ref.weights_)
    # reset_state: back to the initial state at step 0, weights kept
    ref.reset_state()
    net.reset_state()
    _same(net.run(20.0), ref.run(20.0))


def test_a_torch_batch_equals_the_single_runs_it_replaces():
    # heterogeneous: sizes, synapse kind, delay, parameters, plasticity, input, a network that
    # already ran
    small = dict(n_exc=40, n_inh=10, connection_prob=0.2, learning_rate=0.01, record_v=3)
    configs = [
        dict(small, seed=0),
        dict(
            small,
            n_exc=60,
            n_inh=15,
            synapse="current",
            w_exc=1.0,
            w_inh=2.0,
            w_inh_exc=2.0,
            seed=1,
        ),
        dict(small, delay_ms=1.2, target_rate_hz=10.0, input_rate_hz=500.0, seed=2),
        dict(small, n_exc=30, n_inh=5, plasticity=False, tau_m_ms=12.0, seed=3),
        dict(small, delay_ms=0.4, refractory_ms=2.0, seed=4),
    ]
    u = np.random.default_rng(0).uniform(-1, 1, 40)
    inputs = [None, None, None, u, None]
    singles, batch, refs, single_models = [], [], [], []
    for cfg, sig in zip(configs, inputs, strict=True):
        n = cfg["n_exc"] + cfg["n_inh"]
        w_in = np.linspace(-3.0, 3.0, n) if sig is not None else None
        hold = 5.0 if sig is not None else None
        models = [SpikingEINetwork(**cfg, **F64) for _ in range(2)] + [SpikingEINetwork(**cfg)]
        for m in models:
            if cfg["seed"] == 4:
                m.run(33.3)  # already advanced: the batch starts it at its own step
        singles.append(models[0].run(80.0, input_signal=sig, input_weight_mv=w_in, hold_ms=hold))
        refs.append(models[2].run(80.0, input_signal=sig, input_weight_mv=w_in, hold_ms=hold))
        batch.append((models[1], sig, w_in, hold))
        single_models.append(models[0])
    nets = [b[0] for b in batch]
    recs = run_batch(
        nets,
        80.0,
        input_signal=[b[1] for b in batch],
        input_weight_mv=[b[2] for b in batch],
        hold_ms=[b[3] for b in batch],
    )
    for rec, single, ref, (net, *_), cfg in zip(recs, singles, refs, batch, configs, strict=True):
        assert len(rec.spike_ids) > 20, cfg
        _same(rec, single)
        _same(rec, ref)  # and numba's
        np.testing.assert_array_equal(rec.v_trace_mv, single.v_trace_mv)
        assert net.step_ == single.start_step + single.n_steps
    # the state after the batch continues as the single run's does (another grouping)
    again = run_batch([nets[2], nets[0]], 20.0)
    for rec, model in zip(again, [single_models[2], single_models[0]], strict=True):
        _same(rec, model.run(20.0))
        assert rec.start_step == 800
    np.testing.assert_array_equal(nets[2].weights_, single_models[2].weights_)


def test_replicated_float32_batch_equals_its_single_runs():
    nets = [SpikingEINetwork(**RECURRENT, backend="torch", seed=s) for s in range(3)]
    recs = run_batch(nets, 50.0)
    for s, rec in enumerate(recs):
        single = SpikingEINetwork(**RECURRENT, backend="torch", seed=s).run(50.0)
        _same(rec, single)
    assert nets[0].params_["dtype"] == "float32"


def test_divergence_is_reported_per_network():
    small = dict(
        n_exc=40, n_inh=10, connection_prob=0.2, input_rate_hz=0.0, bias_spread_mv=6.0, seed=0
    )
    bad = SpikingEINetwork(**small, w_inh=1e200, w_inh_exc=1e200, **F64)
    ref = SpikingEINetwork(**small, w_inh=1e200, w_inh_exc=1e200)
    with pytest.raises(DivergenceError) as expected:
        ref.run(200.0)
    good = SpikingEINetwork(**small, **F64)
    recs = run_batch([good, bad], 200.0, on_divergence="return")
    assert isinstance(recs[1], DivergenceError)
    assert recs[1].step == expected.value.step > 0
    _same(recs[0], SpikingEINetwork(**small, **F64).run(200.0))
    assert (good.step_, bad.step_) == (2000, 0)
    with pytest.raises(DivergenceError):
        SpikingEINetwork(**small, w_inh=1e200, w_inh_exc=1e200, backend="torch").run(200.0)


def test_reservoir_runs_on_torch_as_on_numba():
    u = np.random.default_rng(1).uniform(-0.8, 0.8, 30)
    a = SpikingReservoir(n=40, step_ms=5.0, seed=0).run(u)
    b = SpikingReservoir(
        n=40, step_ms=5.0, backend="torch", network_params={"dtype": "float64"}, seed=0
    ).run(u)
    np.testing.assert_array_equal(a, b)
    # many reservoirs in one torch batch, each equal to its single run
    res = [
        SpikingReservoir(
            n=n, step_ms=5.0, backend="torch", network_params={"dtype": "float64"}, seed=s
        )
        for n, s in ((40, 0), (50, 1))
    ]
    states = run_reservoirs(res, u)
    np.testing.assert_array_equal(states[0], a)
    single = SpikingReservoir(
        n=50, step_ms=5.0, backend="torch", network_params={"dtype": "float64"}, seed=1
    ).run(u)
    np.testing.assert_array_equal(states[1], single)


def test_device_and_dtype_are_checked():
    for kwargs, error, match in [
        (dict(dtype="float32"), ParameterError, r"'dtype' parameter .* backend='numba'"),
        (dict(backend="brian2", dtype="float32"), ParameterError, "'dtype' .* 'float64' or None"),
        (dict(device="cuda"), ParameterError, r"'device' parameter .* backend='torch'"),
        (dict(backend="torch", dtype="float16"), ParameterError, "'dtype' parameter"),
        (dict(backend="torch", device="tpu"), BackendError, "'device' parameter .* 'cuda'"),
        (dict(backend="torch", device="cuda:99"), BackendError, "'device' parameter"),
        (dict(backend="torch", device=3), TypeError, "'device' parameter"),
    ]:
        with pytest.raises(error, match=match):
            SpikingEINetwork(n_exc=8, n_inh=2, seed=0, **kwargs).run(1.0)
    # the defaults: float32 on torch, float64 elsewhere, on the CPU
    net = SpikingEINetwork(n_exc=8, n_inh=2, seed=0, backend="torch").initialize()
    assert (net.params_["device"], net.params_["dtype"]) == ("cpu", "float32")
    net = SpikingEINetwork(n_exc=8, n_inh=2, seed=0, dtype="float64", device=None).initialize()
    assert (net.params_["device"], net.params_["dtype"]) == ("cpu", "float64")


def test_changing_dtype_rebuilds_and_spec_keys_reach_the_network():
    net = SpikingEINetwork(n_exc=40, n_inh=10, seed=0, backend="torch")
    first = net.run(20.0)
    net.set_params(dtype="float64")
    again = net.run(20.0)
    assert again.start_step == 0 and net.params_["dtype"] == "float64"
    assert first.n_steps == again.n_steps
    model = specs.load_model("spiking-ei", ["network.backend=torch", "network.dtype=float64"])
    kwargs = network_kwargs(model.network, model.get("rule"))
    assert (kwargs["backend"], kwargs["dtype"], kwargs["device"]) == ("torch", "float64", "cpu")
    default = network_kwargs(specs.load_model("spiking-ei", []).network, None)
    assert default["dtype"] is None and default["backend"] == "numba"
    with pytest.raises(SpecError, match="network.device: must be 'cpu' with network.backend"):
        specs.load_model("spiking-ei", ["network.device=cuda"])
    with pytest.raises(SpecError, match="network.dtype: must be '' or 'float64'"):
        specs.load_model("spiking-reservoir", ["network.dtype=float32"])
    res = specs.load_model("spiking-reservoir", ["network.backend=torch", "network.dtype=float32"])
    assert res.network.dtype == "float32"


def _statistics(recs):
    return (
        np.mean([rec.population_rate_hz() for rec in recs]),
        np.mean([rec.mean_cv_isi() for rec in recs]),
    )


@pytest.mark.slow
def test_float32_statistics_match_float64():
    # 1000 neurons, iSTDP, 500 ms, eight seeds. The float32 and float64 trajectories part once a
    # rounding difference moves a threshold crossing; from there on they are two realisations
    # of the same network and drive. One 500 ms run's rate and CV vary between such
    # realisations by a few percent (a float64 run with one initial potential moved by 0.5 mV
    # differs by up to 3.3% in rate, 3.6% in CV), so the statistics are compared over seeds.
    seeds = range(8)
    rate, cv = _statistics(run_batch(replicate(SpikingEINetwork(**LARGE), seeds=seeds), 500.0))
    nets = replicate(SpikingEINetwork(**LARGE, backend="torch"), seeds=seeds)
    rate32, cv32 = _statistics(run_batch(nets, 500.0))
    assert nets[0].params_["dtype"] == "float32"
    assert rate > 5.0 and cv > 0.3
    assert abs(rate32 / rate - 1) <= 0.02
    assert abs(cv32 / cv - 1) <= 0.05


# ---------------------------------------------------------------------- CUDA
@pytest.mark.gpu
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("layout", ["sparse", "dense"])
def test_cuda_batch_statistics_match_the_cpu(dtype, layout, monkeypatch):
    monkeypatch.setattr(engine, "LAYOUT", layout)
    seeds = range(8)
    rate, cv = _statistics(run_batch(replicate(SpikingEINetwork(**LARGE), seeds=seeds), 500.0))
    template = SpikingEINetwork(**LARGE, backend="torch", device="cuda", dtype=dtype)
    nets = replicate(template, seeds=seeds)
    rate_gpu, cv_gpu = _statistics(run_batch(nets, 500.0))
    assert nets[0].params_["device"] == "cuda" and nets[0].params_["dtype"] == dtype
    assert abs(rate_gpu / rate - 1) <= 0.02
    assert abs(cv_gpu / cv - 1) <= 0.05


@pytest.mark.gpu
@pytest.mark.parametrize("layout", ["sparse", "dense"])
def test_cuda_float64_feedforward_spike_trains_equal_numba(layout, monkeypatch):
    # no recurrence to amplify the reordered sums of the GPU: the same spikes
    monkeypatch.setattr(engine, "LAYOUT", layout)
    kw = _feedforward(*FEEDFORWARD[0])
    ref_net = SpikingEINetwork(**kw)
    ref = ref_net.run(300.0)
    net = SpikingEINetwork(**kw, backend="torch", device="cuda", dtype="float64")
    _same(net.run(300.0), ref)
    np.testing.assert_allclose(net.weights_, ref_net.weights_, atol=1e-12)
    # a single CUDA run equals the same network in a CUDA batch
    nets = [SpikingEINetwork(**kw, backend="torch", device="cuda", dtype="float64")]
    nets += replicate(SpikingEINetwork(**RECURRENT, backend="torch", device="cuda"), seeds=[0, 1])
    recs = run_batch(nets, 300.0)
    _same(recs[0], ref)
