"""Re-running a result file or one point of a scan store, and comparing the two results.

A result file (``result.nc``) holds its resolved spec and seed; a scan store holds the scan's
resolved base spec, its grid and root seed, from which one point's spec (base + the point's grid
values) and seed (``SeedSequence(root, spawn_key=(flat,))``, as the scan drew it) follow.
:func:`reproduce` runs it again and names the first difference, if any.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from neurolearn.errors import ParameterError, ParameterTypeError

__all__ = ["Difference", "Reproduction", "first_difference", "reproduce", "load_source"]


@dataclass(frozen=True)
class Difference:
    """The first place where a rerun differs from the stored result.

    ``where`` is ``"variable"``, ``"coordinate"``, ``"variable attribute"`` or ``"attribute"``;
    ``index`` maps each dimension to its position (empty for a scalar; None when the difference
    is not one of values, e.g. a missing variable, its shape or its dtype); ``labels`` gives the
    coordinate values there, for the dimensions that have coordinates.
    """

    where: str
    name: str
    index: dict | None
    stored: Any
    rerun: Any
    reason: str = "values"
    labels: dict | None = None

    def __str__(self) -> str:
        if self.reason != "values":
            return f"{self.where} {self.name!r}: {self.reason}"
        at = ""
        if self.index:
            at = " at index [" + ", ".join(f"{d}={i}" for d, i in self.index.items()) + "]"
        if self.labels:
            at += " (" + ", ".join(f"{d}={_plain(v)!r}" for d, v in self.labels.items()) + ")"
        return (
            f"{self.where} {self.name!r}{at}: stored {_show(self.stored)}, "
            f"rerun {_show(self.rerun)}"
        )


@dataclass(frozen=True)
class Reproduction:
    """What :func:`reproduce` found: ``identical`` when ``difference`` is None."""

    identical: bool
    difference: Difference | None
    stored: Any
    rerun: Any
    label: str
    compared: int


def _show(value) -> str:
    if isinstance(value, float | np.floating):
        return repr(float(value))
    if isinstance(value, np.generic):
        return repr(value.item())
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _first_unequal(a: np.ndarray, b: np.ndarray) -> int | None:
    """Flat index of the first element that differs (NaN equals NaN), or None."""
    if a.dtype.kind in "fc" and b.dtype.kind in "fc":
        same = (a == b) | (np.isnan(a) & np.isnan(b))
    else:
        same = a == b
    same = np.asarray(same, dtype=bool)
    bad = np.flatnonzero(~same.ravel())
    return int(bad[0]) if bad.size else None


def _compare_arrays(where, name, dims, a, b, coords=None) -> Difference | None:
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape:
        return Difference(where, name, None, a.shape, b.shape, f"shape {a.shape} vs {b.shape}")
    if a.dtype != b.dtype and not (a.dtype.kind in "US" and b.dtype.kind in "US"):
        return Difference(where, name, None, a.dtype, b.dtype, f"dtype {a.dtype} vs {b.dtype}")
    flat = _first_unequal(a, b)
    if flat is None:
        return None
    pos = np.unravel_index(flat, a.shape) if a.ndim else ()
    index = {d: int(i) for d, i in zip(dims, pos, strict=True)}
    labels = {d: np.asarray(coords[d])[index[d]] for d in dims if coords and d in coords}
    return Difference(where, name, index, a[pos], b[pos], labels=labels or None)


def _same_value(x, y) -> bool:
    if isinstance(x, np.ndarray | list | tuple) or isinstance(y, np.ndarray | list | tuple):
        x, y = np.asarray(x), np.asarray(y)
        return x.shape == y.shape and _first_unequal(x, y) is None
    if isinstance(x, float) and isinstance(y, float) and math.isnan(x) and math.isnan(y):
        return True
    return bool(x == y)


def _compare_attrs(where, name, a: dict, b: dict, ignore=()) -> Difference | None:
    for key in [*a, *(k for k in b if k not in a)]:
        if key in ignore:
            continue
        label = key if name is None else f"{name}.{key}"
        if key not in b:
            return Difference(where, label, None, a[key], None, "missing from the rerun")
        if key not in a:
            return Difference(where, label, None, None, b[key], "not in the stored result")
        if not _same_value(a[key], b[key]):
            return Difference(where, label, None, a[key], b[key])
    return None


def first_difference(stored, rerun, *, ignore_attrs=None) -> Difference | None:
    """The first difference between two result Datasets, or None when they are identical.

    Compared in this order: every data variable (presence, dimensions, shape, dtype, values
    with NaN equal to NaN, then its attributes), every coordinate, then the Dataset's attributes
    except ``ignore_attrs`` (default: :data:`neurolearn.experiment.VARYING_ATTRS`, the timings).

    Examples
    --------
    >>> import xarray as xr
    >>> a = xr.Dataset({"loss": ("step", [1.0, 0.5, 0.25])}, attrs={"wall_s": 1.0})
    >>> b = a.copy(deep=True)
    >>> b["loss"][2] = 0.3
    >>> b.attrs["wall_s"] = 2.0
    >>> print(first_difference(a, b))
    variable 'loss' at index [step=2]: stored 0.25, rerun 0.3
    >>> first_difference(a, a) is None
    True
    """
    if ignore_attrs is None:
        from neurolearn.experiment import VARYING_ATTRS

        ignore_attrs = VARYING_ATTRS
    for group, a_vars, b_vars in (
        ("variable", stored.data_vars, rerun.data_vars),
        ("coordinate", stored.coords, rerun.coords),
    ):
        for name in [*a_vars, *(n for n in b_vars if n not in a_vars)]:
            if name not in b_vars:
                return Difference(group, name, None, None, None, "missing from the rerun")
            if name not in a_vars:
                return Difference(group, name, None, None, None, "not in the stored result")
            a, b = a_vars[name], b_vars[name]
            if a.dims != b.dims:
                return Difference(
                    group, name, None, a.dims, b.dims, f"dimensions {a.dims} vs {b.dims}"
                )
            coords = {d: a[d].values for d in a.dims if d in a.coords and d != name}
            diff = _compare_arrays(group, name, a.dims, a.values, b.values, coords)
            diff = diff or _compare_attrs(f"{group} attribute", name, a.attrs, b.attrs)
            if diff is not None:
                return diff
    return _compare_attrs("attribute", None, stored.attrs, rerun.attrs, ignore_attrs)


# ---------------------------------------------------------------- what to run again
@dataclass
class Source:
    """A result to run again: its specs, seed, where it ran, and the stored numbers."""

    model: Any
    task: Any
    seed: Any
    backend: str | None
    device: str | None
    stored: Any
    label: str
    store_point: bool

    def run(self, *, out=None, backend=None, device=None):
        """Run the stored specs again with the stored seed (on the stored backend and device
        unless others are given)."""
        from neurolearn.experiment import run_specs

        return run_specs(
            self.model,
            self.task,
            seed=self.seed,
            backend=backend or self.backend,
            device=device or self.device,
            out=out,
        )


def _open_netcdf(path: Path):
    import xarray as xr

    try:
        with xr.open_dataset(path, engine="h5netcdf") as ds:
            return ds.load()
    except Exception as exc:
        raise ParameterError(
            f"{path}: not a result file (a netCDF result.nc written by neurolearn run): "
            f"{type(exc).__name__}: {' '.join(str(exc).split())[:120]}"
        ) from None


def _parse_point(point, identity: dict, coords: dict) -> int:
    """A flat index (int or digits) or ``key=value,...,seed=k`` -> the point's flat index."""
    keys = [*identity["grid_keys"], "seed"]
    shape = tuple(len(coords[k]) for k in keys)
    total = int(np.prod(shape))
    if isinstance(point, bool) or not isinstance(point, int | np.integer | str):
        raise ParameterTypeError(
            "The 'point' parameter of rerun must be an int or 'key=value,...,seed=k'. "
            f"Got {type(point).__name__} instead."
        )
    text = str(point).strip()
    if isinstance(point, int | np.integer) or text.lstrip("-").isdigit():
        flat = int(text)
        if not 0 <= flat < total:
            raise ParameterError(
                f"The 'point' parameter of rerun must be a flat index in [0, {total}) for this "
                f"store ({' x '.join(f'{len(coords[k])} {k}' for k in keys)}). Got {flat} instead."
            )
        return flat
    given = {}
    for part in text.split(","):
        key, sep, value = part.partition("=")
        if not sep or not key.strip():
            raise ParameterError(
                f"The 'point' parameter of rerun: expected an index or KEY=VALUE,...,seed=K. "
                f"Got {text!r} instead."
            )
        try:
            given[key.strip()] = tomllib.loads(f"v = {value.strip()}")["v"]
        except tomllib.TOMLDecodeError:
            given[key.strip()] = value.strip()
    if set(given) != set(keys):
        raise ParameterError(
            f"The 'point' parameter of rerun must give every key of this store: "
            f"{', '.join(keys)}. Got {', '.join(given) or 'none'} instead."
        )
    position = []
    for key in keys:
        values = list(coords[key])
        want = given[key]
        hits = [i for i, v in enumerate(values) if _coord_matches(v, want)]
        if len(hits) != 1:
            shown = ", ".join(str(v) for v in values[:10])
            raise ParameterError(
                f"The 'point' parameter of rerun: {key}={want!r} is not a value of this store "
                f"({key} takes {shown}{', ...' if len(values) > 10 else ''})."
            )
        position.append(hits[0])
    return int(np.ravel_multi_index(position, shape))


