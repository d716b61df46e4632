"""Evaluation metrics: closed-form cases and invariances."""

import numpy as np
import pytest

from neurolearn.rnnfit import metrics as m


def test_r2_score_closed_form(rng):
    y = rng.normal(size=(3, 10, 2))
    assert m.r2_score(y, y) == 1.0
    assert m.r2_score(np.broadcast_to(y.mean(axis=(0, 1)), y.shape), y) == pytest.approx(0.0)


def test_cca_invariant_to_invertible_maps_and_low_for_independent(rng):
    x = rng.normal(size=(4, 60, 5))
    a = rng.normal(size=(5, 8))
    assert m.cca_similarity(x, x @ a + 3.0, 5) == pytest.approx(1.0)
    y = rng.normal(size=(4, 60, 5))
    assert m.cca_similarity(x, y, 5) < 0.3


def test_linear_map_recovers_a_linear_teacher_and_fails_on_noise(rng):
    s = rng.normal(size=(8, 40, 6))
    w = rng.normal(size=(6, 9))
    assert m.linear_map_r2(s[:6], s[:6] @ w, s[6:], s[6:] @ w, ridge=1e-9) == pytest.approx(1.0)
    noise = rng.normal(size=(8, 40, 9))
    assert m.linear_map_r2(s[:6], noise[:6], s[6:], noise[6:]) < 0.05
    assert np.isnan(m.linear_map_r2(s[:6], noise[:6, :, :0], s[6:], noise[6:, :, :0]))


def _linear_trajectories(a, n_cond=8, steps=200, dt=0.01):
    from scipy.linalg import expm

    x0 = np.stack(
        [
            np.cos(np.linspace(0, np.pi, n_cond)),
            np.sin(np.linspace(0, np.pi, n_cond)),
            np.linspace(-1, 1, n_cond),
            np.linspace(1, -1, n_cond) ** 2,
        ],
        axis=1,
    )
    step = expm(a * dt)
    out = np.empty((n_cond, steps, 4))
    x = x0.copy()
    for t in range(steps):
        out[:, t] = x
        x = x @ step.T
    return out


def test_jpca_rotation_vs_decay():
    rot = np.zeros((4, 4))
    rot[0, 1], rot[1, 0] = -2 * np.pi, 2 * np.pi
    rot[2, 3], rot[3, 2] = -np.pi, np.pi
    res = m.jpca(_linear_trajectories(rot), dt_ms=10.0, n_pcs=4, soft_norm=0.0)
    assert res["r2_skew"] > 0.99 and res["rotation_ratio"] > 0.99
    assert res["frequency_hz"] == pytest.approx(1.0, rel=0.02)
    decay = -np.diag([1.0, 2.0, 3.0, 4.0])
    res = m.jpca(_linear_trajectories(decay), dt_ms=10.0, n_pcs=4, soft_norm=0.0)
    assert res["r2_full"] > 0.99 and res["rotation_ratio"] < 0.3


def test_fixed_points_of_a_bistable_network():
    # x' = -x + 2 tanh(x): stable points at +-1.915, unstable origin
    w = 2.0 * np.eye(2)
    vel = lambda x: -x + w @ np.tanh(x)  # noqa: E731
    jac = lambda x: -np.eye(2) + w * (1 - np.tanh(x) ** 2)[None, :]  # noqa: E731
    starts = np.array([[3, 3], [-3, 2], [0.1, -0.2], [2, -2], [-2, -2]], float)
    pts, eigs = m.find_fixed_points(vel, jac, starts)
    x_star = 1.9150080481
    want = np.array([[1, 1], [-1, 1], [0, 0], [1, -1], [-1, -1]]) * x_star
    np.testing.assert_allclose(pts, want, atol=1e-8)
    stable = [bool(np.max(e.real) < 0) for e in eigs]
    assert stable == [True, True, False, True, True]
    summary = m.fixed_point_summary(pts, eigs, rest_state=np.array([0.1, 0.0]))
    assert summary["n_fixed_points"] == 5 and summary["n_stable"] == 4
    assert summary["rest_abscissa"] == pytest.approx(1.0)  # -1 + 2 tanh'(0)
