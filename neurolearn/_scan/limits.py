"""Sane limits of a scan, checked before anything is built, started or written.

Two limits:

* **Points.** The client holds every point's resolved specs while the scan runs and
  :func:`neurolearn.open_scan` loads the whole store into memory, so a scan whose points need
  more than ``MEMORY_FRACTION`` of the memory available now is refused. A point is
  estimated as the in-memory size of one resolved model + task spec (a deep ``sys.getsizeof``)
  plus the store's per-point records as loaded (``wall_s``, one metric, ``status``, ``worker``,
  ``message``, ``checksum``). Metrics and curves add to this, so the estimate is a lower bound.
  The count is checked before a grid range is expanded into values, so a range of a billion
  values is refused at once. The available memory is ``MemAvailable`` of ``/proc/meminfo``;
  elsewhere ``psutil.virtual_memory().available`` when psutil is installed, else the free
  physical pages (``os.sysconf``); where none of these exists, no point limit applies.
* **Workers.** The embedded cluster starts one process per worker; more than
  ``WORKERS_PER_CORE`` per core only adds start-up time and memory, so ``workers`` above
  that is refused. A running scheduler or Slurm sets its own size and is not limited.

And one default: the **batch size** of a model kind that runs points in batches
(``default_batch_size``): as many points per task as fit ``MEMORY_FRACTION`` of the memory
of one worker, at most ``MAX_BATCH``, and no more than spread the points over every worker.
"""

from __future__ import annotations

import os
import sys
import types

from neurolearn._memory import available_memory, format_bytes
from neurolearn.errors import ParameterError

__all__ = [
    "MEMORY_FRACTION",
    "WORKERS_PER_CORE",
    "available_memory",
    "store_bytes_per_point",
    "deep_size",
    "max_points",
    "check_workers",
    "check_point_count",
    "MAX_BATCH",
    "default_batch_size",
]

#: a scan's points may use at most this fraction of the memory available when it starts
MEMORY_FRACTION = 0.5
#: at most this many embedded-cluster worker processes per core
WORKERS_PER_CORE = 4
#: the largest batch a scan chooses by itself: a batch's points are written when the whole
#: batch returns, so a bigger batch delays the store's first writes and loses more work to a
#: kill, while a batch of 32 already fills the threads of one worker many times over
MAX_BATCH = 32


def deep_size(obj, _seen: set | None = None) -> int:
    """Bytes of ``obj`` and everything it references (each object counted once).

    Examples
    --------
    >>> deep_size([1.5, "ab"]) > deep_size([])
    True
    """
    seen = set() if _seen is None else _seen
    if id(obj) in seen or isinstance(obj, type | types.ModuleType | types.FunctionType):
        return 0  # shared by every point (classes, modules, functions)
    seen.add(id(obj))
    size = sys.getsizeof(obj)
    if isinstance(obj, str | bytes | int | float | bool | type(None)):
        return size
    if isinstance(obj, dict):
        return size + sum(deep_size(k, seen) + deep_size(v, seen) for k, v in obj.items())
    if isinstance(obj, list | tuple | set | frozenset):
        return size + sum(deep_size(v, seen) for v in obj)
    if hasattr(obj, "__dict__"):
        size += deep_size(vars(obj), seen)
    for slot in getattr(type(obj), "__slots__", ()):
        if hasattr(obj, slot):
            size += deep_size(getattr(obj, slot), seen)
    return size


def store_bytes_per_point() -> int:
    """Memory one point's fixed records take when the store is loaded (a lower bound).

    ``wall_s`` and one metric are float64; ``status``, ``worker``, ``message`` and ``checksum``
    are loaded as object arrays (a pointer and a ``str`` each).

    Examples
    --------
    >>> store_bytes_per_point() > 16
    True
    """
    floats = 2 * 8
    texts = ("diverged", "local", "", "0" * 32)
    return floats + sum(8 + sys.getsizeof(t) for t in texts)


