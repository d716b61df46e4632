"""The call-free tanh and the vectorised sums of the teacher kernels against numpy."""

from __future__ import annotations

import numpy as np
from numba import njit

from neurolearn._kernels.numba.elementary import dot as _dot
from neurolearn._kernels.numba.elementary import sum_squares as _sum_squares
from neurolearn._kernels.numba.elementary import tanh as _tanh
from neurolearn._kernels.numba.teacher import _activate_rows


@njit(cache=True)
def _tanh_array(values, out):
    for i in range(values.shape[0]):
        out[i] = _tanh(values[i])


def test_tanh_within_a_few_ulp_of_numpy_over_the_whole_range():
    rng = np.random.default_rng(0)
    wide = 10.0 ** rng.uniform(-300, 2, 50_000) * rng.choice([-1.0, 1.0], 50_000)
    values = np.concatenate([3.0 * rng.standard_normal(50_000), wide])
    out = np.empty_like(values)
    _tanh_array(values, out)
    expected = np.tanh(values)
    ulps = np.abs(out - expected) / np.spacing(np.abs(expected))
    assert ulps.max() <= 4


def test_tanh_special_values():
    values = np.array([0.0, -0.0, 19.0, 20.0, 1e308, np.inf, -np.inf, np.nan, -5e-324])
    out = np.empty_like(values)
    _tanh_array(values, out)
    np.testing.assert_array_equal(out[:7], np.tanh(values[:7]))
    assert np.signbit(out[1]) and np.isnan(out[7])
    assert out[8] == -5e-324


def test_activate_rows_matches_numpy_and_leaves_other_rows():
    rng = np.random.default_rng(1)
    pre = rng.normal(0, 2, (6, 5))
    out = np.full((6, 5), 7.0)
    _activate_rows(pre, out, 4, 1)
    np.testing.assert_allclose(out[:4], np.tanh(pre[:4]), rtol=1e-15, atol=0)
    assert (out[4:] == 7.0).all()
    _activate_rows(pre, out, 6, 2)
    np.testing.assert_array_equal(out, np.maximum(pre, 0.0))


def test_vectorised_sums_match_numpy_and_propagate_nan():
    rng = np.random.default_rng(2)
    a, b = rng.standard_normal(101), rng.standard_normal(101)
    assert np.isclose(_dot(a, b), a @ b, rtol=1e-13)
    w = rng.standard_normal((10, 13))
    assert np.isclose(_sum_squares(w), (w**2).sum(), rtol=1e-14)
    a[50] = np.nan
    w[3, 4] = np.inf
    assert np.isnan(_dot(a, b)) and np.isinf(_sum_squares(w))