def _coord_matches(value, want) -> bool:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool) or isinstance(want, bool):
        return value is want or value == want and type(value) is type(want)
    if isinstance(value, int | float) and isinstance(want, int | float):
        return math.isclose(value, want, rel_tol=1e-9, abs_tol=0.0)
    return str(value) == str(want)


def _plain(value):
    """A coordinate value as the plain Python scalar the grid gave (str for text)."""
    if isinstance(value, np.str_ | np.bytes_):
        return str(value)
    return value.item() if isinstance(value, np.generic) else value


def _store_source(path: Path, point) -> Source:
    from neurolearn import specs
    from neurolearn._scan.store import POINT_VARS, read_identity
    from neurolearn.scan import open_scan

    identity = read_identity(path)
    if identity is None:
        raise ParameterError(f"{path}: a folder that is not a scan store (no scan identity).")
    if point is None:
        raise ParameterError(
            f"{path} is a scan store: give the point to run again with --point i (a flat index) "
            "or --point KEY=VALUE,...,seed=K."
        )
    ds = open_scan(path)
    keys = [*identity["grid_keys"], "seed"]
    coords = {k: ds[k].values for k in keys}
    flat = _parse_point(point, identity, coords)
    position = np.unravel_index(flat, tuple(len(coords[k]) for k in keys))
    at = dict(zip(keys, (int(i) for i in position), strict=True))
    stored = ds.isel(at)
    chosen = {k: _plain(coords[k][at[k]]) for k in keys}
    label = f"point {flat} ({', '.join(f'{k}={v!r}' for k, v in chosen.items())})"
    status = str(stored["status"].values)
    if status == "":
        raise ParameterError(
            f"{path}: {label} has not been computed (run the scan with --resume to finish it)."
        )
    grid_overrides = [(k, chosen[k]) for k in identity["grid_keys"]]
    model, task, _ = specs.load_resolved(ds.attrs["spec"], grid_overrides)
    seed = np.random.SeedSequence(int(identity["seed"]), spawn_key=(flat,))
    stored = stored.drop_vars([k for k in keys if k in stored.coords])
    stored.attrs = {"status": status, "message": str(stored["message"].values)}
    stored = stored[[n for n in stored.data_vars if n not in POINT_VARS]]
    return Source(
        model, task, seed, ds.attrs.get("backend"), ds.attrs.get("device"), stored, label, True
    )


