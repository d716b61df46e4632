"""Backend and device resolution, in one place.

``backend`` is ``"numba"`` (default, CPU), ``"torch"`` (CPU or CUDA, batched) or ``"numpy"``
(plain loops, the slow reference). ``device`` only matters for torch: ``"cpu"``, ``"cuda"``,
``"cuda:1"``; ``None`` means CPU.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from neurolearn.errors import BackendError, MissingDependencyError

__all__ = ["Backend", "resolve_backend", "import_torch", "BACKENDS", "FASTMATH", "FASTMATH_SUMS"]

BACKENDS = ("numba", "torch", "numpy")

#: fastmath setting of every jitted kernel: off, so kernels keep IEEE semantics, match their
#: numpy references to rounding, and let NaN propagate for divergence detection.
FASTMATH = False

#: fastmath flags of the small reduction helpers (dot products, sums of squares) that kernels
#: call in their inner loops: reassociation and fused multiply-add only, so the sums vectorise
#: while NaN and infinity still propagate. Results differ from a left-to-right sum by rounding.
FASTMATH_SUMS = {"reassoc", "contract"}


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
