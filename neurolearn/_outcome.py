"""What a family's experiment hands back to :mod:`neurolearn.experiment`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["Outcome"]


@dataclass
class Outcome:
    """The numbers and picture of one run, before it becomes an ``xarray.Dataset``.

    Attributes
    ----------
    metrics : dict of str to float
        Scalar metrics, printed by the CLI and stored as 0-d variables.
    arrays : dict of str to xarray.DataArray
        Curves and other arrays (learning curves with a ``step``/``epoch``/``t`` dimension,
        memory-capacity curves with ``delay``, ...).
    figure : callable or None
        ``figure(dataset) -> matplotlib.figure.Figure``; called only when a figure is wanted.
    attrs : dict
        Extra scalar attributes (strings/numbers) to store in the result.
    """

    metrics: dict
    arrays: dict = field(default_factory=dict)
    figure: Callable | None = None
    attrs: dict = field(default_factory=dict)
