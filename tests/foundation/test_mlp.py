"""One MLP: the student-teacher two-layer network and the zeroth-order MLP share one forward
and backward pass (neurolearn._mlp), which equals a naive loop, finite differences and both
families' jitted kernels."""

import numpy as np
import pytest

from neurolearn import _mlp
from neurolearn._kernels.numba import zo as K
from neurolearn.teacher.networks import (
    TwoLayerNetwork,
    mean_squared_error,
    two_layer_backward,
    two_layer_forward,
)
from neurolearn.zo import MLP

try:
    from reference_zo import RefMLP
except ImportError:  # tests/ not on sys.path (no conftest)
    from tests.reference_zo import RefMLP


def _pair(act, out_act, seed=3):
    rng = np.random.default_rng(seed)
    net = MLP(
        layer_sizes=(6, 5, 3),
        activation=act,
        output_activation=out_act,
        loss="squared",
        bias=False,
        init="uniform",
        init_scale=2.0,
    )
    theta = net.set_params(seed=rng).initialize().theta_
    (w1, _), (w2, _) = net.weights(theta)
    student = TwoLayerNetwork(
        n_inputs=6, n_hidden=5, n_outputs=3, activation=act, output_activation=out_act
    ).set_weights(w1, w2)
    x, y = rng.standard_normal((25, 6)), rng.standard_normal((25, 3))
    return net, theta, student, x, y


@pytest.mark.parametrize("act", ["tanh", "relu", "sigmoid", "linear"])
@pytest.mark.parametrize("out_act", ["linear", "tanh"])
def test_same_weights_same_outputs_losses_and_gradients(act, out_act):
    net, theta, student, x, y = _pair(act, out_act)
    w1, w2 = student.w1_, student.w2_
    np.testing.assert_allclose(net.predict(theta, x), student.predict(x), rtol=1e-12, atol=1e-14)
    assert net.mean_loss(theta, x, y) == pytest.approx(student.error(x, y), rel=1e-12)
    loss, grad = net.gradient(theta, x, y)
    assert loss == pytest.approx(mean_squared_error(w1, w2, x, y, act, out_act), rel=1e-12)
    (gw1, _), (gw2, _) = net.weights(grad)
    g1, g2 = two_layer_backward(w1, w2, x, y, act, out_act)
    if out_act == "linear":
        # with a linear output the family's error products are the exact gradient
        np.testing.assert_allclose(gw1, g1, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(gw2, g2, rtol=1e-12, atol=1e-14)
    else:
        # the curl-descent products drop phi_out'; the exact gradient keeps it: the products
        # of the error times phi_out'(a_2) are the MLP's gradient
        pre, hidden, out = two_layer_forward(w1, w2, x, act, out_act)
        _, dphi_out = _mlp.activation_functions(out_act)
        err = (out - y) * dphi_out(hidden @ w2.T)
        _, dphi = _mlp.activation_functions(act)
        np.testing.assert_allclose(gw2, err.T @ hidden / len(x), rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(
            gw1, ((err @ w2) * dphi(pre)).T @ x / len(x), rtol=1e-12, atol=1e-14
        )
        assert not np.allclose(gw2, g2)


@pytest.mark.parametrize(
    "act, loss, bias, out_act",
    [
        ("tanh", "cross-entropy", True, "linear"),
        ("relu", "squared", True, "sigmoid"),
        ("sigmoid", "squared", False, "tanh"),
    ],
)
def test_one_path_equals_the_naive_reference_finite_differences_and_the_kernels(
    act, loss, bias, out_act
):
    rng = np.random.default_rng(0)
    sizes = (5, 7, 4, 3)
    X = rng.standard_normal((30, 5))
    Y = rng.standard_normal((30, 3)) if loss == "squared" else np.eye(3)[rng.integers(0, 3, 30)]
    net = MLP(layer_sizes=sizes, activation=act, loss=loss, bias=bias, output_activation=out_act)
    ref = RefMLP(sizes, act, loss, bias, out_act)
    theta = net.set_params(seed=4).initialize().theta_
    if bias:
        theta[net.layout_.b_off[0] :][:7] = rng.standard_normal(7)
    value, grad = net.gradient(theta, X, Y)
    assert value == pytest.approx(ref.mean_loss(theta, X, Y), rel=1e-12)
    np.testing.assert_allclose(grad, ref.gradient(theta, X, Y), rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(net.predict(theta, X), ref.forward(theta, X)[-1], rtol=1e-12)
    u = rng.standard_normal(theta.size)
    e = 1e-6
    fd = (net.mean_loss(theta + e * u, X, Y) - net.mean_loss(theta - e * u, X, Y)) / (2 * e)
    assert fd == pytest.approx(grad @ u, rel=1e-6)
    # the zeroth-order family's jitted kernels (what the training loops run)
    lay = net.layout_
    width = int(max(lay.sizes))
    H = np.zeros((len(lay.sizes), X.shape[0], width))
    idx = np.arange(X.shape[0], dtype=np.int64)
    act_code, loss_code = net.codes
    kgrad = np.zeros_like(theta)
    kvalue = K.backprop(
        theta,
        lay.sizes,
        lay.w_off,
        lay.b_off,
        act_code,
        loss_code,
        X,
        Y,
        idx,
        H,
        np.zeros((2, X.shape[0], width)),
        np.zeros(X.shape[0]),
        kgrad,
    )
    assert kvalue == pytest.approx(value, rel=1e-12)
    np.testing.assert_allclose(kgrad, grad, rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("out_act", ["erf", "linear", "tanh"])
def test_two_layer_forward_equals_the_teacher_kernel(out_act):
    from neurolearn._kernels.numba.teacher import mean_squared_error as kernel_mse
    from neurolearn.teacher.networks import ACTIVATIONS

    rng = np.random.default_rng(2)
    w1, w2 = rng.standard_normal((4, 6)) / 2, rng.standard_normal((2, 4)) / 2
    x, y = rng.standard_normal((40, 6)), rng.standard_normal((40, 2))
    expected = kernel_mse(w1, w2, x, y, ACTIVATIONS["erf"], ACTIVATIONS[out_act], np.zeros(4))
    assert mean_squared_error(w1, w2, x, y, "erf", out_act) == pytest.approx(expected, rel=1e-12)


def test_feedback_matrix_replaces_the_forward_weights_going_down():
    rng = np.random.default_rng(5)
    w1, w2, fb = (rng.standard_normal(s) for s in ((4, 3), (2, 4), (2, 4)))
    x, y = rng.standard_normal((10, 3)), rng.standard_normal((10, 2))
    g1, g2 = two_layer_backward(w1, w2, x, y, "tanh", "linear", feedback=fb)
    pre = x @ w1.T
    err = np.tanh(pre) @ w2.T - y
    np.testing.assert_allclose(g2, err.T @ np.tanh(pre) / 10, rtol=1e-12)
    np.testing.assert_allclose(
        g1, ((err @ fb) * (1 - np.tanh(pre) ** 2)).T @ x / 10, rtol=1e-12, atol=1e-14
    )
