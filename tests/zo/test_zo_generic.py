"""Loss-only rules on any parameter vector: same numbers as the MLP kernels, and a rate RNN."""

import numpy as np
import pytest

from neurolearn.errors import ParameterTypeError
from neurolearn.zo import (
    MLP,
    SPSA,
    Backprop,
    EvolutionStrategies,
    ForwardGradient,
    WeightPerturbation,
)
from neurolearn.zo.generic import minimize, zo_gradient
from neurolearn.zo.rules import noise_seed


@pytest.mark.parametrize(
    "rule",
    [
        WeightPerturbation(sigma=1e-3, n_probes=3),
        WeightPerturbation(sigma=1e-3, antithetic=True, n_probes=2),
        SPSA(sigma=1e-3, n_probes=2),
        SPSA(sigma=1e-3, direction="gaussian"),
        EvolutionStrategies(sigma=1e-2, population=3, fitness_shaping="centered-ranks"),
    ],
    ids=lambda r: r.name,
)
def test_generic_estimate_equals_the_mlp_kernels(rule):
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((12, 4)), rng.standard_normal((12, 2))
    net = MLP(layer_sizes=(4, 3, 2), loss="squared")
    theta = net.set_params(seed=1).initialize().theta_
    ours, queries = rule.estimate(net, theta, X, Y, seed=7)
    generic, calls = zo_gradient(lambda th: net.mean_loss(th, X, Y), theta, rule, key=noise_seed(7))
    np.testing.assert_allclose(generic, ours, rtol=1e-6, atol=1e-9)
    assert calls == queries


def _rnn_loss(theta, u, target, n):
    w = theta[: n * n].reshape(n, n)
    w_in = theta[n * n : n * n + n]
    readout = theta[n * n + n :]
    h = np.zeros(n)
    out = np.empty(len(u))
    for t, ut in enumerate(u):
        h = np.tanh(w @ h + w_in * ut)
        out[t] = readout @ h
    return 0.5 * float(np.mean((out - target) ** 2))


def test_spsa_trains_a_rate_rnn_through_its_loss_alone():
    n = 4
    rng = np.random.default_rng(3)
    u = rng.standard_normal(40)
    teacher = rng.standard_normal(n * n + 2 * n) * 0.5
    target = np.empty(len(u))
    w, w_in, readout = teacher[: n * n].reshape(n, n), teacher[n * n : n * n + n], teacher[-n:]
    h = np.zeros(n)
    for t, ut in enumerate(u):
        h = np.tanh(w @ h + w_in * ut)
        target[t] = readout @ h
    theta0 = rng.standard_normal(teacher.size) * 0.3
    loss = lambda th: _rnn_loss(th, u, target, n)  # noqa: E731
    theta, losses, calls = minimize(
        loss, theta0, SPSA(learning_rate=0.05, sigma=1e-3, n_probes=2), steps=300, seed=0
    )
    assert calls == 1200
    assert losses[-1] < 0.3 * loss(theta0)


def test_generic_refuses_rules_that_are_not_gradient_estimates_and_names_the_reason():
    from neurolearn.zo import NodePerturbation, OUWeightNoise

    with pytest.raises(ParameterTypeError, match="pre-activations"):
        zo_gradient(lambda th: 0.0, np.zeros(2), NodePerturbation(), key=0)
    with pytest.raises(ParameterTypeError, match="running reward average"):
        zo_gradient(lambda th: 0.0, np.zeros(2), OUWeightNoise(), key=0)
    with pytest.raises(ParameterTypeError, match="'jvp' parameter"):
        zo_gradient(lambda th: 0.0, np.zeros(2), ForwardGradient(), key=0)
    with pytest.raises(ParameterTypeError, match="'grad' parameter"):
        zo_gradient(lambda th: 0.0, np.zeros(2), Backprop(), key=0)


def test_forward_gradient_through_a_directional_derivative_equals_the_mlp_kernel():
    rng = np.random.default_rng(1)
    X, Y = rng.standard_normal((12, 4)), rng.standard_normal((12, 2))
    net = MLP(layer_sizes=(4, 3, 2), loss="squared")
    theta = net.set_params(seed=2).initialize().theta_
    rule = ForwardGradient(n_probes=3)
    ours, queries = rule.estimate(net, theta, X, Y, seed=7, step=4)
    calls = []

    def jvp(th, u):
        calls.append(1)
        return float(net.gradient(th, X, Y)[1] @ u)

    generic, used = zo_gradient(None, theta, rule, key=noise_seed(7), step=4, jvp=jvp)
    np.testing.assert_allclose(generic, ours, rtol=1e-10, atol=1e-13)
    assert used == queries == len(calls) == 3
    exact, one = zo_gradient(
        None, theta, Backprop(), key=0, grad=lambda th: net.gradient(th, X, Y)[1]
    )
    np.testing.assert_array_equal(exact, net.gradient(theta, X, Y)[1])
    assert one == 1


def test_forward_gradient_is_unbiased_and_minimizes_a_quadratic():
    a = np.diag([1.0, 2.0, 3.0, 4.0])
    theta0 = np.ones(4)
    quad = lambda th: 0.5 * float(th @ a @ th)  # noqa: E731
    jvp = lambda th, u: float(th @ a @ u)  # noqa: E731
    # E[(g . u) u] = g for u ~ N(0, I): the mean of many estimates is the gradient
    est = np.mean(
        [zo_gradient(quad, theta0, ForwardGradient(), key=k, jvp=jvp)[0] for k in range(4000)],
        axis=0,
    )
    g = a @ theta0
    # per-coordinate standard error sqrt((|g|^2 + g_i^2) / n)
    se = np.sqrt((g @ g + g**2) / 4000)
    assert np.all(np.abs(est - g) < 4 * se)
    theta, losses, calls = minimize(
        quad, theta0, ForwardGradient(learning_rate=0.05), steps=400, seed=0, jvp=jvp
    )
    assert calls == 400 and losses[-1] < 1e-3 * quad(theta0)
