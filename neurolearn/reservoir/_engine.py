"""Backend dispatch for reservoir simulation: one compiled network form, three backends."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from neurolearn._kernels.numba import reservoir as nb_kernels
from neurolearn._kernels.reservoir_groups import (
    BatchOutputs,
    DenseStack,
    LinearReadout,
    Network,
    NetworkStack,
    State,
)
from neurolearn.backend import Backend, available_threads, import_torch, threads_for
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
    #: kernel-ready arrays, filled on first use (see :func:`kernel_arrays`)
    cache: dict = field(default_factory=dict, compare=False, repr=False)

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


#: dtypes of the recurrent weights and state (the nonlinearity is always float64)
DTYPES = ("float64", "float32")

#: A lone reservoir runs its CSR step on several threads only when every thread gets at least
#: this many non-zeros per step: below it, starting and joining threads every step costs more
#: than it saves. Measured on 2 shared cores (OpenMP layer, ESN density 0.1): 2 threads lose
#: at 49 000 non-zeros (115 vs 72 us/step) and win at 100 000 (125 vs 160 us/step).
MIN_NNZ_PER_THREAD = 40_000

#: Density from which a dense ``W`` through BLAS ``gemv`` beats the CSR loop, per dtype.
#: Measured (one thread, N = 200 and 1000, us/step CSR vs dense): float64 crossover between
#: 0.3 and 0.4 at N = 1000 (186 vs 210 at 0.3, 274 vs 208 at 0.4) and near 0.25 at N = 200;
#: float32 between 0.1 and 0.2 (55 vs 85 at 0.1, 107 vs 93 at 0.2 at N = 1000). Below it the
#: CSR loop's fewer bytes win, above it the vectorised dense product does.
DENSE_FROM_DENSITY = {"float64": 0.3, "float32": 0.15}

#: One network driven by B input sequences uses the sparse-times-block kernel from this many
#: sequences per thread on; fewer run one sequence per thread.
MIN_SEQUENCES_PER_GROUP = 4


def simulate(
    nets: list[Net],
    u: np.ndarray,
    s0: np.ndarray,
    v0: np.ndarray,
    backend: Backend,
    store: bool = True,
    dtype: str = "float64",
):
    """Run ``nets`` (one, or one per batch entry) on ``u (Bu, T, d)`` from ``(s0, v0) (B, n)``.

    ``dtype`` is that of the recurrent weights and the returned states (``"float64"`` or
    ``"float32"``). Returns ``(states (B, T, n) or None, s_final (B, n), v_final (B, n))``.
    Raises :class:`DivergenceError` naming the batch entry and step of the first NaN/Inf.
    """
    n_batch = _check_batch(nets, u)
    if dtype not in DTYPES:
        raise ParameterError(f"The 'dtype' parameter must be one of {DTYPES}. Got {dtype!r}.")
    if backend.name == "numba":
        return _simulate_numba(nets, u, s0, v0, store, n_batch, dtype)
    if backend.name == "torch":
        return _simulate_torch(nets, u, s0, v0, store, backend, dtype)
    return _simulate_numpy(nets, u, s0, v0, store, n_batch, dtype)


def _raise_if_diverged(diverged_at) -> None:
    bad = np.flatnonzero(np.asarray(diverged_at) >= 0)
    if bad.size:
        b = int(bad[0])
        step = int(np.asarray(diverged_at)[b])
        raise DivergenceError(
            f"reservoir state became NaN/Inf at step {step} (batch entry {b}).", step=step
        )


def kernel_arrays(net: Net, dtype: str):
    """``(indptr int64, indices uint16|uint32, data, dense W or None)`` for the kernels, cached.

    Indices are unsigned and as narrow as ``n`` allows (fewer bytes per non-zero, no
    negative-index test in the kernel); ``dense`` is set when the density is at or above
    :data:`DENSE_FROM_DENSITY`.
    """
    density = net.W.nnz / float(net.n * net.n)
    use_dense = density >= DENSE_FROM_DENSITY[dtype]
    key = ("arrays", dtype, use_dense)
    if key not in net.cache:
        W = sp.csr_matrix(net.W)
        W.sort_indices()
        index_type = np.uint16 if net.n <= 65536 else np.uint32
        dense = np.ascontiguousarray(W.toarray(), dtype=dtype) if use_dense else None
        net.cache[key] = (
            W.indptr.astype(np.int64),
            W.indices.astype(index_type),
            W.data.astype(dtype),
            dense,
        )
    return net.cache[key]


def kernel_network(net: Net, dtype: str, w_in: np.ndarray | None = None) -> Network:
    """The kernels' :class:`~neurolearn._kernels.reservoir_groups.Network` of ``net``.

    The CSR arrays of :func:`kernel_arrays` and, when the density calls for it, the dense
    ``W`` (else a ``(0, 0)`` array); ``w_in`` replaces the input weights (e.g. with the
    feedback weights appended).
    """
    indptr, indices, data, dense = kernel_arrays(net, dtype)
    return Network(
        int(net.kind),
        indptr,
        indices,
        data,
        np.empty((0, 0), dtype=dtype) if dense is None else dense,
        np.ascontiguousarray(net.w_in if w_in is None else w_in, dtype=np.float64),
        np.ascontiguousarray(net.bias, dtype=np.float64),
        np.ascontiguousarray(net.leak, dtype=np.float64),
        float(net.gain),
        float(net.threshold),
    )


def _simulate_numba(nets, u, s0, v0, store, n_batch, dtype):
    u = np.ascontiguousarray(u, dtype=np.float64)
    s0 = np.ascontiguousarray(s0, dtype=dtype)
    v0 = np.ascontiguousarray(v0, dtype=np.float64)
    if n_batch == 1:
        states, s, v, bad = _run_single(nets[0], u[0], s0[0].copy(), v0[0].copy(), store, dtype)
        _raise_if_diverged([bad])
        return (states[None] if store else None), s[None], v[None]
    n = nets[0].n
    states = np.empty((n_batch, u.shape[1] if store else 0, n), dtype=dtype)
    s_final = np.empty((n_batch, n), dtype=dtype)
    v_final = np.empty((n_batch, n))
    diverged_at = np.full(n_batch, -1, dtype=np.int64)
    threads = available_threads()
    start = State(s0, v0)
    out = BatchOutputs(states, s_final, v_final, diverged_at)
    if len(nets) == 1 and n_batch >= MIN_SEQUENCES_PER_GROUP:
        network = kernel_network(nets[0], dtype)
        groups = max(1, min(threads, n_batch // MIN_SEQUENCES_PER_GROUP))
        bounds = np.linspace(0, n_batch, groups + 1).round().astype(np.int64)
        if network.dense.size:
            nb_kernels.run_dense_multi(network, u, start, out, bounds)
        else:
            nb_kernels.run_csr_multi(network, u, start, out, bounds)
    else:
        import numba

        stack = network_stack(nets, dtype)
        # one reservoir at a time to whichever thread is free: a thread that loses its core to
        # another process then holds up only the reservoir it is running
        previous = numba.set_parallel_chunksize(1)
        try:
            nb_kernels.run_batch(stack, u, start, out)
        finally:
            numba.set_parallel_chunksize(previous)
    _raise_if_diverged(diverged_at)
    return (states if store else None), s_final, v_final


def network_stack(nets: list[Net], dtype) -> NetworkStack:
    """The CSR networks of ``nets`` (one kind and size) stacked along a leading axis, each
    padded with zeros to the largest number of non-zeros."""
    arrays = [kernel_arrays(net, dtype) for net in nets]
    n = nets[0].n
    nnz = max(a[2].shape[0] for a in arrays)
    indptr = np.zeros((len(nets), n + 1), dtype=np.int64)
    indices = np.zeros((len(nets), max(nnz, 1)), dtype=arrays[0][1].dtype)
    data = np.zeros((len(nets), max(nnz, 1)), dtype=dtype)
    for b, (ip, ix, dat, _) in enumerate(arrays):
        indptr[b] = ip
        indices[b, : ix.shape[0]] = ix
        data[b, : dat.shape[0]] = dat
    return NetworkStack(
        int(nets[0].kind),
        indptr,
        indices,
        data,
        np.ascontiguousarray(np.stack([net.w_in for net in nets]), dtype=np.float64),
        np.ascontiguousarray(np.stack([net.bias for net in nets]), dtype=np.float64),
        np.ascontiguousarray(np.stack([net.leak for net in nets]), dtype=np.float64),
        np.array([net.gain for net in nets], dtype=np.float64),
        np.array([net.threshold for net in nets], dtype=np.float64),
    )


def row_blocks(indptr: np.ndarray, n_blocks: int) -> np.ndarray:
    """First row of each of ``n_blocks`` contiguous row blocks with about equal non-zeros,
    followed by ``n``.

    Examples
    --------
    >>> row_blocks(np.array([0, 5, 10, 10, 20]), 2).tolist()
    [0, 2, 4]
    """
    n = indptr.shape[0] - 1
    targets = np.linspace(0, indptr[-1], n_blocks + 1)[1:-1]
    inner = np.searchsorted(indptr, targets, side="left")
    return np.concatenate([[0], np.clip(inner, 1, n - 1), [n]]).astype(np.int64)


def _run_single(net: Net, u, s, v, store, dtype):
    """One reservoir: dense or CSR, serial or row-parallel (chosen while running)."""
    network = kernel_network(net, dtype)
    state = State(s, v)
    n_steps = u.shape[0]
    states = np.empty((n_steps if store else 0, net.n), dtype=dtype)
    if network.dense.size:
        from threadpoolctl import threadpool_limits

        # BLAS threads would need the same per-step barrier as the row split: keep it serial
        with threadpool_limits(limits=1, user_api="blas"):
            bad = nb_kernels.run_dense(network, u, state, states)
        return states, s, v, bad
    threads = threads_for(network.data.shape[0], available_threads(), MIN_NNZ_PER_THREAD)

    def serial(t0, t1):
        return nb_kernels.run_csr(network, u[t0:t1], state, states[t0:t1])

    if threads == 1:
        return states, s, v, serial(0, n_steps)
    blocks = row_blocks(network.indptr, threads)

    def parallel(t0, t1):
        return nb_kernels.run_csr_rows(network, u[t0:t1], state, states[t0:t1], blocks)

    return states, s, v, run_adaptive(serial, parallel, n_steps)


#: the adaptive driver runs chunks of about CHUNK_S seconds on the faster path; a path is
#: (re)measured on a probe of at most PROBE_S seconds (by its last known speed), and the
#: slower path is re-probed after REPROBE_AFTER chunks, an interval that doubles (up to
#: REPROBE_MAX) each time, so a path that keeps losing costs a vanishing share of the run
CHUNK_S = 0.05
PROBE_S = 0.002
PROBE_STEPS = 4
REPROBE_AFTER = 8
REPROBE_MAX = 64


def run_adaptive(serial, parallel, n_steps: int) -> int:
    """Run ``n_steps`` in chunks, each on whichever of ``serial(t0, t1)`` and
    ``parallel(t0, t1)`` is faster per step right now; returns the first non-finite step or -1.

    Both functions advance the same state in place and return a divergence step relative to
    ``t0`` (or -1). A parallel step ends with every thread waiting for the slowest, so when
    another process takes a core it can become many times slower than the serial one; this
    driver notices within one probe and runs serially until a re-probe finds the core free.

    Examples
    --------
    >>> calls = []
    >>> run_adaptive(lambda a, b: calls.append(b - a) or -1, lambda a, b: -1, 100)
    -1
    >>> sum(calls) <= 100
    True
    """
    paths = {"parallel": parallel, "serial": serial}
    untimed = set(paths)  # a kernel's first call in a process loads or compiles it
    per_step: dict[str, float] = {}
    fresh: set[str] = set()
    wait = REPROBE_AFTER
    since = 0
    streak = 0
    last = None
    t = 0
    while t < n_steps:
        stale = [name for name in paths if name not in fresh]
        if stale:
            name = stale[0]
            if name in untimed:
                size = 1
            elif name in per_step:
                size = min(max(1, int(PROBE_S / max(per_step[name], 1e-9))), 64)
            else:
                size = PROBE_STEPS
        else:
            name = min(fresh, key=per_step.get)
            streak = streak + 1 if name == last else 0
            # a path chosen on a short probe starts with short chunks that double: a probe
            # that caught a lucky moment costs little
            size = min(max(1, int(CHUNK_S / max(per_step[name], 1e-9))), PROBE_STEPS << streak)
        last = name
        size = min(size, n_steps - t)
        start = time.perf_counter()
        bad = paths[name](t, t + size)
        elapsed = time.perf_counter() - start
        if bad >= 0:
            return t + bad
        if name in untimed:
            untimed.discard(name)
        else:
            per_step[name] = elapsed / size
            fresh.add(name)
        t += size
        if not stale:
            since += 1
            if since >= wait:
                fresh.discard(max(per_step, key=per_step.get))
                since = 0
                wait = min(2 * wait, REPROBE_MAX)
    return -1


def _simulate_numpy(nets, u, s0, v0, store, n_batch, dtype="float64"):
    """Plain numpy loop (scipy sparse products): the slow, obviously-correct backend.

    With ``dtype="float32"`` the weights and the stored state are float32 (the product is
    accumulated in float64, like the numba kernels); the nonlinearity runs in float64.
    """
    n = nets[0].n
    states = np.empty((n_batch, u.shape[1], n), dtype=dtype) if store else None
    s_final = np.empty((n_batch, n), dtype=dtype)
    v_final = np.empty((n_batch, n))
    for b in range(n_batch):
        net = nets[b if len(nets) > 1 else 0]
        W = net.W.astype(dtype).astype(np.float64)
        ub = u[b if u.shape[0] > 1 else 0]
        s, v = s0[b].astype(dtype), v0[b].astype(np.float64)
        for t in range(ub.shape[0]):
            pre = W @ s.astype(np.float64) + net.w_in @ ub[t] + net.bias
            if net.kind == KIND_ESN:
                s = ((1.0 - net.leak) * s + net.leak * np.tanh(pre)).astype(dtype)
            else:
                v = net.leak * v + pre
                s = (1.0 / (1.0 + np.exp(-net.gain * (v - net.threshold)))).astype(dtype)
            if store:
                states[b, t] = s
            if not np.all(np.isfinite(s)):
                raise DivergenceError(
                    f"reservoir state became NaN/Inf at step {t} (batch entry {b}).", step=t
                )
        s_final[b], v_final[b] = s, v
    return states, s_final, v_final


def _simulate_torch(nets, u, s0, v0, store, backend, dtype="float64"):
    torch = import_torch()
    dev = backend.torch_device()
    torch_dtype = getattr(torch, dtype)

    def t(x):
        return torch.as_tensor(np.ascontiguousarray(x), dtype=torch_dtype, device=dev)

    n_batch = max(len(nets), u.shape[0])

    def expand(x):
        return x.expand(n_batch, *x.shape[1:]) if x.shape[0] == 1 else x

    # one network for many inputs stays one matrix: the step is then one matmul, not bmm
    W = t(np.stack([net.W.toarray() for net in nets]))
    w_in = expand(t(np.stack([net.w_in for net in nets])))
    bias = expand(t(np.stack([net.bias for net in nets])))
    leak = expand(t(np.stack([net.leak for net in nets])))
    gain = expand(t(np.array([net.gain for net in nets])))
    threshold = expand(t(np.array([net.threshold for net in nets])))
    from neurolearn._kernels.torch import reservoir as torch_kernels

    net = DenseStack(int(nets[0].kind), W, w_in, bias, leak, gain, threshold)
    states, s, v, diverged_at = torch_kernels.run_batch(
        net, expand(t(u)), State(t(s0), t(v0)), store
    )
    _raise_if_diverged(diverged_at.cpu().numpy())
    return (
        states.cpu().numpy() if store else None,
        s.cpu().numpy(),
        v.cpu().numpy(),
    )


def closed_loop(net: Net, w_out, b_out, s0, v0, n_steps: int):
    """Free-running prediction; returns ``(states (T, n), outputs (T, d))``."""
    states = np.empty((n_steps, net.n))
    outputs = np.empty((n_steps, w_out.shape[0]))
    bad = nb_kernels.run_closed_loop(
        kernel_network(net, "float64"),
        LinearReadout(np.ascontiguousarray(w_out), np.ascontiguousarray(b_out)),
        State(
            np.ascontiguousarray(s0, dtype=np.float64),
            np.ascontiguousarray(v0, dtype=np.float64),
        ),
        n_steps,
        states,
        outputs,
    )
    if bad >= 0:
        # a free run that explodes is a prediction failure, not a crash: the caller decides
        outputs[bad:] = np.nan
        states[bad:] = np.nan
    return states, outputs
