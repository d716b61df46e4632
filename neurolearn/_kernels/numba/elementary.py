"""Elementary functions shared by the numba kernels, written so that loops over arrays vectorise.

``tanh`` makes no library call (libm's ``tanh`` cannot be vectorised by the llvmlite wheels);
``dot`` and ``sum_squares`` are reductions compiled with :data:`~neurolearn._kernels.FASTMATH_SUMS`
(reassociation only, so NaN and infinity still propagate).
"""

from __future__ import annotations

import math
from decimal import Decimal, localcontext

import numpy as np
from numba import njit

from neurolearn._kernels import FASTMATH, FASTMATH_SUMS

__all__ = ["tanh", "dot", "sum_squares", "exp_inplace"]

# tanh without library calls, so that loops over arrays of pre-activations vectorise:
# tanh|u| = -m / (m + 2) with m = expm1(-2|u|) = 2^k (1 + expm1(r)) - 1, where
# -2|u| = k ln2 + r, |r| <= ln2 / 2 (ln2 split in a high part exact in k * ln2_hi and a low part)
# and expm1(r) its Taylor polynomial to degree 13 (truncation below 1e-17 relative).
with localcontext() as _ctx:
    _ctx.prec = 40
    _LN2 = Decimal(2).ln()
    _LN2_HI = math.ldexp(round(math.ldexp(float(_LN2), 32)), -32)
    _LN2_LO = float(_LN2 - Decimal(_LN2_HI))
    _INV_LN2 = float(1 / _LN2)
_TANH_CLAMP = 20.0  # tanh(20) rounds to 1.0; keeps 2^k a normal number
_C = tuple(1.0 / math.factorial(n) for n in range(1, 14))


@njit(cache=True, fastmath=FASTMATH, error_model="numpy")
def tanh(u):
    """tanh(u) to within 3 ulp of libm's (checked against numpy over 1e-300 .. 1e2 and
    N(0, 9) arguments), NaN propagating, exactly +-1 for ``|u| >= 20``."""
    c = abs(u)
    if c > _TANH_CLAMP:
        c = _TANH_CLAMP
    v = -2.0 * c
    kf = math.floor(v * _INV_LN2 + 0.5)
    r = (v - kf * _LN2_HI) - kf * _LN2_LO
    q = _C[12]
    q = _C[11] + r * q
    q = _C[10] + r * q
    q = _C[9] + r * q
    q = _C[8] + r * q
    q = _C[7] + r * q
    q = _C[6] + r * q
    q = _C[5] + r * q
    q = _C[4] + r * q
    q = _C[3] + r * q
    q = _C[2] + r * q
    q = _C[1] + r * q
    q = _C[0] + r * q
    scale = np.int64((np.int64(kf) + 1023) << 52).view(np.float64)  # 2^k
    m = scale * (r * q) + (scale - 1.0)
    return math.copysign(-m / (m + 2.0), u)


@njit(cache=True, fastmath=FASTMATH_SUMS)
def dot(a, b):
    """``sum_i a[i] b[i]`` of two 1-D arrays (vectorised reduction)."""
    s = 0.0
    for i in range(a.shape[0]):
        s += a[i] * b[i]
    return s


@njit(cache=True, fastmath=FASTMATH_SUMS)
def sum_squares(w):
    """``sum w**2`` of a C-contiguous array (vectorised reduction)."""
    flat = w.ravel()
    s = 0.0
    for i in range(flat.shape[0]):
        s += flat[i] * flat[i]
    return s


@njit(cache=True, fastmath=FASTMATH)
def exp_inplace(x):
    """``x[i] = exp(x[i])`` with the scalar ``math.exp`` of the numba kernels (the torch
    spiking engine's trace decay, to match :mod:`neurolearn._kernels.numba.spiking` bit for
    bit on the CPU)."""
    for i in range(x.shape[0]):
        x[i] = math.exp(x[i])
