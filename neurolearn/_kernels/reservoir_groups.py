"""Named argument groups of the reservoir kernels (plain named tuples of arrays and scalars).

The numba kernels of :mod:`neurolearn._kernels.numba.reservoir`, :mod:`~neurolearn._kernels.
numba.online` and :mod:`~neurolearn._kernels.numba.intrinsic` (and the torch adaptation kernel)
receive them as structured arguments; :mod:`neurolearn.reservoir._engine` and
:mod:`neurolearn.reservoir.ei` build them in one place each, so that the leak cannot be passed
where the bias goes, nor an initial state where the final one is written. ``kind`` holds
``KIND_ESN`` (0) or ``KIND_EI`` (1).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

__all__ = [
    "Network",
    "NetworkStack",
    "DenseStack",
    "State",
    "BatchOutputs",
    "LinearReadout",
    "ELLNetwork",
    "LocalRule",
    "RateRecord",
]


class Network(NamedTuple):
    """One reservoir's recurrent step: unit ``kind``, CSR recurrent weights (``indptr (n+1,)``
    int64, unsigned ``indices (nnz,)``, ``data (nnz,)``), the same weights as a dense ``dense
    (n, n)`` (``(0, 0)`` when only the CSR form is used), ``w_in (n, d)``, ``bias (n,)``,
    ``leak (n,)`` (float64) and the E/I ``gain`` and ``threshold``. ``data``, ``dense`` and the
    state share one dtype (float64 or float32)."""

    kind: int
    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray
    dense: np.ndarray
    w_in: np.ndarray
    bias: np.ndarray
    leak: np.ndarray
    gain: float
    threshold: float


class NetworkStack(NamedTuple):
    """``Bw`` reservoirs of one kind and size, stacked along a leading axis (CSR padded to the
    largest ``nnz``): ``indptr (Bw, n+1)``, ``indices/data (Bw, nnz_max)``, ``w_in (Bw, n, d)``,
    ``bias/leak (Bw, n)``, ``gain/threshold (Bw,)``."""

    kind: int
    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray
    w_in: np.ndarray
    bias: np.ndarray
    leak: np.ndarray
    gain: np.ndarray
    threshold: np.ndarray


class DenseStack(NamedTuple):
    """Reservoirs with dense recurrent weights as tensors of one dtype and device (torch):
    ``W (B, n, n)`` for B networks or ``(1, n, n)`` for one shared, ``w_in (B, n, d)``,
    ``bias/leak (B, n)``, ``gain/threshold (B,)``."""

    kind: int
    W: object
    w_in: object
    bias: object
    leak: object
    gain: object
    threshold: object


class State(NamedTuple):
    """Stored state ``s`` (dtype of the weights) and E/I potential ``v`` (float64): ``(n,)``
    for one reservoir, ``(B, n)`` for the starting states of a batch."""

    s: np.ndarray
    v: np.ndarray


class BatchOutputs(NamedTuple):
    """What a batched run writes: ``states (B, T, n)`` (or ``(B, 0, n)`` to keep none), the
    final ``s_final/v_final (B, n)`` and ``diverged_at (B,)`` (first non-finite step or -1)."""

    states: np.ndarray
    s_final: np.ndarray
    v_final: np.ndarray
    diverged_at: np.ndarray


class LinearReadout(NamedTuple):
    """``y = w_out s + b_out`` with ``w_out (d, n)``, ``b_out (d,)``."""

    w_out: np.ndarray
    b_out: np.ndarray


class ELLNetwork(NamedTuple):
    """An E/I rate reservoir in fixed in-degree layout: ``exc_idx/exc_w (n, k_E)``,
    ``inh_idx/inh_w (n, k_I)`` (``inh_w`` is what the local rule adapts, in place),
    ``w_in (n, d)``, ``leak (n,)``, ``gain`` and ``threshold``."""

    exc_idx: np.ndarray
    exc_w: np.ndarray
    inh_idx: np.ndarray
    inh_w: np.ndarray
    w_in: np.ndarray
    leak: np.ndarray
    gain: float
    threshold: float


class LocalRule(NamedTuple):
    """The local inhibitory rule: per-step ``learning_rate (T,)`` and per-unit ``target (n,)``."""

    learning_rate: np.ndarray
    target: np.ndarray


class RateRecord(NamedTuple):
    """Rates kept by the adaptation: the mean of each ``record_every`` window in
    ``rate_record (T // record_every, n)`` and the sum over all steps in ``rate_sum (n,)``."""

    record_every: int
    rate_record: np.ndarray
    rate_sum: np.ndarray
