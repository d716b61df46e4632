"""Elementary functions shared by the numba kernels, written so that loops over arrays vectorise.

``tanh`` and ``sigmoid`` make no library call (libm's ``tanh`` and ``exp`` cannot be vectorised
by the llvmlite wheels): both evaluate ``expm1`` of a non-positive argument from a Cody-Waite
reduction by ln 2, a degree-13 polynomial in Estrin's scheme (independent products, so a
vectorised loop is not one long chain of dependent multiply-adds) and a scaling by ``2**k``
through the exponent bits. They are compiled without Python's division check
(``error_model="numpy"``: that check's branch alone kept every loop over them scalar) and with
fused multiply-add (:data:`~neurolearn._kernels.FASTMATH_FMA`); a loop that calls them
vectorises when it is compiled with ``error_model="numpy"`` as well.

``dot`` and ``sum_squares`` are reductions compiled with :data:`~neurolearn._kernels.FASTMATH_SUMS`
(reassociation only, so NaN and infinity still propagate).
"""

from __future__ import annotations

import math
from decimal import Decimal, localcontext

from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic

from neurolearn._kernels import FASTMATH, FASTMATH_FMA, FASTMATH_SUMS

__all__ = ["tanh", "sigmoid", "dot", "sum_squares", "exp_inplace"]

with localcontext() as _ctx:
    _ctx.prec = 40
    _LN2 = Decimal(2).ln()
    # ln 2 split in a high part (32 significant bits: k * _LN2_HI is exact for |k| < 2**21)
    # and the rest
    _LN2_HI = math.ldexp(round(math.ldexp(float(_LN2), 32)), -32)
    _LN2_LO = float(_LN2 - Decimal(_LN2_HI))
    _INV_LN2 = float(1 / _LN2)
# adding 1.5 * 2**52 rounds a double of magnitude < 2**51 to the nearest integer k, which is then
# held in the low bits of the sum (whose bit pattern is _ROUND_BITS + k)
_ROUND = 6755399441055744.0
_ROUND_BITS = 4843621399236968448
_TANH_CLAMP = 20.0  # tanh(20) rounds to 1.0
_EXP_CLAMP = 700.0  # exp(-700) is still a normal double
# 1/j! for j = 2 .. 13: expm1(r) = r (1 + r/2! + ... + r^12/13!), truncation below 1e-17 relative
# for |r| <= ln2 / 2
_C = tuple(1.0 / math.factorial(j) for j in range(2, 14))


@intrinsic
def _bits(typingctx, x):
    """The IEEE bit pattern of a float64 as an int64 (no conversion)."""
    if x != types.float64:
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(64))

    return types.int64(types.float64), codegen


@intrinsic
def _from_bits(typingctx, k):
    """The float64 whose IEEE bit pattern is the int64 ``k``."""
    if k != types.int64:
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.DoubleType())

    return types.float64(types.int64), codegen


@njit(cache=True, fastmath=FASTMATH_FMA, error_model="numpy")
def _expm1_parts(y):
    """``(scale, q)`` with ``expm1(y) = scale * q + (scale - 1)`` and ``exp(y) = scale * (q + 1)``,
    for ``-710 < y <= 0`` (``scale = 2**k`` a normal double, ``q = expm1(r)``)."""
    x = y * _INV_LN2 + _ROUND
    k = x - _ROUND
    r = (y - k * _LN2_HI) - k * _LN2_LO
    r2 = r * r
    r4 = r2 * r2
    a0 = 1.0 + _C[0] * r
    a1 = _C[1] + _C[2] * r
    a2 = _C[3] + _C[4] * r
    a3 = _C[5] + _C[6] * r
    a4 = _C[7] + _C[8] * r
    a5 = _C[9] + _C[10] * r
    b0 = a0 + a1 * r2
    b1 = a2 + a3 * r2
    b2 = a4 + a5 * r2
    p = (b0 + b1 * r4) + (b2 + _C[11] * r4) * (r4 * r4)
    scale = _from_bits((_bits(x) - _ROUND_BITS + 1023) << 52)
    return scale, r * p


@njit(cache=True, fastmath=FASTMATH_FMA, error_model="numpy")
def tanh(u):
    """tanh(u) to within 4 ulp of libm's (checked against numpy over 1e-300 .. 1e2 and
    N(0, 9) arguments), NaN propagating, exactly +-1 for ``|u| >= 20``."""
    c = abs(u)
    if c > _TANH_CLAMP:
        c = _TANH_CLAMP
    scale, q = _expm1_parts(-2.0 * c)
    m = scale * q + (scale - 1.0)
    return math.copysign(-m / (m + 2.0), u)


@njit(cache=True, fastmath=FASTMATH_FMA, error_model="numpy")
def sigmoid(z):
    """The logistic function ``1 / (1 + exp(-z))`` without overflow for either sign, NaN
    propagating, within a few ulp of ``scipy.special.expit``."""
    a = abs(z)
    if a > _EXP_CLAMP:
        a = _EXP_CLAMP
    scale, q = _expm1_parts(-a)
    e = scale * (q + 1.0)  # exp(-|z|)
    s = 1.0 / (1.0 + e)
    return s if z >= 0.0 else e * s


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
