"""Loss-only rules on any parameter vector: same numbers as the MLP kernels, and a rate RNN."""

import numpy as np
import pytest

from neurolearn.errors import ParameterTypeError
from neurolearn.zo import MLP, SPSA, EvolutionStrategies, ForwardGradient, WeightPerturbation
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


def test_generic_refuses_rules_that_need_the_network():
    with pytest.raises(ParameterTypeError, match="only need loss values"):
        zo_gradient(lambda th: 0.0, np.zeros(2), ForwardGradient(), key=0)
