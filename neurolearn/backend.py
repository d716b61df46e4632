"""Backend and device resolution, in one place.

``backend`` is ``"numba"`` (default, CPU), ``"torch"`` (CPU or CUDA, batched) or ``"numpy"``
(plain loops, the slow reference). ``device`` only matters for torch: ``"cpu"``, ``"cuda"``,
``"cuda:1"``; ``None`` means CPU.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass

from neurolearn.errors import BackendError, MissingDependencyError

__all__ = [
    "Backend",
    "resolve_backend",
    "import_torch",
    "BACKENDS",
    "THREADING_LAYERS",
    "available_threading_layers",
    "numba_threading_layer",
    "available_threads",
    "threads_for",
]

BACKENDS = ("numba", "torch", "numpy")


@dataclass(frozen=True)
class Backend:
    """A resolved backend: ``name`` in :data:`BACKENDS` and a ``device`` string."""

    name: str
    device: str = "cpu"

    def torch_device(self):
        """The ``torch.device`` for this backend (torch only)."""
        return import_torch().device(self.device)


def import_torch():
    """Import torch or raise a :class:`MissingDependencyError` naming the extra."""
    try:
        import torch
    except ImportError:
        raise MissingDependencyError(
            "The torch backend needs PyTorch. Install it with "
            "`pip install 'neurolearn[torch]'` (or `make test`, which installs all extras)."
        ) from None
    return torch


def resolve_backend(backend: str | None = None, device: str | None = None) -> Backend:
    """Resolve a backend name and device into a :class:`Backend`.

    Parameters
    ----------
    backend : {"numba", "torch", "numpy"} or None, default=None
        None means ``NEUROLEARN_BACKEND`` from the environment, else ``"numba"``
        (or ``"torch"`` when a CUDA ``device`` is requested).
    device : str or None, default=None
        ``"cpu"``, ``"cuda"`` or ``"cuda:N"``; only the torch backend accepts a CUDA device.

    Examples
    --------
    >>> resolve_backend()
    Backend(name='numba', device='cpu')
    """
    if device is not None and not isinstance(device, str):
        raise BackendError(
            "The 'device' parameter must be a string such as 'cpu' or 'cuda'. "
            f"Got {device!r} instead."
        )
    wants_cuda = device is not None and device.startswith("cuda")
    if backend is None:
        backend = os.environ.get("NEUROLEARN_BACKEND") or ("torch" if wants_cuda else "numba")
    if backend not in BACKENDS:
        raise BackendError(
            f"The 'backend' parameter must be one of {', '.join(map(repr, BACKENDS))}. "
            f"Got {backend!r} instead."
        )
    if device is None or device == "cpu":
        return Backend(backend, "cpu")
    if not wants_cuda:
        raise BackendError(
            f"The 'device' parameter must be 'cpu', 'cuda' or 'cuda:N'. Got {device!r} instead."
        )
    if backend != "torch":
        raise BackendError(
            f"device={device!r} needs backend='torch'; "
            f"the {backend!r} backend runs on the CPU only."
        )
    torch = import_torch()
    if not torch.cuda.is_available():
        raise BackendError(
            f"device={device!r} was requested but no CUDA GPU is available to PyTorch on this "
            "machine. Use device='cpu' (or omit --device)."
        )
    index = int(device.split(":")[1]) if ":" in device else 0
    if index >= torch.cuda.device_count():
        raise BackendError(
            f"device={device!r} was requested but only {torch.cuda.device_count()} "
            "CUDA device(s) exist."
        )
    return Backend("torch", device)


#: numba threading layers in order of preference. OpenMP first: its worker threads sleep in the
#: kernel after a short spin, so a thread that has to wait for a descheduled peer gives its core
#: back instead of spinning on it (measured in ``benchmarks/bench_reservoir.py``).
THREADING_LAYERS = ("omp", "tbb", "workqueue")


def available_threading_layers() -> list[str]:
    """The numba threading layers that load on this machine, in :data:`THREADING_LAYERS` order.

    Examples
    --------
    >>> "workqueue" in available_threading_layers()
    True
    """
    import importlib

    found = []
    for name in THREADING_LAYERS:
        pool = {"omp": "omppool", "tbb": "tbbpool", "workqueue": "workqueue"}[name]
        try:
            importlib.import_module(f"numba.np.ufunc.{pool}")
        except (ImportError, OSError):
            continue
        found.append(name)
    return found


def _configure_threading_layer() -> None:
    """Choose the numba threading layer explicitly, once, before the first parallel kernel.

    A layer set by the user (``NUMBA_THREADING_LAYER`` or ``numba.config``) is kept, and so
    is a ``GOMP_SPINCOUNT`` set in the environment.
    """
    import numba
    from numba.np.ufunc import parallel

    if parallel._is_initialized:
        return
    # OpenMP workers spin this many iterations (tens of microseconds) at the end of a parallel
    # region before they sleep: enough to catch the next step's region, short enough that an
    # idle worker does not take a core from the serial code, or from another process, for
    # long (libgomp's default spins about a hundred times longer; measured on 2 shared cores,
    # that made the serial chunks between row-split probes ~40% slower)
    # (read when libgomp loads, so set before the layers are probed)
    os.environ.setdefault("GOMP_SPINCOUNT", "20000")
    if numba.config.THREADING_LAYER == "default":
        layers = available_threading_layers()
        if layers:
            numba.config.THREADING_LAYER = layers[0]


def numba_threading_layer() -> str:
    """The numba threading layer parallel kernels run on (chosen explicitly on first use).

    Examples
    --------
    >>> numba_threading_layer() in THREADING_LAYERS
    True
    """
    import numba

    available_threads()
    return numba.threading_layer()


def available_threads() -> int:
    """How many threads this job may use for one kernel call.

    The smallest of: the CPUs this process may run on (``os.sched_getaffinity``), numba's
    thread count (``NUMBA_NUM_THREADS`` / ``numba.set_num_threads``) and, inside a Dask worker,
    the worker's thread count. The numba threading layer is chosen here on first use.

    Examples
    --------
    >>> available_threads() >= 1
    True
    """
    import numba

    _configure_threading_layer()
    if hasattr(os, "sched_getaffinity"):
        limit = len(os.sched_getaffinity(0))
    else:  # pragma: no cover - macOS and Windows
        limit = os.cpu_count() or 1
    limit = min(limit, numba.config.NUMBA_NUM_THREADS, numba.get_num_threads())
    worker_threads = _dask_worker_threads()
    if worker_threads is not None:
        limit = min(limit, worker_threads)
    return max(1, limit)


def _dask_worker_threads() -> int | None:
    if "distributed" not in sys.modules:
        return None
    try:
        from distributed import get_worker

        return int(get_worker().state.nthreads)
    except (ImportError, ValueError, AttributeError):
        return None


def threads_for(work_per_step: float, max_threads: int, min_work_per_thread: float) -> int:
    """Threads worth using when a step of ``work_per_step`` units is split over threads.

    Every thread gets at least ``min_work_per_thread`` units (below that, starting and joining
    the threads costs more than they save), and at most ``max_threads`` threads are used.

    Examples
    --------
    >>> threads_for(1_000, 4, 50_000), threads_for(120_000, 4, 50_000), threads_for(1e7, 4, 5e4)
    (1, 2, 4)
    """
    if max_threads < 1:
        raise ValueError(f"max_threads must be >= 1. Got {max_threads} instead.")
    return int(max(1, min(max_threads, work_per_step // min_work_per_thread)))
