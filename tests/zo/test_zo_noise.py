"""The counter-based ziggurat stream of node perturbation: normal, reproducible, and the same
numbers however the index range is split (so across any number of threads)."""

from __future__ import annotations

import numba
import numpy as np
import pytest
from numba import njit, prange
from scipy import stats

from neurolearn._kernels.numba import zo as K

try:
    import reference_zo as ref
except ImportError:  # tests/ not on sys.path (no conftest)
    from tests import reference_zo as ref


def test_ziggurat_edges_close_the_top_layer():
    # the published constant of the 128-layer normal ziggurat (Marsaglia & Tsang 2000)
    assert K._ZIG_R == pytest.approx(3.442619855899, abs=1e-9)
    widths = np.diff(K._ZIG_F)[1:] * K._ZIG_X[1:-1]
    area = K._ZIG_R * K._ZIG_F[1] + np.sqrt(np.pi / 2) * stats.norm.sf(K._ZIG_R) * 2
    np.testing.assert_allclose(widths, area, rtol=1e-9)


def test_ziggurat_stream_is_standard_normal():
    z = np.empty(400_000)
    K.fill_ziggurat(np.uint64(2024), 0, z)
    assert abs(z.mean()) < 5 * 1 / np.sqrt(z.size)
    assert z.var() == pytest.approx(1.0, abs=0.01)
    assert stats.kstest(z, "norm").pvalue > 1e-3
    # the tail beyond r (layer 0's second branch) has the normal mass
    beyond = np.mean(np.abs(z) > K._ZIG_R)
    assert beyond == pytest.approx(2 * stats.norm.sf(K._ZIG_R), rel=0.15)
    assert stats.skew(z) == pytest.approx(0.0, abs=0.02)


def test_ziggurat_matches_the_numpy_reference():
    key = np.uint64(K.noise_key(np.uint64(7), 3, 1))
    z = np.empty(300)
    K.fill_ziggurat(key, 0, z)
    np.testing.assert_array_equal(z, ref.ziggurat(int(key), 300))


@njit(parallel=True, cache=False)
def _fill_in_chunks(key, out, n_chunks):
    size = (out.shape[0] + n_chunks - 1) // n_chunks
    for c in prange(n_chunks):
        start = c * size
        stop = min(start + size, out.shape[0])
        if start < stop:
            K.fill_ziggurat(key, start, out[start:stop])


def test_same_numbers_for_any_split_and_thread_count():
    key = np.uint64(K.noise_key(np.uint64(11), 5, 0))
    whole = np.empty(5000)
    K.fill_ziggurat(key, 0, whole)
    again = np.empty(5000)
    K.fill_ziggurat(key, 0, again)
    assert np.array_equal(whole, again)
    before = numba.get_num_threads()
    try:
        for threads in sorted({1, numba.config.NUMBA_NUM_THREADS}):
            numba.set_num_threads(threads)
            for chunks in (1, 3, 64):
                out = np.empty(5000)
                _fill_in_chunks(key, out, chunks)
                assert np.array_equal(out, whole)
    finally:
        numba.set_num_threads(before)
    other = np.empty(5000)
    K.fill_ziggurat(np.uint64(K.noise_key(np.uint64(11), 5, 1)), 0, other)
    assert not np.array_equal(other, whole)
