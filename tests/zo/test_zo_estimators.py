"""Gradient estimators against the true gradient: unbiasedness, 1/sqrt(d) cosine, variance."""

import numpy as np
import pytest

from neurolearn.zo import (
    MLP,
    SPSA,
    EvolutionStrategies,
    ForwardGradient,
    NodePerturbation,
    WeightPerturbation,
)
from neurolearn.zo.diagnostics import estimate_quality


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
