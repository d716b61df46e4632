"""Kernels and backends against the naive references in tests/reference.py."""

import numpy as np
import pytest
import reference
import scipy.sparse as sp

from neurolearn._kernels.numba import reservoir as kernels
from neurolearn.reservoir import ESN, EIReservoir, Readout, _engine, run_batch


def small_ei(seed=0, **kw):
    params = dict(n=24, in_degree_exc=5, in_degree_inh=3, target_rate=0.3, seed=seed)
    params.update(kw)
    return EIReservoir(**params).initialize()


def test_esn_equals_reference(backend, rng):
    esn = ESN(
        n=12, density=0.3, leak=0.7, bias_scaling=0.2, n_inputs=2, seed=1, backend=backend
    ).initialize()
    u = rng.uniform(-1, 1, (40, 2))
    ref = reference.esn_states(esn.W_, esn.w_in_, esn.bias_, 0.7, u)
    np.testing.assert_allclose(esn.run(u), ref, rtol=0, atol=1e-13)


def test_ei_equals_reference(backend, rng):
    res = small_ei(leak=0.3, threshold=0.1, backend=backend)
    u = rng.uniform(-1, 1, (40, 1))
    W = (res.A_E_ - res.A_I_).toarray()
    ref = reference.ei_states(W, res.w_in_, 0.3, 10.0, 0.1, u)
    np.testing.assert_allclose(res.run(u), ref, rtol=0, atol=1e-13)


