"""Kernels and backends against the naive references in tests/reference.py."""

import numpy as np
import pytest
import reference
import scipy.sparse as sp

from neurolearn._kernels.numba import reservoir as kernels
from neurolearn.reservoir import ESN, EIReservoir, Readout, run_batch


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
    W = (res.A_E - res.A_I).toarray()
    ref = reference.ei_states(W, res.w_in_, 0.3, 10.0, 0.1, u)
    np.testing.assert_allclose(res.run(u), ref, rtol=0, atol=1e-13)


def test_local_adaptation_kernel_equals_reference(rng):
    res = small_ei(leak=0.2)
    A_E, A_I = res.A_E.toarray(), res.A_I.toarray()
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
    bad = kernels.adapt_local(
        res.exc_idx_,
        res.exc_w_,
        res.inh_idx_,
        inh_w,
        res.w_in_,
        np.full(res.n, 0.2),
        10.0,
        0.0,
        u,
        eta,
        target,
        v,
        7,
        record,
        rate_sum,
    )
    assert bad == -1
    # two chunks with the potential carried over are the same run; rate_sum sums every step
    w2, v2 = res.inh_w_.copy(), np.zeros(res.n)
    per_step = np.zeros((60, res.n))
    sums = np.zeros((2, res.n))
    for k, part in enumerate((slice(0, 25), slice(25, 60))):
        length = part.stop - part.start
        assert -1 == kernels.adapt_local(
            res.exc_idx_, res.exc_w_, res.inh_idx_, w2, res.w_in_, np.full(res.n, 0.2), 10.0,
            0.0, u[part], eta[part], target, v2, 1, per_step[part][:length], sums[k],
        )  # fmt: skip
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
    etas = [c["eta"] for c in res.convergence_]
    assert etas == sorted(etas, reverse=True)
    assert etas[0] == 3e-2 and etas[-1] == 1e-4 and set(etas) == {3e-2, 1e-2, 1e-3, 1e-4}
    assert res.converged_ and res.convergence_[-1]["fraction_within"] >= 0.95


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


def test_row_parallel_kernel_equals_batch_kernel(rng, monkeypatch):
    """Large single reservoirs take the row-parallel kernel: same numbers."""
    from neurolearn.reservoir import _engine

    esn = ESN(n=60, density=0.5, leak=0.8, seed=5)
    ei = small_ei(seed=3, leak=0.2)
    u = rng.uniform(-1, 1, (80, 1))
    for model in (esn, ei):
        monkeypatch.setattr(_engine, "ROW_PARALLEL_NNZ", 10**9)
        ref = model.run(u)
        monkeypatch.setattr(_engine, "ROW_PARALLEL_NNZ", 1)
        np.testing.assert_allclose(model.run(u), ref, rtol=0, atol=1e-14)


@pytest.mark.gpu
def test_cuda_batch_matches_numba(rng):
    nets = [small_ei(seed=s) for s in range(8)]
    u = rng.uniform(-1, 1, (200, 1))
    ref = run_batch(nets, u)
    for net in nets:
        net.backend, net.device = "torch", "cuda"
    np.testing.assert_allclose(run_batch(nets, u), ref, rtol=0, atol=1e-10)
