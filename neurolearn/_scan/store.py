"""The Zarr store of a scan: one chunk per point, written only by the scan's client process.

Layout (Zarr format 3, read by ``xarray.open_zarr``):

* one coordinate array per grid key and ``seed``;
* per point, in chunks of exactly one point: every scalar metric (float64, NaN until written),
  every curve (grid dims + its own dims, e.g. ``step``), ``wall_s``, ``worker``, ``message`` and
  last ``status`` (``""`` until the point is done, then ``ok``, ``diverged`` or ``failed``);
* attributes: ``spec`` (the resolved base spec as TOML), ``scan`` (the scan's identity: base
  spec, grid, seeds, root seed, backend), how seeds are derived, and while a scan runs
  ``writer`` (``host:pid``), so that a second scan on the same store is refused.

Why this is safe under concurrent completion and SIGKILL: only the client writes; a point touches
only its own chunk files; each file is written to a temporary name and renamed into place (Zarr's
local store does this), so a file is either the old or the new version; ``status`` is written
after every other variable of the point, so a point counts as done only when all of its data are
on disk. A kill between two writes of a point leaves its status empty: the point is recomputed.
"""

from __future__ import annotations

import json
import os
import shutil
import warnings
from pathlib import Path

import numpy as np

from neurolearn.errors import ParameterError, SpecError

__all__ = ["ScanStore", "as_text", "DONE_STATUSES", "POINT_VARS", "read_identity"]

#: statuses of a point that is not computed again on resume
DONE_STATUSES = ("ok", "diverged")
#: per-point bookkeeping variables (every other data variable is a result)
POINT_VARS = ("status", "message", "wall_s", "worker")


def as_text(values) -> np.ndarray:
    """A string array (Zarr's variable-length strings) as a plain fixed-width ``str`` array."""
    return np.asarray(values).astype(object).astype(str)


def _consolidate(path: Path) -> None:
    import zarr

    with warnings.catch_warnings():
        # consolidated metadata is what makes a plain xarray.open_zarr fast and quiet
        warnings.simplefilter("ignore")
        zarr.consolidate_metadata(str(path))


def read_identity(path: Path) -> dict | None:
    """The ``scan`` identity stored at ``path``, or None when ``path`` is not a scan store."""
    import zarr

    try:
        group = zarr.open_group(str(path), mode="r", use_consolidated=False)
    except Exception:
        return None
    ident = group.attrs.get("scan")
    return dict(ident) if isinstance(ident, dict) else None


def _flat_toml(text: str) -> dict:
    import tomllib

    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return {"spec": text}
    flat = {}
    for key, value in raw.items():
        if isinstance(value, dict):
            flat.update({f"{key}.{k}": v for k, v in value.items()})
        else:
            flat[key] = value
    return flat


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def describe_difference(stored: dict, wanted: dict) -> str:
    """One sentence naming the first part of the scan identity that differs."""
    for field in ("model", "task", "backend", "seed", "seeds", "grid_keys"):
        if stored.get(field) != wanted.get(field):
            return f"{field} differs (store: {stored.get(field)!r}, now: {wanted.get(field)!r})"
    for key in wanted.get("grid_keys", []):
        a, b = stored["grid"].get(key), wanted["grid"].get(key)
        if a != b:
            return f"the values of grid key {key!r} differ (store: {a!r}, now: {b!r})"
    if stored.get("spec") != wanted.get("spec"):
        old, new = _flat_toml(stored.get("spec", "")), _flat_toml(wanted.get("spec", ""))
        changed = [
            f"{k}: store {old.get(k, '(absent)')!r}, now {new.get(k, '(absent)')!r}"
            for k in sorted(set(old) | set(new))
            if old.get(k) != new.get(k)
        ]
        return "the resolved spec differs" + (f" ({'; '.join(changed[:3])})" if changed else "")
    return "the scan identity differs"


def _write_all(writes, then) -> None:
    """Write several chunks concurrently, then ``then`` once they are all on disk.

    One round trip to Zarr's event loop per point; each file still goes in atomically.
    """
    from zarr.core.sync import sync

    async def ordered():
        import asyncio

        await asyncio.gather(*(arr.async_array.setitem(sel, value) for arr, sel, value in writes))
        arr, sel, value = then
        await arr.async_array.setitem(sel, value)

    sync(ordered())


