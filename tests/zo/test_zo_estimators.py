"""Gradient estimators against the true gradient: unbiasedness, 1/sqrt(d) cosine, variance;
and every public model of the family passes the shared API checks."""

import numpy as np
import pytest

from neurolearn._history import History
from neurolearn.errors import BackendError
from neurolearn.zo import (
    MLP,
    SPSA,
    Backprop,
    EvolutionStrategies,
    ForwardGradient,
    NodePerturbation,
    OUWeightNoise,
    WeightPerturbation,
    train,
)
from neurolearn.zo.diagnostics import estimate_quality
from tests.estimator_checks import Case, check_estimator


def _problem(n_in, n_out, hidden=(), n=30, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, n_in))
    Y = rng.standard_normal((n, n_out))
    net = MLP(layer_sizes=(n_in, *hidden, n_out), activation="tanh", loss="squared")
    return net, net.set_params(seed=seed).initialize().theta_, X, Y


@pytest.mark.parametrize(
    "rule",
    [
        ForwardGradient(),
        SPSA(sigma=1e-5, direction="rademacher"),
        SPSA(sigma=1e-5, direction="gaussian"),
        WeightPerturbation(sigma=1e-5, antithetic=True),
        EvolutionStrategies(sigma=1e-5, population=1),
    ],
    ids=lambda r: f"{r.name}-{getattr(r, 'direction', '')}",
)
def test_mean_of_estimates_converges_to_true_gradient(rule):
    net, theta, X, Y = _problem(4, 3, hidden=(5,))
    q = estimate_quality(net, rule, theta, X, Y, n_samples=4000, seed=1)
    assert q["cosine_of_mean"] > 0.99
    # the mean error shrinks like sqrt(variance / n_samples): within 4 standard errors
    assert q["relative_bias"] < 4 * np.sqrt(q["relative_variance"] / 4000)


def test_node_perturbation_is_unbiased_to_first_order():
    net, theta, X, Y = _problem(4, 3, hidden=(5,), n=8)
    q = estimate_quality(net, NodePerturbation(sigma=1e-5), theta, X, Y, n_samples=3000, seed=2)
    assert q["cosine_of_mean"] > 0.99
    assert q["relative_bias"] < 4 * np.sqrt(q["relative_variance"] / 3000)


@pytest.mark.parametrize("d_in", [5, 20, 80])
def test_single_direction_cosine_falls_as_one_over_sqrt_d(d_in):
    net, theta, X, Y = _problem(d_in, 2)
    d = net.n_params
    q = estimate_quality(net, ForwardGradient(), theta, X, Y, n_samples=1500, seed=3)
    # E|cos(u, g)| for u ~ N(0, I_d) is sqrt(2 / pi) Gamma(d/2) / (sqrt(2) Gamma((d+1)/2))
    from scipy.special import gammaln

    expected = np.exp(gammaln(d / 2) - gammaln((d + 1) / 2)) / np.sqrt(np.pi)
    assert q["cosine"] == pytest.approx(expected, rel=0.08)
    assert q["cosine"] == pytest.approx(np.sqrt(2 / (np.pi * d)), rel=0.2)


@pytest.mark.parametrize("n_probes", [1, 4, 16])
def test_variance_matches_theory_and_cosine_rises_with_probes(n_probes):
    net, theta, X, Y = _problem(30, 2)
    d = net.n_params
    fg = estimate_quality(
        net, ForwardGradient(n_probes=n_probes), theta, X, Y, n_samples=1200, seed=4
    )
    # E|g - grad|^2 / |grad|^2 = (d + 1) / q for Gaussian directions
    assert fg["relative_variance"] == pytest.approx((d + 1) / n_probes, rel=0.15)
    spsa = estimate_quality(
        net, SPSA(sigma=1e-5, n_probes=n_probes), theta, X, Y, n_samples=1200, seed=5
    )
    # Rademacher directions: (d - 1) / q
    assert spsa["relative_variance"] == pytest.approx((d - 1) / n_probes, rel=0.15)
    # cosine ~ sqrt(q / (d + q)) for q << d
    assert fg["cosine"] == pytest.approx(np.sqrt(n_probes / (d + 1 + n_probes)), rel=0.25)


def test_node_perturbation_variance_scales_with_units_not_weights():
    # same number of output units, 8x more weights: NP variance barely changes, WP's grows
    small = _problem(5, 3, n=1, seed=6)
    large = _problem(40, 3, n=1, seed=6)
    var = {}
    for name, (net, theta, X, Y) in {"small": small, "large": large}.items():
        var[name, "np"] = estimate_quality(
            net, NodePerturbation(sigma=1e-5), theta, X, Y, n_samples=1500, seed=7
        )["relative_variance"]
        var[name, "wp"] = estimate_quality(
            net,
            WeightPerturbation(sigma=1e-5, antithetic=True),
            theta,
            X,
            Y,
            n_samples=1500,
            seed=8,
        )["relative_variance"]
    assert var["large", "np"] < 1.5 * var["small", "np"]
    assert var["large", "wp"] > 4 * var["small", "wp"]