def max_points(bytes_per_point: int) -> int | None:
    """The largest number of points that fit the memory budget, or None without a budget."""
    memory = available_memory()
    if memory is None:
        return None
    return max(int(memory * MEMORY_FRACTION) // max(int(bytes_per_point), 1), 1)


def check_point_count(
    n_points: int,
    bytes_per_point: int,
    *,
    parameter: str,
    what: str,
    basis: str = "store records",
) -> None:
    """Refuse ``n_points`` points when they do not fit the memory budget.

    ``parameter`` is the scan parameter named in the message, ``what`` says how the count
    arises (e.g. ``"1000 values of network.a x 8 seeds"``), ``basis`` what a point's bytes
    count.

    Examples
    --------
    >>> check_point_count(10, 1000, parameter="grid", what="10 values of network.a")
    """
    limit = max_points(bytes_per_point)
    if limit is None or n_points <= limit:
        return
    raise ParameterError(
        f"The '{parameter}' parameter of scan: {what} = {n_points} points need "
        f"{format_bytes(n_points * bytes_per_point)} or more of memory "
        f"({format_bytes(bytes_per_point)} a "
        f"point of {basis}); a scan may use {MEMORY_FRACTION:.0%} of the "
        f"{format_bytes(available_memory())} available now, so at most {limit} points. Use fewer "
        "values or seeds, or split the scan."
    )


def check_workers(workers: int) -> None:
    """Refuse more embedded-cluster workers than ``WORKERS_PER_CORE`` per core.

    Examples
    --------
    >>> check_workers(1)
    """
    cores = os.cpu_count() or 1
    limit = cores * WORKERS_PER_CORE
    if workers > limit:
        raise ParameterError(
            f"The 'workers' parameter of scan must be at most {limit} ({WORKERS_PER_CORE} "
            f"processes per core, {cores} cores here). Got {workers} instead. For more "
            "workers, start a Dask cluster and pass its address (--scheduler) or use --slurm."
        )


#: batches each worker should get at least, when there are enough points
BATCHES_PER_WORKER = 4


def default_batch_size(
    point_bytes: int, memory_per_worker: int | None, n_points: int, n_workers: int
) -> int:
    """Points per task when the caller gives no batch size (a model kind with batch support).

    ``MEMORY_FRACTION`` of one worker's memory over the estimated peak memory of the largest
    point (``point_bytes``, from :func:`neurolearn.experiment.estimate_memory`), at most
    :data:`MAX_BATCH`, at most ``max(ceil(n_points / (BATCHES_PER_WORKER n_workers)), 4)``
    (so that progress is reported a few times per worker and a kill loses little, while a
    batch still has networks for several threads), at most ``ceil(n_points / n_workers)`` (so
    that every worker gets work), and at least 1. Without a memory figure
    (``memory_per_worker`` None) the memory bound does not apply.

    Examples
    --------
    >>> default_batch_size(10**6, 10**9, n_points=1000, n_workers=2)  # capped at MAX_BATCH
    32
    >>> default_batch_size(10**8, 10**9, n_points=1000, n_workers=2)  # 5 fit in half of 1 GB
    5
    >>> default_batch_size(10**6, 10**9, n_points=12, n_workers=4)    # 3 points per worker
    3
    >>> default_batch_size(10**10, 10**9, n_points=12, n_workers=1)   # even 1 does not fit
    1
    >>> default_batch_size(10**6, 10**9, n_points=24, n_workers=1)    # 4 batches of 6
    6
    """
    size = MAX_BATCH
    if memory_per_worker is not None and point_bytes > 0:
        size = min(size, int(memory_per_worker * MEMORY_FRACTION) // int(point_bytes))
    workers = max(int(n_workers), 1)
    size = min(size, max(-(-int(n_points) // (BATCHES_PER_WORKER * workers)), 4))
    size = min(size, -(-int(n_points) // workers))
    return max(size, 1)
