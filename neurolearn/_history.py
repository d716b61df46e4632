"""One training-history type for every family: curves along a record axis, plus summary values."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

__all__ = ["History"]


class History(Mapping):
    """Learning curves of a training run (the same type in every family).

    A read-only mapping of names to values: the record axis itself (``axis``, e.g. ``"epochs"``
    or ``"steps"``), curves (arrays recorded at each point of that axis) and summary values
    (scalars such as ``epochs_run``). Values are reachable as items (``history["test_error"]``)
    and as attributes (``history.test_error``); :meth:`to_dataset` gives an
    ``xarray.Dataset`` with the record axis as its dimension.

    Parameters
    ----------
    axis : str
        Name of the record-axis entry of ``values``.
    values : mapping of str to array or scalar
        Must contain ``axis`` (a 1-D array).
    dims : mapping of str to tuple of str, optional
        Dimension names of curves whose record axis is not the first one (e.g. an ensemble's
        ``("member", "epochs")``); other arrays get ``(axis, "<name>_dim1", ...)``.

    Examples
    --------
    >>> h = History("epochs", {"epochs": np.arange(3), "loss": np.array([1.0, 0.5, 0.25]),
    ...                        "epochs_run": 2})
    >>> h.loss[-1], h["epochs_run"]
    (np.float64(0.25), 2)
    >>> sorted(h.to_dataset().data_vars)
    ['epochs_run', 'loss']
    >>> import pickle; pickle.loads(pickle.dumps(h)) == h
    True
    """

    def __init__(self, axis: str, values: Mapping[str, Any], dims: Mapping | None = None):
        if axis not in values:
            raise ValueError(f"History: the record axis {axis!r} is missing from the values")
        self.__dict__["axis"] = axis
        self.__dict__["_values"] = dict(values)
        self.__dict__["_dims"] = dict(dims or {})

    # -- mapping and attribute access -------------------------------------------------------
    def __getitem__(self, key: str) -> Any:
        return self._values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __getattr__(self, name: str) -> Any:
        values = self.__dict__.get("_values")
        if values is None or name not in values:
            known = ", ".join(values or ())
            raise AttributeError(f"History has no entry {name!r}; it has {known}")
        return values[name]

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("History is read-only; build a new one with replace()")

    def replace(self, **values) -> History:
        """A copy with some entries replaced or added."""
        return History(self.axis, {**self._values, **values}, self._dims)

    def __repr__(self) -> str:
        n = len(np.atleast_1d(self._values[self.axis]))
        names = [k for k in self._values if k != self.axis]
        return f"History({self.axis}: {n} points; {', '.join(names)})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, History):
            return NotImplemented
        if other.axis != self.axis or self._values.keys() != other._values.keys():
            return False
        return all(
            np.array_equal(np.asarray(self[k]), np.asarray(other[k]), equal_nan=_floaty(self[k]))
            for k in self._values
        )

    __hash__ = None  # type: ignore[assignment]

    # -- conversion -------------------------------------------------------------------------
    def to_dataset(self):
        """An ``xarray.Dataset``: curves along the record axis, summary values as scalars."""
        import xarray as xr

        coord = np.asarray(self._values[self.axis])
        data = {}
        for name, value in self._values.items():
            if name == self.axis:
                continue
            arr = np.asarray(value)
            if name in self._dims:
                data[name] = (tuple(self._dims[name]), arr)
            elif arr.ndim == 0:
                data[name] = ((), arr)
            elif arr.shape[0] == coord.shape[0]:
                extra = tuple(f"{name}_dim{i}" for i in range(1, arr.ndim))
                data[name] = ((self.axis, *extra), arr)
            else:
                data[name] = (tuple(f"{name}_dim{i}" for i in range(arr.ndim)), arr)
        return xr.Dataset(data, coords={self.axis: coord})


def _floaty(value) -> bool:
    return np.asarray(value).dtype.kind in "fc"
