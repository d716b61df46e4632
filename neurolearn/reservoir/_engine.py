"""Backend dispatch for reservoir simulation: one compiled network form, three backends."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from neurolearn._kernels.numba import reservoir as nb_kernels
from neurolearn.backend import Backend, import_torch
from neurolearn.errors import DivergenceError, ParameterError

KIND_ESN = nb_kernels.KIND_ESN
KIND_EI = nb_kernels.KIND_EI


@dataclass(frozen=True)
class Net:
    """A reservoir reduced to arrays: CSR recurrent weights and per-unit constants."""

    kind: int
    W: sp.csr_matrix
    w_in: np.ndarray  # (n, d)
    bias: np.ndarray  # (n,)
    leak: np.ndarray  # (n,)
    gain: float = 1.0
    threshold: float = 0.0

    @property
    def n(self) -> int:
        return self.W.shape[0]

    @property
    def n_inputs(self) -> int:
        return self.w_in.shape[1]

    def initial_output(self, v0: np.ndarray) -> np.ndarray:
        """The stored state that goes with potential ``v0`` (EI: rates; ESN: zeros)."""
        if self.kind == KIND_EI:
            return 1.0 / (1.0 + np.exp(-self.gain * (v0 - self.threshold)))
        return np.zeros_like(v0)


def _stack_csr(nets: list[Net]):
    n = nets[0].n
    nnz = max(net.W.nnz for net in nets)
    indptr = np.zeros((len(nets), n + 1), dtype=np.int64)
    indices = np.zeros((len(nets), max(nnz, 1)), dtype=np.int32)
    data = np.zeros((len(nets), max(nnz, 1)), dtype=np.float64)
    for b, net in enumerate(nets):
        W = net.W.tocsr()
        W.sort_indices()
        indptr[b] = W.indptr
        indices[b, : W.nnz] = W.indices
        data[b, : W.nnz] = W.data
    return indptr, indices, data


def _check_batch(nets: list[Net], u: np.ndarray) -> int:
    kinds = {net.kind for net in nets}
    sizes = {(net.n, net.n_inputs) for net in nets}
    if len(kinds) != 1 or len(sizes) != 1:
        raise ParameterError(
            "Reservoirs run together must have the same kind, size and number of inputs. "
            f"Got sizes (n, n_inputs) {sorted(sizes)} instead."
        )
    n_batch = max(len(nets), u.shape[0])
    if len(nets) not in (1, n_batch) or u.shape[0] not in (1, n_batch):
        raise ParameterError(
            f"The batch sizes of the reservoirs ({len(nets)}) and of the input ({u.shape[0]}) "
            "must be equal, or one of them 1."
        )
    return n_batch


def simulate(
    nets: list[Net],
    u: np.ndarray,
    s0: np.ndarray,
    v0: np.ndarray,
    backend: Backend,
    store: bool = True,
):
    """Run ``nets`` (one, or one per batch entry) on ``u (Bu, T, d)`` from ``(s0, v0) (B, n)``.

    Returns ``(states (B, T, n) or None, s_final (B, n), v_final (B, n))``.
    Raises :class:`DivergenceError` naming the batch entry and step of the first NaN/Inf.
    """
    n_batch = _check_batch(nets, u)
    if backend.name == "numba":
        return _simulate_numba(nets, u, s0, v0, store, n_batch)
    if backend.name == "torch":
        return _simulate_torch(nets, u, s0, v0, store, backend)
    return _simulate_numpy(nets, u, s0, v0, store, n_batch)


def _raise_if_diverged(diverged_at) -> None:
    bad = np.flatnonzero(np.asarray(diverged_at) >= 0)
    if bad.size:
        b = int(bad[0])
        step = int(np.asarray(diverged_at)[b])
        raise DivergenceError(
            f"reservoir state became NaN/Inf at step {step} (batch entry {b}).", step=step
        )


#: from this many recurrent weights per step on, a lone reservoir splits its rows over threads
ROW_PARALLEL_NNZ = 20_000


def _simulate_numba(nets, u, s0, v0, store, n_batch):
    if n_batch == 1 and nets[0].W.nnz >= ROW_PARALLEL_NNZ:
        return _simulate_numba_rows(nets[0], u[0], s0[0], v0[0], store)
    indptr, indices, data = _stack_csr(nets)
    w_in = np.ascontiguousarray(np.stack([net.w_in for net in nets]))
    bias = np.ascontiguousarray(np.stack([net.bias for net in nets]))
    leak = np.ascontiguousarray(np.stack([net.leak for net in nets]))
    gain = np.array([net.gain for net in nets], dtype=np.float64)
    threshold = np.array([net.threshold for net in nets], dtype=np.float64)
    n = nets[0].n
    states = np.empty((n_batch, u.shape[1] if store else 0, n))
    s_final = np.empty((n_batch, n))
    v_final = np.empty((n_batch, n))
    diverged_at = np.empty(n_batch, dtype=np.int64)
    nb_kernels.run_batch(
        nets[0].kind,
        indptr,
        indices,
        data,
        w_in,
        bias,
        leak,
        gain,
        threshold,
        np.ascontiguousarray(u),
        np.ascontiguousarray(s0),
        np.ascontiguousarray(v0),
        states,
        s_final,
        v_final,
        diverged_at,
    )
    _raise_if_diverged(diverged_at)
    return (states if store else None), s_final, v_final


def _simulate_numba_rows(net, u, s0, v0, store):
    W = net.W.tocsr()
    W.sort_indices()
    states = np.empty((u.shape[0] if store else 0, net.n))
    s_final, v_final = np.empty(net.n), np.empty(net.n)
    bad = nb_kernels.run_rows_parallel(
        net.kind,
        W.indptr.astype(np.int64),
        W.indices.astype(np.int32),
        W.data,
        net.w_in,
        net.bias,
        net.leak,
        net.gain,
        net.threshold,
        np.ascontiguousarray(u),
        s0,
        v0,
        states,
        s_final,
        v_final,
    )
    _raise_if_diverged([bad])
    return (states[None] if store else None), s_final[None], v_final[None]


def _simulate_numpy(nets, u, s0, v0, store, n_batch):
    """Plain numpy loop (scipy sparse products): the slow, obviously-correct backend."""
    n = nets[0].n
    states = np.empty((n_batch, u.shape[1], n)) if store else None
    s_final = np.empty((n_batch, n))
    v_final = np.empty((n_batch, n))
    for b in range(n_batch):
        net = nets[b if len(nets) > 1 else 0]
        ub = u[b if u.shape[0] > 1 else 0]
        s, v = s0[b].copy(), v0[b].copy()
        for t in range(ub.shape[0]):
            pre = net.W @ s + net.w_in @ ub[t] + net.bias
            if net.kind == KIND_ESN:
                s = (1.0 - net.leak) * s + net.leak * np.tanh(pre)
            else:
                v = net.leak * v + pre
                s = 1.0 / (1.0 + np.exp(-net.gain * (v - net.threshold)))
            if store:
                states[b, t] = s
            if not np.all(np.isfinite(s)):
                raise DivergenceError(
                    f"reservoir state became NaN/Inf at step {t} (batch entry {b}).", step=t
                )
        s_final[b], v_final[b] = s, v
    return states, s_final, v_final


def _simulate_torch(nets, u, s0, v0, store, backend):
    torch = import_torch()
    dev = backend.torch_device()

    def t(x):
        return torch.as_tensor(np.ascontiguousarray(x), dtype=torch.float64, device=dev)

    n_batch = max(len(nets), u.shape[0])

    def expand(x):
        return x.expand(n_batch, *x.shape[1:]) if x.shape[0] == 1 else x

    W = expand(t(np.stack([net.W.toarray() for net in nets])))
    w_in = expand(t(np.stack([net.w_in for net in nets])))
    bias = expand(t(np.stack([net.bias for net in nets])))
    leak = expand(t(np.stack([net.leak for net in nets])))
    gain = expand(t(np.array([net.gain for net in nets])))
    threshold = expand(t(np.array([net.threshold for net in nets])))
    from neurolearn._kernels.torch import reservoir as torch_kernels

    states, s, v, diverged_at = torch_kernels.run_batch(
        nets[0].kind, W, w_in, bias, leak, gain, threshold, expand(t(u)), t(s0), t(v0), store
    )
    _raise_if_diverged(diverged_at.cpu().numpy())
    return (
        states.cpu().numpy() if store else None,
        s.cpu().numpy(),
        v.cpu().numpy(),
    )


def closed_loop(net: Net, w_out, b_out, s0, v0, n_steps: int):
    """Free-running prediction; returns ``(states (T, n), outputs (T, d))``."""
    indptr, indices, data = _stack_csr([net])
    states = np.empty((n_steps, net.n))
    outputs = np.empty((n_steps, w_out.shape[0]))
    bad = nb_kernels.run_closed_loop(
        net.kind,
        indptr[0],
        indices[0],
        data[0],
        net.w_in,
        net.bias,
        net.leak,
        net.gain,
        net.threshold,
        np.ascontiguousarray(w_out),
        np.ascontiguousarray(b_out),
        np.ascontiguousarray(s0, dtype=np.float64),
        np.ascontiguousarray(v0, dtype=np.float64),
        n_steps,
        states,
        outputs,
    )
    if bad >= 0:
        # a free run that explodes is a prediction failure, not a crash: the caller decides
        outputs[bad:] = np.nan
        states[bad:] = np.nan
    return states, outputs
