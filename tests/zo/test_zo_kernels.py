"""Kernels against the naive numpy reference (tests/reference_zo.py)."""

import numpy as np
import pytest

from neurolearn._kernels.numba import zo as K
from neurolearn.zo import MLP, RULES

try:
    from reference_zo import RefMLP, gauss, key_of, reference_train, signs
except ImportError:  # tests/ not on sys.path (no conftest)
    from tests.reference_zo import RefMLP, gauss, key_of, reference_train, signs

SEED = 123456789


def test_hash_noise_matches_numpy_and_is_standard():
    key = np.uint64(K.noise_key(np.uint64(SEED), 7, 3))
    assert key == int(key_of(SEED, 7, 3))
    out = np.zeros(20000)
    K.fill_direction(key, 0, out)
    np.testing.assert_allclose(out, gauss(key, out.size), rtol=1e-14, atol=1e-15)
    assert abs(out.mean()) < 0.03 and abs(out.std() - 1) < 0.02
    K.fill_direction(key, 1, out)
    np.testing.assert_array_equal(out, signs(key, out.size))
    assert set(np.unique(out)) == {-1.0, 1.0} and abs(out.mean()) < 0.03
    # different steps and probes give uncorrelated streams
    other = np.zeros(20000)
    K.fill_direction(np.uint64(K.noise_key(np.uint64(SEED), 8, 3)), 0, other)
    K.fill_direction(key, 0, out)
    assert abs(np.corrcoef(out, other)[0, 1]) < 0.03


@pytest.fixture(
    params=[
        ("tanh", "cross-entropy", True, "linear"),
        ("relu", "squared", False, "linear"),
        ("sigmoid", "squared", False, "tanh"),
    ]
)
def problem(request):
    act, loss, bias, out_act = request.param
    rng = np.random.default_rng(0)
    sizes = (5, 6, 4, 3)
    X = rng.standard_normal((40, 5))
    if loss == "squared":
        Y = rng.standard_normal((40, 3))
    else:
        Y = np.eye(3)[rng.integers(0, 3, 40)]
    net = MLP(layer_sizes=sizes, activation=act, loss=loss, bias=bias, output_activation=out_act)
    ref = RefMLP(sizes, act, loss, bias, out_act)
    return net, ref, X, Y


def test_loss_gradient_and_jvp_match_reference(problem):
    net, ref, X, Y = problem
    theta = net.set_params(seed=1).initialize().theta_
    assert net.mean_loss(theta, X, Y) == pytest.approx(ref.mean_loss(theta, X, Y), rel=1e-12)
    value, grad = net.gradient(theta, X, Y)
    np.testing.assert_allclose(grad, ref.gradient(theta, X, Y), rtol=1e-10, atol=1e-13)
    lay = net.layout_
    u = np.random.default_rng(2).standard_normal(theta.size)
    width = int(max(lay.sizes))
    H = np.zeros((len(lay.sizes), X.shape[0], width))
    jvp = K.directional_derivative(
        theta,
        u,
        lay.sizes,
        lay.w_off,
        lay.b_off,
        *net.codes,
        X,
        Y,
        np.arange(X.shape[0]),
        H,
        np.zeros_like(H),
        np.zeros(width),
    )
    assert jvp == pytest.approx(grad @ u, rel=1e-10)
    # finite differences as an independent check of the reference itself
    e = 1e-6
    fd = (ref.mean_loss(theta + e * u, X, Y) - ref.mean_loss(theta - e * u, X, Y)) / (2 * e)
    assert fd == pytest.approx(grad @ u, rel=1e-6)


CASES = {
    "backprop": {},
    "weight-perturbation": {"sigma": 1e-2, "n_probes": 3},
    "node-perturbation": {"sigma": 1e-2, "n_probes": 2},
    "spsa": {"sigma": 1e-2, "n_probes": 2, "direction": "rademacher"},
    "forward-gradient": {"n_probes": 3},
    "evolution-strategies": {"sigma": 1e-2, "population": 3, "fitness_shaping": "centered-ranks"},
    "ou-weight-noise": {"sigma": 1e-2, "mean_reversion": 0.3, "reward_rate": 0.2},
}


@pytest.mark.parametrize("name", list(CASES))
def test_training_loop_matches_reference(problem, name):
    net, ref, X, Y = problem
    rule = RULES[name](learning_rate=0.05, **CASES[name])
    full = {
        "learning_rate": 0.05,
        "sigma": 0.0,
        "n_probes": 1,
        "direction": "gaussian",
        "fitness_shaping": "none",
        "mean_reversion": 0.0,
        "reward_rate": 0.0,
        **CASES[name],
    }
    full["n_probes"] = CASES[name].get("population", full["n_probes"])
    theta0 = net.set_params(seed=3).initialize().theta_
    batches = np.random.default_rng(4).integers(0, X.shape[0], (6, 8)).astype(np.int64)
    lay = net.layout_
    theta = theta0.copy()
    mean, reward = theta0.copy(), np.zeros(2)
    seen = np.zeros(len(batches))
    params = rule.kernel_params()
    queries, bad = K.train_steps(
        params,
        theta,
        K.OUState(mean, reward),
        K.MLPLayout(lay.sizes, lay.w_off, lay.b_off, *net.codes),
        K.Data(X, Y),
        batches,
        0,
        np.uint64(SEED),
        K.scratch_for(params, lay.sizes, batches.shape[1], lay.n_params),
        seen,
    )
    ref_theta, ref_queries, ref_seen = reference_train(ref, name, theta0, X, Y, batches, SEED, full)
    got = mean if name == "ou-weight-noise" else theta
    assert bad == -1
    assert queries == ref_queries == rule.queries_per_step() * len(batches)
    np.testing.assert_allclose(got, ref_theta, rtol=1e-9, atol=1e-11)
    if name != "forward-gradient":
        np.testing.assert_allclose(seen, ref_seen, rtol=1e-9)
    assert not np.allclose(got, theta0)


def test_divergence_is_reported_with_step():
    from neurolearn.errors import DivergenceError
    from neurolearn.zo import Backprop, train

    rng = np.random.default_rng(0)
    X = rng.standard_normal((50, 4)) * 10
    Y = rng.standard_normal((50, 2))
    net = MLP(layer_sizes=(4, 2), activation="linear", loss="squared")
    with pytest.raises(DivergenceError) as info:
        train(net, Backprop(learning_rate=5.0), X, Y, steps=400, batch_size=10, seed=0)
    assert info.value.step is not None and 0 < info.value.step < 400
