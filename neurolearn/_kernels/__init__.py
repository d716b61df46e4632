"""Compiled kernels (numba, torch) of every family, and the compilation flags they share.

The kernels take plain arrays, scalars and named tuples of them; they import nothing from the
families above them, and every jitted kernel takes its ``fastmath`` setting from this module.
"""

from __future__ import annotations

__all__ = ["FASTMATH", "FASTMATH_FMA", "FASTMATH_SUMS"]

#: fastmath setting of every jitted kernel: off, so kernels keep IEEE semantics, match their
#: numpy references to rounding, and let NaN propagate for divergence detection.
FASTMATH = False

#: fastmath flags of the small reduction helpers (dot products, sums of squares) that kernels
#: call in their inner loops: reassociation and fused multiply-add only, so the sums vectorise
#: while NaN and infinity still propagate. Results differ from a left-to-right sum by rounding.
FASTMATH_SUMS = {"reassoc", "contract"}

#: fastmath flags of the elementary functions' polynomials: fused multiply-add only (one rounding
#: per multiply-add instead of two); NaN and infinity still propagate.
FASTMATH_FMA = {"contract"}