@pytest.mark.parametrize("rule", [ForwardGradient(n_probes=2), SPSA(sigma=1e-5)], ids=str)
def test_running_mean_gives_the_stored_numbers_and_its_curve_follows_theory(rule):
    net, theta, X, Y = _problem(12, 3)
    n = 1500
    stored = estimate_quality(net, rule, theta, X, Y, n_samples=n, seed=6)
    running = estimate_quality(net, rule, theta, X, Y, n_samples=n, seed=6, running_mean=True)
    for key in ("cosine", "cosine_of_mean", "relative_variance", "relative_bias"):
        assert running[key] == pytest.approx(stored[key], rel=1e-12), key
    assert running["queries"] == stored["queries"] and running["n_params"] == stored["n_params"]
    curve = running["cosine_of_running_mean"]
    assert curve.shape == (n,) and curve[-1] == pytest.approx(stored["cosine_of_mean"], rel=1e-12)
    # unbiased estimator: |mean_k - g|^2 / |g|^2 ~ V / k, so 1 - cos(mean_k, g) ~ V (d-1)/d / (2k)
    d, var = stored["n_params"], stored["relative_variance"]
    k = np.arange(1, n + 1)
    tail = slice(n // 2, None)
    ratio = np.mean(((1 - curve) * 2 * k / (var * (d - 1) / d))[tail])
    assert ratio == pytest.approx(1.0, rel=0.35)
    # and the first estimate's cosine is just the single-estimate cosine
    assert curve[0] < curve[-1]


# ---------------------------------------------------------------- the shared API checks
_rng = np.random.default_rng(11)
XE, YE = _rng.standard_normal((16, 3)), _rng.standard_normal((16, 2))
NET = MLP(layer_sizes=(3, 4, 2), loss="squared")


def _mlp_use(net):
    net.initialize()
    return net.predict(net.theta_, XE), net.mean_loss(net.theta_, XE, YE)


def _rule_use(rule):
    res = train(NET, rule, XE, YE, steps=6, batch_size=4, seed=0, n_records=2)
    return res.theta, res.batch_loss, res.queries


_RULE_CASES = {
    Backprop: {},
    WeightPerturbation: dict(sigma=1e-2, n_probes=2),
    NodePerturbation: dict(sigma=1e-2),
    SPSA: dict(direction="gaussian"),
    ForwardGradient: dict(n_probes=2),
    EvolutionStrategies: dict(population=3),
    OUWeightNoise: dict(sigma=0.05),
}

CASES = [
    Case(
        MLP,
        dict(layer_sizes=(3, 5, 2), loss="squared", seed=0),
        _mlp_use,
        bad=("init_scale", -1.0),
        structural=("init_scale", 2.0),
        runtime=("activation", "relu"),
    ),
    *[
        Case(
            cls,
            dict(params, learning_rate=0.03),
            _rule_use,
            bad=("learning_rate", 0.0),
            runtime=("learning_rate", 0.3),
        )
        for cls, params in _RULE_CASES.items()
    ],
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_zo_models_pass_the_estimator_checks(case):
    check_estimator(case)


def test_init_params_is_a_deprecated_alias_of_initialize():
    net = MLP(layer_sizes=(3, 4, 2), init="uniform", init_scale=2.0)
    with pytest.warns(DeprecationWarning, match="initialize"):
        theta = net.init_params(5)
    np.testing.assert_array_equal(theta, net.set_params(seed=5).initialize().theta_)
    assert net.initialize() is net


def test_train_returns_a_history_and_leaves_the_network_as_it_was():
    net = MLP(layer_sizes=(3, 4, 2), loss="squared", seed=3)
    before = net.get_params()
    res = train(net, SPSA(), XE, YE, steps=8, batch_size=4, seed=1, eval_sets={"train": (XE, YE)})
    assert isinstance(res, History)
    assert net.get_params() == before and not hasattr(net, "theta_")
    # the initial weights come from train's seed, drawn as initialize draws them
    start = train(net, SPSA(learning_rate=1e-300), XE, YE, steps=1, batch_size=4, seed=1)
    rng_init = np.random.default_rng(1).spawn(3)[0]
    np.testing.assert_allclose(
        start.theta, net.clone().set_params(seed=rng_init).initialize().theta_, atol=1e-200
    )
    assert res.total_queries == res.queries[-1] == 16
    ds = res.to_dataset()
    assert ds["train_loss"].dims == ("steps",) and ds["theta"].dims == ("parameter",)
    with pytest.warns(DeprecationWarning, match="History"):
        from neurolearn.zo import TrainResult
    assert TrainResult is History


def test_numpy_backend_is_refused_naming_the_engines():
    with pytest.raises(
        BackendError, match="'backend' parameter of train must be one of 'numba', 'torch'"
    ):
        train(NET, SPSA(), XE, YE, steps=1, batch_size=4, backend="numpy")