class ScanStore:
    """Create or reopen a scan store and write points into it (client side only)."""

    def __init__(self, path, identity: dict, coords: dict, dims: list[str], attrs: dict):
        self.path = Path(path)
        self.identity = identity
        self.coords = coords
        self.dims = dims
        self.attrs = attrs
        self.group = None
        self.arrays: dict = {}
        self.curve_dims: dict[str, int] = {}
        self.curve_coords: dict[str, np.ndarray] = {}

    # ------------------------------------------------------------------ opening
    def check(self, resume: bool) -> bool:
        """Check the target before anything is written; True when an existing store is resumed."""
        if not self.path.exists():
            return False
        stored = read_identity(self.path)
        if stored is None:
            raise ParameterError(
                f"The 'out' parameter of scan: {str(self.path)!r} exists and is not a scan "
                "store. Choose another path."
            )
        if not resume:
            raise ParameterError(
                f"The 'out' parameter of scan: the store {str(self.path)!r} already exists. "
                "Pass resume=True (--resume) to finish it, or choose another path."
            )
        self._lock(claim=False)
        if stored != self.identity:
            raise SpecError(
                f"cannot resume {str(self.path)!r}: it was written by a different scan; "
                f"{describe_difference(stored, self.identity)}. Resume with the original "
                "model, task, --set, --grid, --seeds and --seed, or choose another --out."
            )
        return True

    def _lock(self, claim: bool = True) -> None:
        """Claim the store for this process (its ``writer`` attribute): a second live writer
        would only redo the same points. A writer that is gone (a killed scan) is taken over."""
        import socket

        import zarr

        host = socket.gethostname()
        group = zarr.open_group(str(self.path), mode="r", use_consolidated=False)
        writer = str(group.attrs.get("writer", ""))
        if writer:
            other_host, _, other_pid = writer.rpartition(":")
            other_pid = int(other_pid) if other_pid.isdigit() else -1
            if other_host != host:
                raise ParameterError(
                    f"The store {str(self.path)!r} is being written by a scan on {other_host} "
                    f"(process {other_pid}). If that scan is no longer running, resume from "
                    "that machine, or remove the store's 'writer' attribute."
                )
            if other_pid != os.getpid() and _alive(other_pid):
                raise ParameterError(
                    f"The store {str(self.path)!r} is being written by another scan "
                    f"(process {other_pid}). Wait for it to end, or stop it and resume."
                )
        if claim:
            self.group.attrs["writer"] = f"{host}:{os.getpid()}"

    def open(self, resume: bool) -> None:
        import zarr

        if resume:
            for stray in self.path.rglob("*.partial"):
                stray.unlink(missing_ok=True)  # temporary files of a write cut by a kill
            self.group = zarr.open_group(str(self.path), mode="r+", use_consolidated=False)
            self._lock()
            for name, arr in self.group.arrays():
                self.arrays[name] = arr
                for dim, size in zip(arr.metadata.dimension_names, arr.shape, strict=True):
                    if dim not in self.dims:
                        self.curve_dims[dim] = max(self.curve_dims.get(dim, 0), size)
            for dim in self.curve_dims:
                self.curve_coords[dim] = np.asarray(self.arrays[dim][...])
            _consolidate(self.path)
            return
        if self.path.exists():
            shutil.rmtree(self.path)
        self.group = zarr.open_group(str(self.path), mode="w", zarr_format=3)
        self._lock()
        for dim in self.dims:
            values = np.asarray(self.coords[dim])
            arr = self.group.create_array(
                dim,
                shape=values.shape,
                chunks=values.shape,
                dtype=values.dtype,
                dimension_names=[dim],
            )
            arr[:] = values
            self.arrays[dim] = arr
        shape = tuple(len(self.coords[d]) for d in self.dims)
        for name, dtype, fill in (
            ("wall_s", "float64", np.nan),
            ("worker", str, ""),
            ("message", str, ""),
            ("status", str, ""),
        ):
            self.arrays[name] = self.group.create_array(
                name,
                shape=shape,
                chunks=(1,) * len(shape),
                dtype=dtype,
                fill_value=fill,
                dimension_names=self.dims,
            )
        attrs = dict(self.attrs)
        attrs["scan"] = self.identity
        self.group.attrs.update(attrs)
        _consolidate(self.path)

    def read_status(self) -> np.ndarray:
        """Status of every point of the existing store (``""`` for a point not done)."""
        import zarr

        arr = zarr.open_array(str(self.path / "status"), mode="r")
        return as_text(arr[...])

    # ------------------------------------------------------------------ writing
    def _result_names(self) -> list[str]:
        return [
            n
            for n in self.arrays
            if n not in self.dims and n not in POINT_VARS and n not in self.curve_dims
        ]

    def _ensure(self, name: str, own_dims: tuple, own_shape: tuple, own_coords: dict) -> bool:
        """Create or grow the array ``name``; True when the store's structure changed."""
        changed = False
        for dim, size in zip(own_dims, own_shape, strict=True):
            if dim in self.dims or dim in POINT_VARS:
                raise ParameterError(
                    f"result array {name!r} has a dimension {dim!r} that is also a grid key "
                    "or a scan variable; rename the dimension."
                )
            old = self.curve_dims.get(dim, 0)
            coord = np.asarray(own_coords.get(dim, np.arange(size)))
            if dim not in self.arrays:
                self.arrays[dim] = self.group.create_array(
                    dim,
                    shape=(size,),
                    chunks=(max(size, 1),),
                    dtype=coord.dtype,
                    dimension_names=[dim],
                )
                self.curve_dims[dim] = size
                changed = True
            elif size > old:
                self._grow(dim, size)
                changed = True
            if size == self.curve_dims[dim] and not np.array_equal(
                self.curve_coords.get(dim), coord
            ):
                # the longest curve sets the coordinate; rewritten whenever it differs, which
                # also repairs a coordinate whose write was cut by a kill after a resize
                self.arrays[dim][:] = coord
                self.curve_coords[dim] = coord
        if name not in self.arrays:
            grid_shape = tuple(len(self.coords[d]) for d in self.dims)
            shape = grid_shape + tuple(self.curve_dims[d] for d in own_dims)
            chunks = (1,) * len(grid_shape) + tuple(max(self.curve_dims[d], 1) for d in own_dims)
            self.arrays[name] = self.group.create_array(
                name,
                shape=shape,
                chunks=chunks,
                dtype="float64",
                fill_value=np.nan,
                dimension_names=[*self.dims, *own_dims],
            )
            changed = True
        elif tuple(self.arrays[name].metadata.dimension_names[len(self.dims) :]) != own_dims:
            raise ParameterError(
                f"result array {name!r} has dimensions {own_dims} at one point and "
                f"{tuple(self.arrays[name].metadata.dimension_names[len(self.dims) :])} at another."
            )
        return changed

    def _grow(self, dim: str, size: int) -> None:
        for arr in self.arrays.values():
            names = list(arr.metadata.dimension_names)
            if dim in names:
                shape = list(arr.shape)
                shape[names.index(dim)] = size
                arr.resize(tuple(shape))
        self.curve_dims[dim] = size

    def write(self, index: tuple, record: dict) -> None:
        """Write one finished point; ``status`` goes last so a cut write is never 'done'."""
        changed = False
        for name, (dims, values, coords) in record["curves"].items():
            changed |= self._ensure(name, tuple(dims), np.shape(values), coords)
        new_metrics = [n for n in record["metrics"] if n not in self.arrays]
        for name in record["metrics"]:
            changed |= self._ensure(name, (), (), {})
        if new_metrics:
            # the family's order of its metrics (Zarr lists arrays alphabetically)
            known = list(self.group.attrs.get("metrics", []))
            self.group.attrs["metrics"] = known + [n for n in new_metrics if n not in known]
        if changed:
            _consolidate(self.path)
        writes = []
        for name in self._result_names():
            arr = self.arrays[name]
            own = arr.ndim - len(self.dims)
            if name in record["metrics"]:
                writes.append((arr, index, np.float64(record["metrics"][name])))
            elif name in record["curves"]:
                values = np.asarray(record["curves"][name][1], dtype=np.float64)
                block = np.full(arr.shape[len(self.dims) :], np.nan)
                block[tuple(slice(0, s) for s in values.shape)] = values
                writes.append((arr, index + (slice(None),) * own, block))
            else:
                writes.append((arr, index + (slice(None),) * own, np.float64(np.nan)))
        writes.append((self.arrays["wall_s"], index, np.float64(record["wall_s"])))
        writes.append((self.arrays["worker"], index, str(record["worker"])))
        writes.append((self.arrays["message"], index, str(record["message"])))
        _write_all(writes, then=(self.arrays["status"], index, str(record["status"])))

    def close(self) -> None:
        if self.group is not None:
            if "writer" in self.group.attrs:
                del self.group.attrs["writer"]
            _consolidate(self.path)


def identity_json(identity: dict) -> str:
    """Canonical text of a scan identity (for messages and tests)."""
    return json.dumps(identity, sort_keys=True)
