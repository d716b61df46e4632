"""The Zarr store of a scan: one chunk per point, written only by the scan's client process.

Layout (Zarr format 3, read by ``xarray.open_zarr``):

* one coordinate array per grid key and ``seed``;
* per point, in chunks of exactly one point: every scalar metric (float64, NaN until written),
  every curve (grid dims + its own dims, e.g. ``step``), ``wall_s``, ``worker``, ``message``,
  ``checksum`` (see below) and last ``status`` (``""`` until the point is done, then ``ok``,
  ``diverged`` or ``failed``);
* attributes: ``spec`` (the resolved base spec as TOML), ``scan`` (the scan's identity: base
  spec, grid, seeds, root seed, backend), how seeds are derived, ``point_checksum`` (how
  checksums are computed), ``batch_size`` (points per task of the latest call that computed
  points; 1 for a model kind without batch support), ``repairs`` (one entry per resume that
  found damaged points), and
  while a scan runs ``writer`` (``host:pid``), so that a second scan on the same store is refused.

Why this is safe under concurrent completion and SIGKILL: only the client writes; a point touches
only its own chunk files; each file is written to a temporary name and renamed into place (Zarr's
local store does this), so a file is either the old or the new version; ``status`` is written
after every other variable of the point, so a point counts as done only when all of its data are
on disk. A kill between two writes of a point leaves its status empty: the point is recomputed.

Damage after the fact (a chunk file deleted, overwritten or truncated) is caught on resume:
``checksum`` is a BLAKE2b digest of the point's variables, written with them and before
``status``. ``ScanStore.verify`` reads every point (an unreadable chunk marks its point, it
never stops the check) and recomputes the digest of each done point; a point with an unreadable
chunk, a digest that differs (a deleted chunk reads as NaN), no digest, or a digest but no
``status`` is damaged. Its chunk files are removed and it is computed again.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import os
import shutil
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from neurolearn.errors import ParameterError, SpecError

__all__ = [
    "ScanStore",
    "Verification",
    "as_text",
    "point_checksum",
    "DONE_STATUSES",
    "POINT_VARS",
    "read_identity",
]

#: statuses of a point that is not computed again on resume
DONE_STATUSES = ("ok", "diverged")
#: per-point bookkeeping variables (every other data variable is a result)
POINT_VARS = ("status", "message", "wall_s", "worker", "checksum")
#: the ``point_checksum`` attribute: how a point's checksum is computed
CHECKSUM_SCHEME = (
    "blake2b-128 over the point's variables except status and checksum, in name order: "
    "name, shape and bytes (float64, little-endian; a curve's trailing NaN padding trimmed, "
    "NaN canonical); all-NaN floats and empty strings are skipped"
)


def as_text(values) -> np.ndarray:
    """A string array (Zarr's variable-length strings) as a plain fixed-width ``str`` array."""
    return np.asarray(values).astype(object).astype(str)


def _feed(digest, name: str, value) -> None:
    """Add one variable of a point to its digest (see :data:`CHECKSUM_SCHEME`).

    Invariant under what growing a store does to a finished point: a longer curve pads it with
    NaN at the end, a new metric reads NaN there.
    """
    if isinstance(value, str):
        if not value:
            return
        kind, shape, payload = b"s", b"", value.encode("utf-8")
    else:
        block = np.asarray(value, dtype=np.float64)
        keep = ~np.isnan(block)
        if not keep.any():
            return
        if block.ndim:
            box = []
            for axis in range(block.ndim):
                other = tuple(a for a in range(block.ndim) if a != axis)
                used = keep.any(axis=other) if other else keep
                box.append(slice(0, int(np.flatnonzero(used)[-1]) + 1))
            block = block[tuple(box)]
        block = np.where(np.isnan(block), np.nan, block)
        kind = b"f"
        shape = np.asarray(block.shape, dtype="<i8").tobytes()
        payload = np.ascontiguousarray(block, dtype="<f8").tobytes()
    for part in (name.encode("utf-8"), kind, shape, payload):
        digest.update(len(part).to_bytes(8, "little"))
        digest.update(part)


def _new_digest():
    return hashlib.blake2b(digest_size=16)


def point_checksum(values: dict) -> str:
    """Checksum of one point: ``{name: float, array or str}`` -> hex digest.

    Examples
    --------
    >>> a = point_checksum({"score": 1.5, "loss": np.array([1.0, 2.0]), "message": ""})
    >>> a == point_checksum({"loss": np.array([1.0, 2.0, np.nan]), "score": 1.5, "new": np.nan})
    True
    >>> a == point_checksum({"score": 1.5, "loss": np.array([1.0, np.nan])})
    False
    """
    digest = _new_digest()
    for name in sorted(values):
        _feed(digest, name, values[name])
    return digest.hexdigest()


def _read_points(arr, n_grid: int) -> tuple[np.ndarray, np.ndarray]:
    """Read a per-point array whole; where chunks cannot be decoded, narrow down to the points.

    Returns the values (fill where unreadable; text arrays as ``str``) and a boolean mask over
    the grid dims of the points with an unreadable chunk. Halving the failing block keeps this
    to a few reads per damaged point.
    """
    text = arr.dtype.kind not in "fiub"
    grid_shape = arr.shape[:n_grid]
    bad = np.zeros(grid_shape, dtype=bool)
    try:
        values = arr[...]
    except Exception:
        values = np.full(arr.shape, "" if text else np.nan, dtype=object if text else arr.dtype)

        def read(box):
            try:
                values[box] = arr[box]
                return
            except Exception:
                pass
            sizes = [b.stop - b.start for b in box]
            axis = next((a for a, n in enumerate(sizes) if n > 1), None)
            if axis is None:
                bad[box] = True
                return
            mid = box[axis].start + sizes[axis] // 2
            read(box[:axis] + (slice(box[axis].start, mid),) + box[axis + 1 :])
            read(box[:axis] + (slice(mid, box[axis].stop),) + box[axis + 1 :])

        read(tuple(slice(0, n) for n in grid_shape))
    return (as_text(values) if text else np.asarray(values)), bad


@dataclass
class Verification:
    """What ``ScanStore.verify`` found: done points, damaged points and why."""

    #: points whose data are intact and need no computing (grid shape incl. seed)
    done: np.ndarray
    #: number of done points whose data were checked
    verified: int = 0
    #: ``{flat index: reason}`` of points marked done whose data are damaged
    damaged: dict = dataclasses.field(default_factory=dict)
    #: grid indices of every point whose chunk files are removed before it is recomputed
    clear: list = dataclasses.field(default_factory=list)

    def reasons(self) -> dict:
        """Number of damaged points per reason."""
        out: dict = {}
        for reason in self.damaged.values():
            out[reason] = out.get(reason, 0) + 1
        return out


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
    def check(self, resume) -> bool:
        """Check the target before anything is written; True when an existing store is resumed.

        ``resume`` is False (the store must not exist), True (it must) or ``"auto"`` (resume it
        when it exists, else start it).
        """
        if not self.path.exists():
            if resume is True:
                raise ParameterError(
                    f"The 'out' parameter of scan: there is no store {str(self.path)!r} to "
                    "resume. Check the path, or leave out resume (--resume) to start a new scan."
                )
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
                try:
                    self.curve_coords[dim] = np.asarray(self.arrays[dim][...])
                except Exception:  # unreadable: rewritten with the next point that sets it
                    self.curve_coords[dim] = None
            self._repair_grid_coords()
            if "checksum" not in self.arrays:  # a store written before checksums existed
                self.arrays["checksum"] = self._create_point_array("checksum", str, "")
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
        for name, dtype, fill in (
            ("wall_s", "float64", np.nan),
            ("worker", str, ""),
            ("message", str, ""),
            ("checksum", str, ""),
            ("status", str, ""),
        ):
            self.arrays[name] = self._create_point_array(name, dtype, fill)
        attrs = dict(self.attrs)
        attrs["scan"] = self.identity
        attrs["point_checksum"] = CHECKSUM_SCHEME
        self.group.attrs.update(attrs)
        _consolidate(self.path)

    def _create_point_array(self, name: str, dtype, fill):
        shape = tuple(len(self.coords[d]) for d in self.dims)
        return self.group.create_array(
            name,
            shape=shape,
            chunks=(1,) * len(shape),
            dtype=dtype,
            fill_value=fill,
            dimension_names=self.dims,
        )

    def _repair_grid_coords(self) -> None:
        """Rewrite a grid coordinate that is unreadable (its values are the scan's identity)."""
        for dim in self.dims:
            wanted = np.asarray(self.coords[dim])
            try:
                intact = np.array_equal(np.asarray(self.arrays[dim][...]), wanted)
            except Exception:
                intact = False
            if not intact:
                self.arrays[dim][:] = wanted

    def _point_arrays(self) -> list[str]:
        """Names of the arrays with one chunk per point (every variable but coordinates)."""
        n = len(self.dims)
        return [
            name
            for name, arr in self.arrays.items()
            if list(arr.metadata.dimension_names[:n]) == self.dims and name not in self.dims
        ]

    def read_status(self) -> np.ndarray:
        """Status of every point (``""`` for a point not done or whose status is unreadable)."""
        import zarr

        arr = zarr.open_array(str(self.path / "status"), mode="r")
        return _read_points(arr, len(self.dims))[0]

    # ------------------------------------------------------------------ checking
    def verify(self) -> Verification:
        """Check every point of an opened store; see the module docstring for what is damage."""
        n = len(self.dims)
        shape = tuple(len(self.coords[d]) for d in self.dims)
        status, unreadable = _read_points(self.arrays["status"], n)
        checksum, bad = _read_points(self.arrays["checksum"], n)
        unreadable = unreadable | bad
        marked = np.isin(status, DONE_STATUSES)
        flats = [int(f) for f in np.flatnonzero(marked)]
        where = {flat: tuple(int(i) for i in np.unravel_index(flat, shape)) for flat in flats}
        digests = {flat: _new_digest() for flat in flats}
        for name in sorted(set(self._point_arrays()) - {"status", "checksum"}):
            values, bad = _read_points(self.arrays[name], n)
            unreadable |= bad
            text = values.dtype.kind == "U"
            for flat, index in where.items():
                if not bad[index]:
                    _feed(digests[flat], name, str(values[index]) if text else values[index])
        strict = "point_checksum" in self.group.attrs  # written with checksums from the start
        damaged = {}
        for flat, index in where.items():
            if unreadable[index]:
                damaged[flat] = "unreadable chunk"
            elif checksum[index]:
                if digests[flat].hexdigest() != checksum[index]:
                    damaged[flat] = "data missing or changed"
            elif strict:
                damaged[flat] = "checksum missing"
        # not marked done, but damaged all the same: an unreadable chunk, or a checksum whose
        # status is gone (a deleted status chunk, or a kill between the two writes)
        others = ~marked & (unreadable | ((status == "") & (checksum != "")))
        for flat in np.flatnonzero(others):
            damaged[int(flat)] = (
                "unreadable chunk" if unreadable.ravel()[flat] else "status missing"
            )
        done = marked.copy()
        done.flat[list(damaged)] = False
        clear = [tuple(int(i) for i in np.unravel_index(f, shape)) for f in sorted(damaged)]
        return Verification(done=done, verified=len(flats), damaged=damaged, clear=clear)

    def clear_points(self, indices) -> None:
        """Remove every chunk file of the points at ``indices`` (``status`` first)."""
        n = len(self.dims)
        names = self._point_arrays()
        names.sort(key=lambda name: name != "status")
        for name in names:
            arr = self.arrays[name]
            chunks = arr.metadata.chunk_grid.chunk_shape
            own = [range(-(-size // c)) for size, c in zip(arr.shape[n:], chunks[n:], strict=True)]
            encoding = arr.metadata.chunk_key_encoding
            for index in indices:
                for rest in itertools.product(*own):
                    key = encoding.encode_chunk_key(tuple(index) + rest)
                    (self.path / name / key).unlink(missing_ok=True)

    def log_repair(self, verification: Verification, repaired: int) -> None:
        """Append one entry to the store's ``repairs`` attribute."""
        shape = tuple(len(self.coords[d]) for d in self.dims)
        entry = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "verified": verification.verified,
            "damaged": len(verification.damaged),
            "repaired": int(repaired),
            "reasons": verification.reasons(),
            "points": [
                {
                    "index": dict(
                        zip(
                            self.dims,
                            (int(i) for i in np.unravel_index(flat, shape)),
                            strict=True,
                        )
                    ),
                    "reason": reason,
                }
                for flat, reason in sorted(verification.damaged.items())[:100]
            ],
        }
        self.group.attrs["repairs"] = [*list(self.group.attrs.get("repairs", [])), entry]

    def set_attrs(self, **attrs) -> None:
        """Set store attributes (e.g. the ``batch_size`` a scan call runs with)."""
        self.group.attrs.update(attrs)

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
        values = {}
        for name in self._result_names():
            arr = self.arrays[name]
            if name in record["metrics"]:
                values[name] = np.float64(record["metrics"][name])
            elif name in record["curves"]:
                curve = np.asarray(record["curves"][name][1], dtype=np.float64)
                block = np.full(arr.shape[len(self.dims) :], np.nan)
                block[tuple(slice(0, s) for s in curve.shape)] = curve
                values[name] = block
            else:
                values[name] = np.float64(np.nan)
        values["wall_s"] = np.float64(record["wall_s"])
        values["worker"] = str(record["worker"])
        values["message"] = str(record["message"])
        values["checksum"] = point_checksum(values)
        writes = []
        for name, value in values.items():
            own = self.arrays[name].ndim - len(self.dims)
            writes.append((self.arrays[name], index + (slice(None),) * own, value))
        _write_all(writes, then=(self.arrays["status"], index, str(record["status"])))

    def close(self) -> None:
        if self.group is not None:
            if "writer" in self.group.attrs:
                del self.group.attrs["writer"]
            _consolidate(self.path)


def identity_json(identity: dict) -> str:
    """Canonical text of a scan identity (for messages and tests)."""
    return json.dumps(identity, sort_keys=True)