def load_source(result, point=None) -> Source:
    """What to run again for a result file, a result Dataset, or one point of a scan store."""
    import xarray as xr

    from neurolearn import specs

    if isinstance(result, xr.Dataset):
        ds, path = result, None
    else:
        import os

        if not isinstance(result, str | os.PathLike):
            raise ParameterTypeError(
                "The 'result' parameter of rerun must be a path or an xarray.Dataset. "
                f"Got {type(result).__name__} instead."
            )
        path = Path(result)
        if not path.exists():
            raise ParameterError(f"{path}: no such file or folder.")
        if path.is_dir():
            return _store_source(path, point)
        ds = _open_netcdf(path)
    where = path or "the result"
    if point is not None:
        raise ParameterError(
            f"{where} is a result file; --point applies only to a scan store (STORE.zarr)."
        )
    if "spec" not in ds.attrs:
        raise ParameterError(
            f"{where}: not a neurolearn result (no 'spec' attribute holding the resolved spec)."
        )
    model, task, seed = specs.load_resolved(ds.attrs["spec"])
    if seed is None:
        raise ParameterError(
            f"{where}: the run had no integer seed (it was drawn from a SeedSequence), so it "
            "cannot be run again from the file."
        )
    label = f"{ds.attrs.get('model', model.name)} on {ds.attrs.get('task', task.name)} "
    label += f"(seed {seed})"
    return Source(
        model, task, seed, ds.attrs.get("backend"), ds.attrs.get("device"), ds, label, False
    )


