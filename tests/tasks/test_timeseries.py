"""Task generators and metrics against formulas, references and known dynamics."""

import numpy as np
import pytest
import reference

from neurolearn._kernels.numba import timeseries as kernels
from neurolearn.errors import DivergenceError
from neurolearn.tasks import (
    LORENZ_LYAPUNOV,
    delayed_targets,
    lorenz,
    mackey_glass,
    memory_capacity_curve,
    narma,
    nrmse,
    valid_prediction_time,
)


def test_narma_equals_reference_loop(rng):
    u = rng.uniform(0, 0.5, 400)
    np.testing.assert_allclose(narma(u, 10), reference.narma_loop(u, 10), atol=1e-14)
    np.testing.assert_allclose(narma(u, 5), reference.narma_loop(u, 5), atol=1e-14)


def test_narma_is_the_canonical_not_the_shifted_variant():
    """y(t+1) uses u(t-9) u(t): an impulse at t0 first enters y at t0 + 1 (through
    u(t0) u(t0 - 9)) and again at t0 + 10 (through u(t0 + 9) u(t0))."""
    u = np.full(60, 0.2)
    base = narma(u)
    u2 = u.copy()
    u2[30] = 0.4
    diff = np.flatnonzero(np.abs(narma(u2) - base) > 0)
    assert diff[0] == 31


def test_narma_divergence_is_reported():
    with pytest.raises(DivergenceError, match="diverged"):
        narma(np.full(200, 2.0))


def test_mackey_glass_regime():
    x = mackey_glass(3000, seed=1)
    assert 0.2 < x.min() < 0.5 and 1.2 < x.max() < 1.5  # the tau = 17 attractor's range
    # aperiodic: autocorrelation decays, the series does not repeat with period <= 200
    xc = x - x.mean()
    ac = [np.dot(xc[:-k], xc[k:]) / np.dot(xc, xc) for k in range(1, 201)]
    assert max(ac[60:]) < 0.9


def test_mackey_glass_fixed_point_without_delay_feedback():
    """With beta = 0 the equation is dx/dt = -gamma x: RK4 gives exp(-gamma t)."""
    x = np.ones(171 + 1000)
    kernels.mackey_glass_fill(x, 170, 0.0, 0.1, 10.0, 0.1)
    np.testing.assert_allclose(x[-1], np.exp(-0.1 * 100.0), rtol=1e-9)


def test_lorenz_largest_lyapunov_exponent():
    """Renormalised separation of two nearby trajectories gives lambda_max ~ 0.906."""
    start = lorenz(1, seed=0)[0]
    a, b = start.copy(), start + np.array([1e-8, 0, 0])
    total, chunk, steps = 0.0, 1.0, 300
    out_a, out_b = np.empty((50, 3)), np.empty((50, 3))
    for _ in range(steps):
        kernels.lorenz_fill(a, 0, 4, 0.005, 10.0, 28.0, 8 / 3, out_a)
        kernels.lorenz_fill(b, 0, 4, 0.005, 10.0, 28.0, 8 / 3, out_b)
        a, b = out_a[-1].copy(), out_b[-1].copy()
        d = np.linalg.norm(b - a)
        total += np.log(d / 1e-8)
        b = a + (b - a) * (1e-8 / d)
    assert total / (steps * chunk) == pytest.approx(LORENZ_LYAPUNOV, abs=0.1)


def test_delayed_targets_and_mc_curve(rng):
    u = rng.uniform(-1, 1, 500)
    Y = delayed_targets(u, 5, 5)
    assert Y.shape == (495, 5)
    np.testing.assert_array_equal(Y[:, 2], u[2:-3])
    mc = memory_capacity_curve(Y, Y + 0.5 * rng.normal(size=Y.shape))
    # corr^2 of x and x + noise: var / (var + noise var) = (1/3) / (1/3 + 1/4)
    np.testing.assert_allclose(mc, 4 / 7, atol=0.06)


def test_nrmse_and_valid_time(rng):
    y = rng.normal(size=(200, 3))
    assert nrmse(y, y) == 0.0
    assert nrmse(y, np.zeros_like(y)) == pytest.approx(np.mean(np.sqrt((y**2).mean(0)) / y.std(0)))
    pred = y.copy()
    pred[120:] += 5.0
    assert valid_prediction_time(y, pred) == 120
