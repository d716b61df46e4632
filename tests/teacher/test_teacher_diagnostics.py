"""Curl of the update field and Lyapunov exponents of the weight dynamics."""

from __future__ import annotations

import numpy as np

from neurolearn.tasks.teacher import make_teacher_data
from neurolearn.teacher import (
    CurlDescent,
    GradientDescent,
    MinibatchTrainer,
    TwoLayerNetwork,
    make_teacher,
)
from neurolearn.teacher.diagnostics import curl_diagnostics, lyapunov_exponent, update_jacobian
from neurolearn.teacher.networks import mean_squared_error


def _small(seed=0):
    rng = np.random.default_rng(seed)
    return (
        rng.normal(size=(4, 3)) / 2,
        rng.normal(size=(1, 4)) / 2,
        rng.normal(size=(20, 3)),
        rng.normal(size=(20, 1)),
    )


def test_gradient_field_jacobian_is_minus_the_hessian():
    w1, w2, x, y = _small()
    jac = update_jacobian(GradientDescent(), w1, w2, x, y, "tanh", "linear")
    # Hessian of the loss by second differences on one entry pair
    h = 1e-4

    def loss(d1, d2):
        a1 = w1.copy()
        a1[1, 2] += d1
        a2 = w2.copy()
        a2[0, 3] += d2
        return mean_squared_error(a1, a2, x, y, "tanh", "linear")

    i, j = 1 * 3 + 2, 12 + 3
    hess = (loss(h, h) - loss(h, -h) - loss(-h, h) + loss(-h, -h)) / (4 * h * h)
    assert np.isclose(-jac[i, j], hess, rtol=1e-4)
    assert np.isclose(jac[i, j], jac[j, i], rtol=1e-5)


def test_rule_flips_create_curl_and_gradient_descent_has_none():
    w1, w2, x, y = _small()
    gd = curl_diagnostics(GradientDescent(), w1, w2, x, y, "tanh", "linear")
    assert gd["curl_ratio"] < 1e-6
    for rule in (CurlDescent(flipped_hidden=1), CurlDescent(flipped_inputs=[0])):
        cd = curl_diagnostics(rule, w1, w2, x, y, "tanh", "linear")
        assert cd["curl_ratio"] > 0.01 and cd["antisymmetric_norm"] > 0


def test_lyapunov_exponent_negative_when_learning_positive_beyond_critical():
    teacher = make_teacher(45, 15, activation="linear", seed=0)
    data = make_teacher_data(teacher, 250, 100, seed=1)
    exps = {}
    for k in (0, 22):
        student = TwoLayerNetwork(n_inputs=45, n_hidden=15, activation="linear", seed=2)
        rule = CurlDescent(flipped_inputs=k)
        MinibatchTrainer(rule=rule, epochs=300, seed=5).fit(student.initialize(), data)
        exps[k] = lyapunov_exponent(student, data, rule, epochs=150, seed=3)
    assert exps[0] < 2e-4  # gradient descent converges: nearby trajectories do not separate
    assert exps[22] > 1e-3  # c = 3, half the inputs flipped: learning fails and is chaotic
    again = TwoLayerNetwork(n_inputs=45, n_hidden=15, activation="linear", seed=2).initialize()
    MinibatchTrainer(rule=CurlDescent(flipped_inputs=22), epochs=300, seed=5).fit(again, data)
    assert (
        lyapunov_exponent(again, data, CurlDescent(flipped_inputs=22), epochs=150, seed=3)
        == exps[22]
    )
