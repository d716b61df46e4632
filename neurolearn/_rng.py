"""Seed handling: one conversion point, child streams spawned per component."""

from __future__ import annotations

import numbers

import numpy as np

from neurolearn.errors import ParameterTypeError

__all__ = ["as_generator", "spawn"]


def as_generator(seed, owner: str = "neurolearn") -> np.random.Generator:
    """Convert ``seed`` (int, ``SeedSequence``, ``Generator`` or None) into a ``Generator``.

    A ``Generator`` is returned as is (the caller shares its stream).

    Examples
    --------
    >>> float(as_generator(0).random()) == float(np.random.default_rng(0).random())
    True
    """
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None or isinstance(seed, np.random.SeedSequence):
        return np.random.default_rng(seed)
    if isinstance(seed, numbers.Integral) and not isinstance(seed, bool) and seed >= 0:
        return np.random.default_rng(int(seed))
    raise ParameterTypeError(
        f"The 'seed' parameter of {owner} must be a non-negative int, a numpy.random.Generator, "
        f"a numpy.random.SeedSequence or None. Got {seed!r} instead."
    )


def spawn(seed, n: int, owner: str = "neurolearn") -> list[np.random.Generator]:
    """``n`` independent child generators of ``seed`` (one per component)."""
    return as_generator(seed, owner).spawn(n)
