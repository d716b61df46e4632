"""Helpers shared by the plotting modules: the axes to draw on and input checks."""

from __future__ import annotations

import numpy as np

from neurolearn.errors import ParameterError


def _axes(ax):
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(figsize=(4.8, 3.6), layout="constrained")
    return ax


def _vector(name: str, func: str, value) -> np.ndarray:
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim != 1:
        raise ParameterError(
            f"The '{name}' parameter of {func} must be 1-d. Got shape {arr.shape} instead."
        )
    return arr


def _same_length(func: str, **arrays) -> None:
    lengths = {name: len(a) for name, a in arrays.items()}
    if len(set(lengths.values())) > 1:
        shown = ", ".join(f"{k} has {v}" for k, v in lengths.items())
        raise ParameterError(f"{func}: the inputs must have the same length; {shown}.")


def _half_step(v: np.ndarray) -> float:
    return float(np.min(np.diff(np.sort(v)))) / 2 if v.size > 1 else 0.5


def _is_num(v) -> bool:
    return isinstance(v, int | float | np.integer | np.floating)
