"""The one ridge solver against closed forms and numpy's least squares."""

import numpy as np
import pytest

from neurolearn._linalg import ridge_solve, solve_normal_equations


def _problem(seed=0, t=50, n=6, k=3):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(t, n)) + rng.normal(size=n)
    y = x @ rng.normal(size=(n, k)) + rng.normal(size=k) + 0.3 * rng.normal(size=(t, k))
    return x, y


@pytest.mark.parametrize("lam", [0.0, 0.1, 10.0])
def test_intercept_fit_is_lstsq_of_the_augmented_penalised_system(lam):
    # ridge with an unpenalised intercept == least squares on [x, 1] stacked on [sqrt(lam) I, 0]
    x, y = _problem()
    t, n = x.shape
    design = np.block([[x, np.ones((t, 1))], [np.sqrt(lam) * np.eye(n), np.zeros((n, 1))]])
    target = np.vstack([y, np.zeros((n, y.shape[1]))])
    ref = np.linalg.lstsq(design, target, rcond=None)[0]
    coef, intercept = ridge_solve(x, y, lam)
    np.testing.assert_allclose(coef, ref[:n], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(intercept, ref[n], rtol=1e-10, atol=1e-12)


def test_no_intercept_is_the_closed_form_and_relative_scales_the_penalty():
    x, y = _problem(1)
    t, n = x.shape
    lam = 0.5
    closed = np.linalg.inv(x.T @ x + lam * np.eye(n)) @ x.T @ y
    coef, intercept = ridge_solve(x, y, lam, fit_intercept=False)
    np.testing.assert_allclose(coef, closed, rtol=1e-10)
    np.testing.assert_array_equal(intercept, np.zeros(y.shape[1]))
    rel = 1e-2
    coef_rel, _ = ridge_solve(x, y, rel, fit_intercept=False, relative=True)
    lam_rel = rel * np.mean(x**2) * t
    np.testing.assert_allclose(
        coef_rel, np.linalg.inv(x.T @ x + lam_rel * np.eye(n)) @ x.T @ y, rtol=1e-10
    )
    # the relative penalty makes the fit invariant to rescaling x
    coef_scaled, _ = ridge_solve(7.0 * x, y, rel, fit_intercept=False, relative=True)
    np.testing.assert_allclose(7.0 * coef_scaled, coef_rel, rtol=1e-10)


def test_singular_system_falls_back_to_minimum_norm_least_squares():
    x, y = _problem(2)
    x = np.hstack([x, x[:, :2]])  # collinear columns, no penalty: the Gram matrix is singular
    coef, intercept = ridge_solve(x, y, 0.0)
    xc, yc = x - x.mean(0), y - y.mean(0)
    np.testing.assert_allclose(coef, np.linalg.pinv(xc) @ yc, rtol=1e-6, atol=1e-8)
    # the intercept puts the fit through the means
    np.testing.assert_allclose(intercept, y.mean(0) - x.mean(0) @ coef, rtol=1e-10, atol=1e-12)
    gram = xc.T @ xc
    before = gram.copy()
    solve_normal_equations(gram, xc.T @ yc, 1.0)
    np.testing.assert_array_equal(gram, before)  # the Gram matrix is left unchanged


def test_all_zero_design_gives_zero_coefficients_and_the_mean_as_intercept():
    y = np.arange(12.0).reshape(6, 2)
    coef, intercept = ridge_solve(np.zeros((6, 3)), y, 1e-3, relative=True)
    np.testing.assert_array_equal(coef, np.zeros((3, 2)))
    np.testing.assert_allclose(intercept, y.mean(0))