def _as_stored(new, stored):
    """The rerun as a scan store holds a point: float64 values, curves NaN-padded to the
    store's lengths, the metrics a point did not produce all-NaN."""
    import xarray as xr

    out = {}
    for name in stored.data_vars:
        ref = stored[name]
        if name not in new.data_vars:
            out[name] = ref.copy(data=np.full(ref.shape, np.nan))
            continue
        values = np.asarray(new[name].values, dtype=np.float64)
        if new[name].dims != ref.dims or any(
            s > r for s, r in zip(values.shape, ref.shape, strict=True)
        ):
            out[name] = new[name].astype(np.float64)
            continue
        block = np.full(ref.shape, np.nan)
        block[tuple(slice(0, s) for s in values.shape)] = values
        out[name] = ref.copy(data=block)
    for name in new.data_vars:
        if name not in out:
            out[name] = new[name].astype(np.float64)
    ds = xr.Dataset(out)
    ds.attrs = {"status": new.attrs["status"], "message": new.attrs["message"]}
    return ds


def _coordinate_difference(stored, new) -> Difference | None:
    """A store keeps one coordinate per curve dimension (the longest curve's): the rerun's
    coordinates must be its beginning."""
    for name in new.coords:
        if name not in stored.coords:
            continue
        ref, values = np.asarray(stored[name].values), np.asarray(new[name].values)
        if values.shape[0] > ref.shape[0]:
            return Difference("coordinate", name, None, ref.shape, values.shape, "longer")
        diff = _compare_arrays("coordinate", name, (name,), ref[: values.shape[0]], values)
        if diff is not None and diff.reason == "values":
            return diff
    return None


def reproduce(result, *, point=None, out=None, backend=None, device=None) -> Reproduction:
    """Run a result (file, Dataset or scan-store point) again and compare; see
    :func:`neurolearn.experiment.reproduce`."""
    source = load_source(result, point)
    new = source.run(out=out, backend=backend, device=device)
    if source.store_point:
        diff = _coordinate_difference(source.stored, new)
        if diff is None:
            diff = first_difference(source.stored, _as_stored(new, source.stored), ignore_attrs=())
    else:
        diff = first_difference(source.stored, new)
    return Reproduction(
        identical=diff is None,
        difference=diff,
        stored=source.stored,
        rerun=new,
        label=source.label,
        compared=len(source.stored.data_vars),
    )
