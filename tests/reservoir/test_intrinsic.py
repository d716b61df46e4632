"""Intrinsic plasticity: the rules against a numpy loop, the fold into the weights, and the
output distributions moving toward their targets (Triesch 2005; Schrauwen et al. 2008)."""

import numpy as np
import pytest

from neurolearn.reservoir import ESN, EIReservoir

RNG = np.random.default_rng(0)
U = RNG.uniform(-1, 1, (20000, 1))
U_TEST = RNG.uniform(-1, 1, (3000, 1))


def kl_to(samples, density, bins):
    """KL(empirical histogram || target density on the same bins)."""
    counts, _ = np.histogram(samples, bins=bins)
    p = counts / counts.sum()
    centres = 0.5 * (bins[1:] + bins[:-1])
    q = density(centres)
    q = q / q.sum()
    keep = p > 0
    return float(np.sum(p[keep] * np.log(p[keep] / q[keep])))


def _numpy_ip(W, w_in, bias, leak, u, eta, mu, sd, kind, gain=1.0, threshold=0.0):
    """The two rules written out step by step (reference for the kernel)."""
    n = W.shape[0]
    a = np.full(n, gain) if kind == "ei" else np.ones(n)
    b = np.full(n, -gain * threshold) if kind == "ei" else np.zeros(n)
    v = np.zeros(n)
    s = 1 / (1 + np.exp(gain * threshold)) * np.ones(n) if kind == "ei" else np.zeros(n)
    for t in range(u.shape[0]):
        x = W @ s + w_in @ u[t] + bias
        z = a * x + b
        if kind == "ei":
            v = leak * v + z / gain + threshold
            y = 1 / (1 + np.exp(-gain * (v - threshold)))
            s = y
            db = eta * (1 - (2 + 1 / mu) * y + y**2 / mu)
        else:
            y = np.tanh(z)
            s = (1 - leak) * s + leak * y
            db = -eta * (-mu / sd**2 + (y / sd**2) * (2 * sd**2 + 1 - y**2 + mu * y))
        b = b + db
        a = np.maximum(a + eta / a + x * db, 1e-6)
    return a, b


def test_tanh_rule_matches_a_numpy_loop():
    esn = ESN(
        n=12, leak=0.7, bias_scaling=0.2, adaptation="intrinsic", ip_learning_rate=1e-2, seed=1
    )
    esn.run(U[:1])  # draw
    W, w_in, bias = esn.W_.toarray(), esn.w_in_.copy(), esn.bias_.copy()
    esn.adapt(U[:300])
    a, b = _numpy_ip(W, w_in, bias, 0.7, U[:300], 1e-2, 0.0, 0.2, "esn")
    np.testing.assert_allclose(esn.ip_gain_, a, rtol=1e-10)
    np.testing.assert_allclose(esn.bias_, a * bias + b, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(esn.W_.toarray(), a[:, None] * W, rtol=1e-12)


def test_sigmoid_rule_matches_a_numpy_loop():
    res = EIReservoir(
        n=16,
        in_degree_exc=4,
        in_degree_inh=2,
        target_rate=0.3,
        gain=4.0,
        threshold=0.1,
        adaptation="intrinsic",
        ip_learning_rate=1e-2,
        seed=2,
    )
    res.run(U[:1])
    W, w_in = (res.A_E_ - res.A_I_).toarray(), res.w_in_.copy()
    res.adapt(U[:300])
    a, b = _numpy_ip(W, w_in, 0.0, 0.0, U[:300], 1e-2, 0.3, 1.0, "ei", gain=4.0, threshold=0.1)
    np.testing.assert_allclose(res.ip_gain_, a / 4.0, rtol=1e-10)
    np.testing.assert_allclose(res.bias_, b / 4.0 + 0.1, rtol=1e-10, atol=1e-12)


def test_folded_weights_run_the_adapted_units_exactly():
    """After adaptation the frozen reservoir's units are y = f(a x + b) on the drawn weights."""
    esn = ESN(n=30, leak=1.0, adaptation="intrinsic", ip_learning_rate=1e-2, seed=3)
    esn.run(U[:1])
    W, w_in, bias = esn.W_.toarray(), esn.w_in_.copy(), esn.bias_.copy()
    esn.adapt(U[:2000])
    a = esn.ip_gain_
    b = esn.bias_ - a * bias
    s, ref = np.zeros(30), []
    for t in range(200):
        s = np.tanh(a * (W @ s + w_in @ U_TEST[t] + bias) + b)
        ref.append(s)
    np.testing.assert_allclose(esn.run(U_TEST[:200]), ref, rtol=1e-10, atol=1e-12)


def test_tanh_outputs_approach_the_target_gaussian():
    esn = ESN(n=100, spectral_radius=0.9, adaptation="intrinsic", seed=0)
    bins = np.linspace(-1, 1, 41)
    gauss = lambda x: np.exp(-0.5 * (x / 0.2) ** 2)  # noqa: E731
    before = kl_to(esn.run(U_TEST), gauss, bins)
    esn.adapt(U)
    after_states = esn.run(U_TEST)
    after = kl_to(after_states, gauss, bins)
    # measured 0.83 -> 0.04 (seed 0); the output std moves to the target 0.2
    assert after < 0.25 * before and after < 0.1, (before, after)
    assert abs(after_states.std() - 0.2) < 0.03


def test_sigmoid_outputs_approach_the_target_exponential():
    res = EIReservoir(n=200, target_rate=0.2, adaptation="intrinsic", seed=0)
    bins = np.linspace(0, 1, 41)
    expo = lambda x: np.exp(-x / 0.2)  # noqa: E731
    before_states = res.run(U_TEST)
    before = kl_to(before_states, expo, bins)
    res.adapt(U)
    after_states = res.run(U_TEST)
    after = kl_to(after_states, expo, bins)
    # measured 1.29 -> 0.61 and mean rate 0.49 -> 0.17 (seed 0); the balanced network's
    # recurrent fluctuations keep the distribution from becoming exactly exponential
    assert after < 0.7 * before, (before, after)
    assert abs(after_states.mean() - 0.2) < 0.5 * abs(before_states.mean() - 0.2)
    # Dale's law and each unit's E/I ratio are kept: rows are scaled by positive gains
    assert np.all(res.ip_gain_ > 0) and np.all(res.exc_w_ >= 0) and np.all(res.inh_w_ >= 0)


def test_adaptation_none_leaves_an_esn_as_drawn():
    esn = ESN(n=20, seed=0)
    states = esn.run(U_TEST[:50])
    np.testing.assert_array_equal(esn.adapt(U[:500]).run(U_TEST[:50]), states)


@pytest.mark.parametrize("model", ["esn", "ei-reservoir"])
def test_intrinsic_plasticity_runs_from_a_spec(model, tmp_path):
    import neurolearn as nl

    over = [
        "rule.kind=intrinsic-plasticity",
        "rule.steps=2000",
        "network.n=60",
        "task.train_steps=1000",
        "task.test_steps=300",
    ]
    ds = nl.run(model, "narma10", overrides=over, seed=0)
    assert ds.attrs["status"] == "ok" and np.isfinite(float(ds["nrmse"]))