def test_local_adaptation_kernel_equals_reference(rng):
    res = small_ei(leak=0.2)
    A_E, A_I = res.A_E_.toarray(), res.A_I_.toarray()
    u = rng.uniform(-1, 1, (60, 1))
    eta = np.r_[np.full(30, 5e-2), np.full(30, 5e-3)]
    target = res.target_rate_
    ref_AI, ref_windows = reference.local_adaptation(
        A_E, A_I, res.w_in_, 0.2, 10.0, 0.0, u, eta, target, record_every=7
    )
    inh_w = res.inh_w_.copy()
    record = np.zeros((60 // 7, res.n))
    v = np.zeros(res.n)
    rate_sum = np.zeros(res.n)
    leak = np.full(res.n, 0.2)
    net = kernels.ELLNetwork(
        res.exc_idx_, res.exc_w_, res.inh_idx_, inh_w, res.w_in_, leak, 10.0, 0.0
    )
    rule = kernels.LocalRule(eta, target)
    bad = kernels.adapt_local(net, rule, u, v, kernels.RateRecord(7, record, rate_sum))
    assert bad == -1
    # two chunks with the potential carried over are the same run; rate_sum sums every step
    w2, v2 = res.inh_w_.copy(), np.zeros(res.n)
    per_step = np.zeros((60, res.n))
    sums = np.zeros((2, res.n))
    for k, part in enumerate((slice(0, 25), slice(25, 60))):
        length = part.stop - part.start
        net2 = net._replace(inh_w=w2)
        rule2 = kernels.LocalRule(eta[part], target)
        record2 = kernels.RateRecord(1, per_step[part][:length], sums[k])
        assert -1 == kernels.adapt_local(net2, rule2, u[part], v2, record2)
    np.testing.assert_allclose(w2, inh_w, atol=1e-13)
    np.testing.assert_allclose(v2, v, atol=1e-13)
    np.testing.assert_allclose(per_step.sum(0), rate_sum, atol=1e-12)
    np.testing.assert_allclose(sums.sum(0), rate_sum, atol=1e-12)
    rows = np.repeat(np.arange(res.n), res.in_degree_inh_)
    got = sp.csr_matrix((inh_w.ravel(), (rows, res.inh_idx_.ravel())), shape=A_I.shape).toarray()
    np.testing.assert_allclose(got, ref_AI, atol=1e-13)
    np.testing.assert_allclose(record, ref_windows, atol=1e-13)
    # the schedule's first phase really moved the weights, and clipping kept them >= 0
    assert np.abs(got - A_I).max() > 1e-3
    assert got.min() >= 0


def test_schedule_anneals_through_its_phases_in_order():
    """Each phase of the schedule is used in turn, and the rule stops in the last one."""
    u = np.random.default_rng(0).uniform(-0.8, 0.8, (6000, 1))
    res = EIReservoir(n=60, in_degree=10, learning_rate=[3e-2, 1e-2, 1e-3, 1e-4], seed=0)
    res.adapt(u)
    etas = list(res.convergence_["eta"])
    assert etas == sorted(etas, reverse=True)
    assert etas[0] == 3e-2 and etas[-1] == 1e-4 and set(etas) == {3e-2, 1e-2, 1e-3, 1e-4}
    assert res.converged_ and res.convergence_["fraction_within"][-1] >= 0.95
    # the reported rates are those of the frozen weights on the input the rule used
    frozen = res.mean_rates(u[: res.adapt_steps_])
    np.testing.assert_array_equal(res.adapted_rates_, frozen)
    within = np.abs(frozen - res.target_rate_) <= res.tolerance
    assert res.fraction_within_ == within[~res.unreachable_].mean() >= res.criterion


@pytest.mark.parametrize("make", [lambda s: ESN(n=15, leak=0.5, seed=s), lambda s: small_ei(s)])
def test_backends_agree(make, backend, rng):
    """Same seed, same numbers on every backend (float64; stated tolerance 1e-10)."""
    u = rng.uniform(-0.5, 0.5, (3, 50, 1))
    ref = make(0).run(u)
    model = make(0)
    model.backend = backend
    np.testing.assert_allclose(model.run(u), ref, rtol=0, atol=1e-10)


def test_batch_of_reservoirs_equals_one_by_one(backend, rng):
    nets = [small_ei(seed=s, backend=backend) for s in range(4)]
    u = rng.uniform(-1, 1, (30, 1))
    batch = run_batch(nets, u)
    for b, net in enumerate(nets):
        np.testing.assert_allclose(batch[b], net.run(u), atol=1e-10)
    per_input = run_batch(nets, rng.uniform(-1, 1, (4, 30, 1)))
    assert per_input.shape == (4, 30, nets[0].n)


def test_batch_rejects_mixed_sizes():
    with pytest.raises(ValueError, match="same kind, size"):
        run_batch([ESN(n=5, seed=0), ESN(n=6, seed=0)], np.zeros((3, 1)))


def test_streaming_readout_equals_full_fit(rng):
    esn = ESN(n=25, spectral_radius=0.9, seed=3)
    u = rng.uniform(-1, 1, (700, 1))
    y = np.roll(u, 2)
    full = Readout(ridge=1e-6).fit(esn.run(u), y)
    stream = Readout(ridge=1e-6)
    for k, (chunk_u, chunk_x) in enumerate(esn.iter_states(u, chunk_steps=128)):
        start = 128 * k
        stream.partial_fit(chunk_x, y[start : start + chunk_u.shape[0]])
    np.testing.assert_allclose(stream.coef_, full.coef_, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(stream.intercept_, full.intercept_, atol=1e-9)


def test_readout_equals_augmented_normal_equations(rng):
    X = rng.normal(size=(300, 8))
    Y = X @ rng.normal(size=(8, 3)) + rng.normal(size=3) + 0.1 * rng.normal(size=(300, 3))
    coef, icpt = reference.ridge_fit(X, Y, 0.5)
    ro = Readout(ridge=0.5).fit(X, Y)
    np.testing.assert_allclose(ro.coef_, coef, atol=1e-10)
    np.testing.assert_allclose(ro.intercept_, icpt, atol=1e-10)


def test_readout_on_several_sequences_with_washout(rng):
    X = rng.normal(size=(3, 100, 4))
    Y = X.sum(axis=2, keepdims=True)
    ro = Readout(ridge=1e-9, washout=10).fit(X, Y)
    assert ro.n_samples_ == 3 * 90
    np.testing.assert_allclose(ro.coef_[:, 0], np.ones(4), atol=1e-6)
    ro_list = Readout(ridge=1e-9, washout=10).fit(list(X), list(Y))
    np.testing.assert_allclose(ro_list.coef_, ro.coef_)


def test_closed_loop_equals_manual_feedback(backend, rng):
    esn = ESN(n=20, spectral_radius=0.8, seed=2, backend=backend)
    u = np.sin(np.arange(400) / 5.0)[:, None]
    states = esn.run(u)
    ro = Readout(ridge=1e-8).fit(states[:-1], u[1:])
    free = esn.free_run(ro, 30)
    # manual: feed each prediction back, one step at a time
    state = esn.last_state_
    manual = []
    y = states[-1] @ ro.coef_ + ro.intercept_
    for _ in range(30):
        manual.append(y.copy())
        x = esn.run(y[None, :], initial_state=state)
        state = esn.last_state_
        y = x[-1] @ ro.coef_ + ro.intercept_
    np.testing.assert_allclose(free, np.array(manual), atol=1e-12)


@pytest.mark.parametrize("kind", ["esn", "ei"])
def test_row_parallel_kernel_equals_serial_kernel_bit_for_bit(kind, rng):
    model = ESN(n=60, density=0.5, leak=0.8, seed=5) if kind == "esn" else small_ei(3, leak=0.2)
    model.initialize()
    net = model._net()
    network = _engine.kernel_network(net, "float64")
    u = rng.uniform(-1, 1, (80, 1))
    s0 = net.initial_output(np.zeros(net.n))
    out_serial, out_rows = np.empty((80, net.n)), np.empty((80, net.n))
    s1, v1 = s0.copy(), np.zeros(net.n)
    assert kernels.run_csr(network, u, kernels.State(s1, v1), out_serial) == -1
    s2, v2 = s0.copy(), np.zeros(net.n)
    blocks = _engine.row_blocks(network.indptr, 3)
    assert kernels.run_csr_rows(network, u, kernels.State(s2, v2), out_rows, blocks) == -1
    np.testing.assert_array_equal(out_rows, out_serial)
    np.testing.assert_array_equal(s2, s1)
    np.testing.assert_array_equal(v2, v1)


def test_row_blocks_balance_nonzeros():
    indptr = np.cumsum(np.r_[0, np.full(10, 3), np.full(10, 1)])
    blocks = _engine.row_blocks(indptr, 2)
    assert blocks[0] == 0 and blocks[-1] == 20
    per_block = np.diff(indptr[blocks])
    assert abs(per_block[0] - per_block[1]) <= 3


def test_fast_tanh_and_logistic_match_libm():
    """The kernels' own expm1-based tanh / logistic equal libm's to a few ulps, keep NaN, and
    saturate at +-inf like libm."""
    x = np.r_[np.linspace(-30, 30, 20001), 1e-300, -1e-12, 3e-8, 0.0, 700.0, -800.0, np.inf]
    x = np.r_[x, -np.inf, np.nan]
    m = x.size
    s = np.zeros(m)
    v0 = np.zeros(m)
    bad = kernels._activate(kernels.KIND_ESN, np.ones(m), 1.0, 0.0, x, s, v0)
    assert bad == 1  # the NaN
    np.testing.assert_allclose(s[:-1], np.tanh(x[:-1]), rtol=1e-15, atol=1e-300)
    assert np.isnan(s[-1])
    v = np.zeros(m)
    r = np.zeros(m)
    kernels._activate_into(kernels.KIND_EI, np.zeros(m), 2.0, 0.25, x, np.zeros(m), r, v)
    z = 2.0 * (x - 0.25)
    with np.errstate(over="ignore", invalid="ignore"):
        expected = np.where(z >= 0, 1 / (1 + np.exp(-z)), np.exp(z) / (1 + np.exp(z)))
    finite = np.isfinite(x) & (np.abs(z) < 700)
    np.testing.assert_allclose(r[finite], expected[finite], rtol=1e-15, atol=0)
    assert r[x == np.inf] == 1.0 and r[x == -np.inf] < 1e-300 and np.isnan(r[-1])


@pytest.mark.parametrize(
    "make",
    [
        lambda: ESN(n=80, spectral_radius=0.9, leak=0.6, seed=4),
        lambda: EIReservoir(n=200, in_degree_exc=20, in_degree_inh=20, seed=2),
    ],
)
def test_float32_states_within_stated_tolerance(make, backend, rng):
    """float32 weights and state: within 1e-6 of the float64 states on every backend.

    Stated for reservoirs that forget their initial condition (an ESN of spectral radius
    0.9, an E/I reservoir of the default kind): measured ~6e-8 and ~3e-8 over 2000 steps.
    A chaotic reservoir (e.g. the small unadapted one of the tests above) moves away from
    any rounding change, float32 or a different summation order alike.
    """
    u = rng.uniform(-1, 1, (300, 1))
    ref = make().run(u)
    model = make()
    model.dtype, model.backend = "float32", backend
    got = model.run(u)
    assert got.dtype == np.float32
    err = np.abs(got - ref).max()
    assert err <= 1e-6
    assert err > 0  # it really ran in float32


def test_dense_path_equals_csr_path(rng, monkeypatch):
    for make in (lambda: ESN(n=50, density=0.4, leak=0.7, seed=1), lambda: small_ei(5)):
        u = rng.uniform(-1, 1, (60, 1))
        ub = rng.uniform(-1, 1, (6, 60, 1))
        monkeypatch.setattr(_engine, "DENSE_FROM_DENSITY", {"float64": 2.0, "float32": 2.0})
        model = make()
        csr, csr_b = model.run(u), model.run(ub)
        monkeypatch.setattr(_engine, "DENSE_FROM_DENSITY", {"float64": 0.0, "float32": 0.0})
        assert _engine.kernel_arrays(model._net(), "float64")[3] is not None
        np.testing.assert_allclose(model.run(u), csr, rtol=0, atol=1e-12)
        np.testing.assert_allclose(model.run(ub), csr_b, rtol=0, atol=1e-12)


def test_dense_path_is_chosen_by_density():
    sparse = ESN(n=40, density=0.1, seed=0).initialize()._net()
    dense = ESN(n=40, density=0.9, seed=0).initialize()._net()
    assert _engine.kernel_arrays(sparse, "float64")[3] is None
    assert _engine.kernel_arrays(dense, "float64")[3] is not None


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_one_network_many_inputs_equals_per_sequence_runs(dtype, rng, monkeypatch):
    """The sparse-times-block kernel gives each sequence's own run (any grouping)."""
    for model in (
        ESN(n=40, leak=0.5, bias_scaling=0.1, n_inputs=2, seed=6, dtype=dtype),
        EIReservoir(n=60, in_degree_exc=6, in_degree_inh=6, n_inputs=2, seed=1, dtype=dtype),
    ):
        ub = rng.uniform(-1, 1, (9, 50, 2))
        singles = np.stack([model.run(seq) for seq in ub])
        # float32: a different summation order may move a stored state by one ulp
        tol = 1e-12 if dtype == "float64" else 1e-6
        for per_group in (1, 2, 4):
            monkeypatch.setattr(_engine, "MIN_SEQUENCES_PER_GROUP", per_group)
            np.testing.assert_allclose(model.run(ub), singles, rtol=0, atol=tol)
        net = model._net()
        s0 = np.broadcast_to(net.initial_output(np.zeros(net.n)), (9, net.n)).astype(dtype)
        out = np.empty((9, 50, net.n), dtype=dtype)
        s_fin, v_fin = np.empty((9, net.n), dtype=dtype), np.empty((9, net.n))
        diverged = np.empty(9, dtype=np.int64)
        kernels.run_csr_multi(
            _engine.kernel_network(net, dtype),
            ub,
            kernels.State(s0, np.zeros((9, net.n))),
            kernels.BatchOutputs(out, s_fin, v_fin, diverged),
            np.array([0, 3, 7, 9]),
        )
        np.testing.assert_allclose(out, singles, rtol=0, atol=tol)
        np.testing.assert_array_equal(diverged, -1)


def test_divergence_is_reported_on_every_path(rng, monkeypatch):
    """A NaN reaching the state stops the run with the step (and batch entry) named."""
    from neurolearn.backend import Backend
    from neurolearn.errors import DivergenceError

    net = ESN(n=300, density=0.5, seed=0).initialize()._net()  # 45 000 non-zeros
    s0 = np.zeros((1, 300))
    u = rng.uniform(-1, 1, (1, 40, 1))
    u[0, 17] = np.nan
    numba = Backend("numba")
    for threads in (1, 2):
        monkeypatch.setattr(_engine, "MIN_NNZ_PER_THREAD", 10**9 if threads == 1 else 1)
        with pytest.raises(DivergenceError, match="step 17"):
            _engine.simulate([net], u, s0, s0, numba)
    ub = np.stack([rng.uniform(-1, 1, (40, 1))] * 5)
    ub[3, 9] = np.nan
    s0b = np.zeros((5, 300))
    with pytest.raises(DivergenceError, match=r"step 9 \(batch entry 3\)"):
        _engine.simulate([net], ub, s0b, s0b, numba)
    with pytest.raises(DivergenceError, match=r"step 9 \(batch entry 3\)"):
        _engine.simulate([net] * 5, ub, s0b, s0b, numba)
    monkeypatch.setattr(_engine, "DENSE_FROM_DENSITY", {"float64": 0.0, "float32": 0.0})
    with pytest.raises(DivergenceError, match="step 17"):
        _engine.simulate([net], u, s0, s0, numba)


def test_adaptive_driver_follows_the_faster_path():
    import time

    def make(step_s, log, name):
        def run(t0, t1):
            time.sleep(step_s * (t1 - t0))
            log.append((name, t1 - t0))
            return -1

        return run

    log = []
    assert _engine.run_adaptive(make(1e-5, log, "s"), make(1e-3, log, "p"), 3000) == -1
    steps = {name: sum(k for n, k in log if n == name) for name in "sp"}
    assert steps["s"] + steps["p"] == 3000
    assert steps["p"] < 60  # a stalled parallel path is only ever probed
    log.clear()
    _engine.run_adaptive(make(1e-3, log, "s"), make(1e-5, log, "p"), 3000)
    assert sum(k for n, k in log if n == "s") < 60

    def diverging(t0, t1):
        return 50 - t0 if t0 <= 50 < t1 else -1

    assert _engine.run_adaptive(diverging, diverging, 200) == 50


def test_thread_count_choice(monkeypatch):
    import numba

    from neurolearn import backend

    assert backend.threads_for(10_000, 8, 40_000) == 1
    assert backend.threads_for(80_000, 8, 40_000) == 2
    assert backend.threads_for(10**9, 8, 40_000) == 8
    with pytest.raises(ValueError):
        backend.threads_for(1, 0, 1)
    monkeypatch.setattr(backend.os, "sched_getaffinity", lambda pid: {0}, raising=False)
    assert backend.available_threads() == 1
    monkeypatch.setattr(backend.os, "sched_getaffinity", lambda pid: set(range(64)), raising=False)
    assert backend.available_threads() == min(64, numba.config.NUMBA_NUM_THREADS)
    monkeypatch.setattr(backend, "_dask_worker_threads", lambda: 1)
    assert backend.available_threads() == 1


def test_threading_layer_is_explicit_and_reported():
    from neurolearn.backend import available_threading_layers, numba_threading_layer

    layers = available_threading_layers()
    assert layers and numba_threading_layer() in layers


@pytest.mark.gpu
def test_cuda_batch_matches_numba(rng):
    nets = [small_ei(seed=s) for s in range(8)]
    u = rng.uniform(-1, 1, (200, 1))
    ref = run_batch(nets, u)
    for net in nets:
        net.backend, net.device = "torch", "cuda"
    np.testing.assert_allclose(run_batch(nets, u), ref, rtol=0, atol=1e-10)


def test_result_attributes_report_threads_and_layer():
    import neurolearn as nl
    from neurolearn.backend import available_threading_layers, available_threads

    small = ["network.n=30", "task.train_steps=300", "task.test_steps=100", "readout.washout=50"]
    ds = nl.run("esn", "narma10", seed=0, overrides=small)
    assert ds.attrs["numba_threading_layer"] in available_threading_layers()
    assert ds.attrs["numba_threads"] == available_threads()
