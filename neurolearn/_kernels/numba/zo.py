"""Numba kernels of the zeroth-order family: an MLP on a flat parameter vector and whole
training loops for backprop and the perturbation rules.

Layout of the flat parameter vector ``theta``: for each layer ``l`` the weight from input ``j``
to output ``i`` sits at ``w_off[l] + j * sizes[l+1] + i`` (``W_l`` transposed, row-major, so
each layer is a contiguous ``(n_in, n_out)`` matrix for BLAS), and the bias ``b_l`` starts at
``b_off[l]`` (``-1`` when the network has no biases). ``act`` packs the hidden-layer
activation (``act % 8``) and the output activation (``act // 8``), each 0 linear, 1 tanh,
2 ReLU, 3 logistic sigmoid. ``loss`` is 0 for the squared error
``0.5 * |y - t|^2`` and 1 for softmax cross-entropy, averaged over the mini-batch.

Perturbations are never stored between steps: every random number is a pure function of
``(seed, step, probe, index)`` (a splitmix64 hash turned into a Rademacher sign or, by
Box-Muller, a standard normal), so a direction can be regenerated for the update exactly as in
MeZO, and the numpy reference in the tests draws the very same numbers.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numba import njit
from numba.extending import overload

from neurolearn._kernels import FASTMATH
from neurolearn._kernels.numba.elementary import tanh as _tanh

_U30 = np.uint64(30)
_U27 = np.uint64(27)
_U31 = np.uint64(31)
_U32 = np.uint64(32)
_U63 = np.uint64(63)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_GOLDEN2 = np.uint64(0xD1B54A32D192ED03)
_LOW32 = np.uint64(0xFFFFFFFF)
_ONE = np.uint64(1)
_TWO_M32 = 2.0**-32


@njit(cache=True, fastmath=FASTMATH)
def mix64(z):
    """splitmix64 finaliser of a uint64 (wrapping arithmetic)."""
    z = (z ^ (z >> _U30)) * _M1
    z = (z ^ (z >> _U27)) * _M2
    return z ^ (z >> _U31)


@njit(cache=True, fastmath=FASTMATH)
def noise_key(seed, step, probe):
    """Key of one perturbation: a hash of the run seed, the step and the probe index."""
    a = mix64(np.uint64(seed) + np.uint64(step) * _GOLDEN)
    return mix64(a + (np.uint64(probe) + _ONE) * _GOLDEN2)


@njit(cache=True, fastmath=FASTMATH)
def _box_muller(key, pair):
    h = mix64(np.uint64(key) + (np.uint64(pair) + _ONE) * _GOLDEN)
    u1 = (float(h >> _U32) + 0.5) * _TWO_M32
    u2 = (float(h & _LOW32) + 0.5) * _TWO_M32
    return math.sqrt(-2.0 * math.log(u1)), 2.0 * math.pi * u2


@njit(cache=True, fastmath=FASTMATH)
def gauss_at(key, i):
    """Standard normal number ``i`` of the stream ``key``: numbers ``2m`` and ``2m + 1`` are the
    cosine and sine halves of one Box-Muller transform of hash ``m``."""
    r, angle = _box_muller(key, i >> 1)
    return r * (math.cos(angle) if (i & 1) == 0 else math.sin(angle))


@njit(cache=True, fastmath=FASTMATH)
def sign_at(key, i):
    """Rademacher number ``i`` (+1 or -1) of the stream ``key``."""
    h = mix64(np.uint64(key) + (np.uint64(i) + _ONE) * _GOLDEN)
    return 1.0 if (h >> _U63) == _ONE else -1.0


@njit(cache=True, fastmath=FASTMATH)
def fill_direction(key, kind, out):
    """Fill ``out`` with stream ``key``: ``kind`` 0 Gaussian, 1 Rademacher."""
    n = out.shape[0]
    if kind == 1:
        for i in range(n):
            out[i] = sign_at(key, i)
        return
    for m in range((n + 1) // 2):
        r, angle = _box_muller(key, m)
        out[2 * m] = r * math.cos(angle)
        if 2 * m + 1 < n:
            out[2 * m + 1] = r * math.sin(angle)


# Ziggurat tables (Marsaglia & Tsang 2000) for the node-perturbation noise: 128 layers of equal
# area under f(x) = exp(-x^2 / 2), x >= 0. Layer 0 is the base strip [0, r] x [0, f(r)] plus the
# tail beyond r; layer j >= 1 is the box [0, X[j]] x [F[j], F[j+1]]. r solves the closing
# condition (the top layer ends at x = 0, f = 1) by bisection.
_ZIG_LAYERS = 128


def _ziggurat_edges(r, n):
    f = lambda x: math.exp(-0.5 * x * x)  # noqa: E731
    area = r * f(r) + math.sqrt(math.pi / 2.0) * math.erfc(r / math.sqrt(2.0))
    edges = [area / f(r), r]
    for _ in range(n - 2):
        y = f(edges[-1]) + area / edges[-1]
        if y >= 1.0:
            return None, y
        edges.append(math.sqrt(-2.0 * math.log(y)))
    return edges + [0.0], f(edges[-1]) + area / edges[-1]


def _ziggurat_tables(n=_ZIG_LAYERS):
    lo, hi = 2.0, 5.0  # the closing value rises above 1 as r falls
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        edges, top = _ziggurat_edges(mid, n)
        if edges is None or top > 1.0:
            lo = mid
        else:
            hi = mid
    edges, _ = _ziggurat_edges(hi, n)
    x = np.array(edges)
    return hi, x, np.exp(-0.5 * x * x)


_ZIG_R, _ZIG_X, _ZIG_F = _ziggurat_tables()
_ZIG_MASK = np.uint64(_ZIG_LAYERS - 1)
_U7 = np.uint64(7)
_U11 = np.uint64(11)
_TWO_M53 = 2.0**-53


@njit(cache=True, fastmath=FASTMATH)
def _unit53(h):
    """A float in [0, 1) from the top 53 bits of a hash."""
    return float(h >> _U11) * _TWO_M53


@njit(cache=True, fastmath=FASTMATH)
def ziggurat_at(key, i):
    """Standard normal number ``i`` of the stream ``key`` by the ziggurat method.

    A pure function of ``(key, i)``: attempt ``a`` of number ``i`` uses the hash of
    ``key + (i + 1) G1 + a G2`` (layer from its low 7 bits, sign from bit 7, abscissa from the
    top 53); the rare wedge and tail tests hash further. About 99% of numbers take one hash, a
    multiply and a compare, with no transcendental function.
    """
    base = np.uint64(key) + (np.uint64(i) + _ONE) * _GOLDEN
    attempt = np.uint64(0)
    while True:
        h = mix64(base + attempt * _GOLDEN2)
        layer = h & _ZIG_MASK
        sign = -1.0 if ((h >> _U7) & _ONE) == _ONE else 1.0
        x = _unit53(h) * _ZIG_X[layer]
        if x < _ZIG_X[layer + 1]:
            return sign * x
        h1 = mix64(h + _GOLDEN)
        if layer == 0:
            u1 = 1.0 - _unit53(h1)  # (0, 1]
            u2 = 1.0 - _unit53(mix64(h1 + _GOLDEN))
            xt = -math.log(u1) / _ZIG_R
            if -2.0 * math.log(u2) > xt * xt:
                return sign * (_ZIG_R + xt)
        else:
            y = _ZIG_F[layer] + _unit53(h1) * (_ZIG_F[layer + 1] - _ZIG_F[layer])
            if y < math.exp(-0.5 * x * x):
                return sign * x
        attempt += _ONE


@njit(cache=True, fastmath=FASTMATH)
def fill_ziggurat(key, start, out):
    """Numbers ``start .. start + len(out) - 1`` of the ziggurat stream ``key``."""
    for i in range(out.shape[0]):
        out[i] = ziggurat_at(key, start + i)


@njit(cache=True, fastmath=FASTMATH)
def fill_direction_range(key, kind, start, out):
    """Numbers ``start .. start + len(out) - 1`` of stream ``key`` (0 Gaussian, 1 Rademacher)."""
    for i in range(out.shape[0]):
        out[i] = gauss_at(key, start + i) if kind == 0 else sign_at(key, start + i)


# ----------------------------------------------------------------------------- the network
@njit(cache=True, fastmath=FASTMATH)
def _activate(a, act):
    if act == 1:
        return _tanh(a)
    if act == 2:
        return a if a > 0.0 else 0.0
    if act == 3:
        return 1.0 / (1.0 + math.exp(-a))
    return a


@njit(cache=True, fastmath=FASTMATH, error_model="numpy")
def _activate_row(src, dst, act):
    """``dst[i] = phi(src[i])`` over a row (the tanh loop vectorises)."""
    if act == 1:
        for i in range(src.shape[0]):
            dst[i] = _tanh(src[i])
    else:
        for i in range(src.shape[0]):
            dst[i] = _activate(src[i], act)


@njit(cache=True, fastmath=FASTMATH)
def _dactivate_from_output(h, act):
    if act == 1:
        return 1.0 - h * h
    if act == 2:
        return 1.0 if h > 0.0 else 0.0
    if act == 3:
        return h * (1.0 - h)
    return 1.0


@njit(cache=True, fastmath=FASTMATH)
def _weights(theta, w_off, n_in, n_out):
    """Layer weights as a contiguous ``(n_in, n_out)`` view of ``theta`` (inputs x outputs)."""
    return theta[w_off : w_off + n_in * n_out].reshape((n_in, n_out))


@njit(cache=True, fastmath=FASTMATH)
def forward(theta, sizes, w_off, b_off, act, X, idx, H, node_noise, node_sigma):
    """Forward pass of the mini-batch ``X[idx]`` into ``H`` (``(L+1, B, max_width)``).

    ``H[l, n, :sizes[l]]`` holds the activity of layer ``l`` (``H[L]`` the linear output).
    With ``node_sigma != 0`` the pre-activations get ``node_sigma * node_noise[l-1, n, j]``
    added (node perturbation).
    """
    _forward(theta, sizes, w_off, b_off, act, X, idx, H, node_noise, node_sigma, H[0], 0)


@njit(cache=True, fastmath=FASTMATH)
def _forward(theta, sizes, w_off, b_off, act, X, idx, H, node_noise, node_sigma, first, mode):
    """:func:`forward`; ``mode`` 1 also stores the first layer's noise-free pre-activations
    (``W x + b``) in ``first (B, sizes[1])``, ``mode`` 2 takes them from there instead of
    recomputing (the noisy pass of node perturbation: the input layer is the same)."""
    n_layers = sizes.shape[0] - 1
    batch = idx.shape[0]
    if mode != 2:
        for n in range(batch):
            for j in range(sizes[0]):
                H[0, n, j] = X[idx[n], j]
    for layer in range(n_layers):
        n_in = sizes[layer]
        n_out = sizes[layer + 1]
        wo = w_off[layer]
        bo = b_off[layer]
        last = layer == n_layers - 1
        code = act // 8 if last else act % 8
        if layer == 0 and mode == 2:
            pre = first[:batch, :n_out].copy()
        else:
            pre = np.dot(
                np.ascontiguousarray(H[layer, :batch, :n_in]), _weights(theta, wo, n_in, n_out)
            )
            if bo >= 0:
                for n in range(batch):
                    for i in range(n_out):
                        pre[n, i] += theta[bo + i]
            if layer == 0 and mode == 1:
                first[:batch, :n_out] = pre
        for n in range(batch):
            row = pre[n]
            if node_sigma != 0.0:
                for i in range(n_out):
                    row[i] += node_sigma * node_noise[layer, n, i]
            _activate_row(row, H[layer + 1, n, :n_out], code)


@njit(cache=True, fastmath=FASTMATH)
def sample_losses(H, sizes, loss, Y, idx, out):
    """Per-sample losses of the output in ``H[L]`` against targets ``Y[idx]``; returns the mean."""
    n_layers = sizes.shape[0] - 1
    n_out = sizes[n_layers]
    total = 0.0
    for n in range(idx.shape[0]):
        value = 0.0
        if loss == 0:
            for i in range(n_out):
                d = H[n_layers, n, i] - Y[idx[n], i]
                value += 0.5 * d * d
        else:
            m = H[n_layers, n, 0]
            for i in range(1, n_out):
                m = max(m, H[n_layers, n, i])
            s = 0.0
            for i in range(n_out):
                s += math.exp(H[n_layers, n, i] - m)
            log_z = m + math.log(s)
            for i in range(n_out):
                value += Y[idx[n], i] * (log_z - H[n_layers, n, i])
        out[n] = value
        total += value
    return total / idx.shape[0]


@njit(cache=True, fastmath=FASTMATH)
def _output_error(H, sizes, act, loss, Y, idx, n, out):
    """dL_n/d(output pre-activation) of sample ``n`` (not yet divided by the batch size)."""
    n_layers = sizes.shape[0] - 1
    n_out = sizes[n_layers]
    if loss == 0:
        for i in range(n_out):
            h = H[n_layers, n, i]
            out[i] = (h - Y[idx[n], i]) * _dactivate_from_output(h, act // 8)
    else:
        m = H[n_layers, n, 0]
        for i in range(1, n_out):
            m = max(m, H[n_layers, n, i])
        s = 0.0
        for i in range(n_out):
            out[i] = math.exp(H[n_layers, n, i] - m)
            s += out[i]
        y_sum = 0.0
        for i in range(n_out):
            y_sum += Y[idx[n], i]
        for i in range(n_out):
            out[i] = out[i] / s * y_sum - Y[idx[n], i]


@njit(cache=True, fastmath=FASTMATH)
def batch_loss(theta, sizes, w_off, b_off, act, loss, X, Y, idx, H, losses):
    """Mean loss of the mini-batch ``idx`` (one query)."""
    forward(theta, sizes, w_off, b_off, act, X, idx, H, H, 0.0)
    return sample_losses(H, sizes, loss, Y, idx, losses)


@njit(cache=True, fastmath=FASTMATH)
def backprop(theta, sizes, w_off, b_off, act, loss, X, Y, idx, H, delta, losses, grad):
    """Exact gradient of the mean mini-batch loss into ``grad``; returns the loss."""
    value = batch_loss(theta, sizes, w_off, b_off, act, loss, X, Y, idx, H, losses)
    n_layers = sizes.shape[0] - 1
    batch = idx.shape[0]
    grad[:] = 0.0
    cur = 0
    for n in range(batch):
        _output_error(H, sizes, act, loss, Y, idx, n, delta[cur, n])
        for i in range(sizes[n_layers]):
            delta[cur, n, i] /= batch
    for layer in range(n_layers - 1, -1, -1):
        n_in = sizes[layer]
        n_out = sizes[layer + 1]
        wo = w_off[layer]
        bo = b_off[layer]
        nxt = 1 - cur
        D = np.ascontiguousarray(delta[cur, :batch, :n_out])
        Hl = np.ascontiguousarray(H[layer, :batch, :n_in])
        if bo >= 0:
            for n in range(batch):
                for i in range(n_out):
                    grad[bo + i] += D[n, i]
        _weights(grad, wo, n_in, n_out)[:, :] += np.dot(Hl.T, D)
        if layer > 0:
            back = np.dot(D, _weights(theta, wo, n_in, n_out).T)
            for n in range(batch):
                for j in range(n_in):
                    delta[nxt, n, j] = back[n, j] * _dactivate_from_output(Hl[n, j], act % 8)
        cur = nxt
    return value


@njit(cache=True, fastmath=FASTMATH)
def directional_derivative(theta, u, sizes, w_off, b_off, act, loss, X, Y, idx, H, T, err):
    """Forward-mode JVP: ``grad L . u`` of the mean mini-batch loss (one forward pass)."""
    n_layers = sizes.shape[0] - 1
    batch = idx.shape[0]
    total = 0.0
    for n in range(batch):
        for j in range(sizes[0]):
            H[0, n, j] = X[idx[n], j]
            T[0, n, j] = 0.0
    for layer in range(n_layers):
        n_in = sizes[layer]
        n_out = sizes[layer + 1]
        wo = w_off[layer]
        bo = b_off[layer]
        last = layer == n_layers - 1
        code = act // 8 if last else act % 8
        Hl = np.ascontiguousarray(H[layer, :batch, :n_in])
        pre = np.dot(Hl, _weights(theta, wo, n_in, n_out))
        tpre = np.dot(Hl, _weights(u, wo, n_in, n_out))
        if layer > 0:
            tpre += np.dot(
                np.ascontiguousarray(T[layer, :batch, :n_in]), _weights(theta, wo, n_in, n_out)
            )
        for n in range(batch):
            for i in range(n_out):
                a = pre[n, i]
                ta = tpre[n, i]
                if bo >= 0:
                    a += theta[bo + i]
                    ta += u[bo + i]
                h = _activate(a, code)
                H[layer + 1, n, i] = h
                T[layer + 1, n, i] = ta if last else _dactivate_from_output(h, code) * ta
    for n in range(batch):
        _output_error(H, sizes, act, loss, Y, idx, n, err)
        for i in range(sizes[n_layers]):
            total += err[i] * T[n_layers, n, i]
    return total / batch


# ----------------------------------------------------------------------------- argument groups
class MLPLayout(NamedTuple):
    """The network: layer ``sizes``, weight/bias offsets into ``theta`` and the activation and
    loss codes described in the module docstring."""

    sizes: np.ndarray
    w_off: np.ndarray
    b_off: np.ndarray
    act: int
    loss: int


class Data(NamedTuple):
    """Inputs ``X (n, sizes[0])`` and targets ``Y (n, sizes[-1])``; steps index their rows."""

    X: np.ndarray
    Y: np.ndarray


class OUState(NamedTuple):
    """State the OU rule carries between calls: the mean ``mu`` and ``reward`` =
    ``[running reward, initialised flag]``. Other rules leave it untouched."""

    mean: np.ndarray
    reward: np.ndarray


class Scratch(NamedTuple):
    """Work arrays of one step (see :func:`make_scratch`); every rule overwrites what it reads."""

    H: np.ndarray
    H2: np.ndarray
    delta: np.ndarray
    losses: np.ndarray
    losses2: np.ndarray
    grad: np.ndarray
    work: np.ndarray
    err: np.ndarray
    coef: np.ndarray
    noise: np.ndarray
    compact: np.ndarray
    H_pop: np.ndarray
    losses_pop: np.ndarray
    work_pop: np.ndarray
    eps_pop: np.ndarray
    xi: np.ndarray
    fit: np.ndarray
    ranks: np.ndarray


def make_scratch(sizes, batch: int, n_params: int, n_probes: int, population: int) -> Scratch:
    """Zeroed work arrays for mini-batches of ``batch`` rows (``population`` antithetic pairs
    of evolution strategies, 1 for the other rules)."""
    sizes = np.asarray(sizes)
    n_layers = sizes.shape[0] - 1
    width = int(sizes.max())
    return Scratch(
        H=np.zeros((n_layers + 1, batch, width)),
        H2=np.zeros((n_layers + 1, batch, width)),
        delta=np.zeros((2, batch, width)),
        losses=np.zeros(batch),
        losses2=np.zeros(batch),
        grad=np.zeros(n_params),
        work=np.zeros(n_params),
        err=np.zeros(width),
        coef=np.zeros(max(n_probes, 1)),
        noise=np.zeros((n_layers, batch, width)),
        compact=np.zeros(batch * int(sizes[1:].sum())),
        H_pop=np.zeros((population, n_layers + 1, batch, width)),
        losses_pop=np.zeros((population, batch)),
        work_pop=np.zeros((population, n_params)),
        eps_pop=np.zeros((population, n_params)),
        xi=np.zeros(n_params),
        fit=np.zeros((population, 2)),
        ranks=np.zeros((population, 2)),
    )


def scratch_for(params, sizes, batch: int, n_params: int) -> Scratch:
    """:func:`make_scratch` sized for the rule of the parameter group ``params``."""
    population = getattr(params, "population", 1)
    n_probes = getattr(params, "n_probes", population)
    return make_scratch(sizes, batch, n_params, n_probes, population)


class BackpropParams(NamedTuple):
    """Stochastic gradient descent with the exact gradient."""

    learning_rate: float


class WeightPerturbationParams(NamedTuple):
    """Gaussian weight perturbation; forward or (``antithetic``) central differences."""

    learning_rate: float
    sigma: float
    n_probes: int
    antithetic: bool


class NodePerturbationParams(NamedTuple):
    """Gaussian noise on every pre-activation of every sample."""

    learning_rate: float
    sigma: float
    n_probes: int


class SPSAParams(NamedTuple):
    """SPSA in MeZO form with Rademacher (``rademacher``) or Gaussian directions."""

    learning_rate: float
    sigma: float
    n_probes: int
    rademacher: bool


class ForwardGradientParams(NamedTuple):
    """Directional derivatives along Gaussian directions (forward mode)."""

    learning_rate: float
    n_probes: int


class EvolutionStrategiesParams(NamedTuple):
    """Antithetic Gaussian ES over ``population`` pairs; ``centered_ranks`` fitness shaping."""

    learning_rate: float
    sigma: float
    population: int
    centered_ranks: bool


class OUWeightNoiseParams(NamedTuple):
    """Reward-modulated Ornstein-Uhlenbeck weight noise."""

    learning_rate: float
    sigma: float
    mean_reversion: float
    reward_rate: float


# ----------------------------------------------------------------------------- estimators
# Every estimator takes ``(params, theta, net, data, idx, seed, step, scratch)``, writes its
# gradient estimate into ``scratch.grad`` and returns ``(queries, loss_it_saw)``.
@njit(cache=True, fastmath=FASTMATH)
def estimate_wp(params, theta, net, data, idx, seed, step, scratch):
    """Weight perturbation: Gaussian ``xi``; forward difference against the unperturbed loss
    or, with ``antithetic``, the central difference. Returns ``(queries, clean_or_mean_loss)``."""
    sizes, w_off, b_off, act, loss = net
    X, Y = data
    sigma, n_probes, antithetic = params.sigma, params.n_probes, params.antithetic
    H, losses, work, xi, grad = scratch.H, scratch.losses, scratch.work, scratch.xi, scratch.grad
    d = theta.shape[0]
    grad[:] = 0.0
    queries = 0
    base = 0.0
    if not antithetic:
        base = batch_loss(theta, sizes, w_off, b_off, act, loss, X, Y, idx, H, losses)
        queries += 1
    mean_loss = 0.0
    for k in range(n_probes):
        fill_direction(noise_key(seed, step, k), 0, xi)
        for i in range(d):
            work[i] = theta[i] + sigma * xi[i]
        plus = batch_loss(work, sizes, w_off, b_off, act, loss, X, Y, idx, H, losses)
        queries += 1
        if antithetic:
            for i in range(d):
                work[i] = theta[i] - sigma * xi[i]
            minus = batch_loss(work, sizes, w_off, b_off, act, loss, X, Y, idx, H, losses)
            queries += 1
            coef = (plus - minus) / (2.0 * sigma * n_probes)
            mean_loss += 0.5 * (plus + minus) / n_probes
        else:
            coef = (plus - base) / (sigma * n_probes)
        for i in range(d):
            grad[i] += coef * xi[i]
    return queries, (mean_loss if antithetic else base)


@njit(cache=True, fastmath=FASTMATH)
def estimate_np(params, theta, net, data, idx, seed, step, scratch):
    """Node perturbation: Gaussian noise on every pre-activation of every sample;
    ``dW_l = (dL_n / sigma) xi_l,n h_(l-1),n^T`` averaged over samples and probes, with the
    presynaptic activity ``h`` of the clean pass. The noise of a probe is one ziggurat stream
    (:func:`ziggurat_at`), layer by layer, sample by sample (``scratch.compact`` holds it,
    ``batch * sum(sizes[1:])`` numbers).
    Returns ``(queries, clean_loss)``."""
    sizes, w_off, b_off, act, loss = net
    X, Y = data
    sigma, n_probes = params.sigma, params.n_probes
    H, H_clean, noise, compact = scratch.H, scratch.H2, scratch.noise, scratch.compact
    losses, clean_losses, grad = scratch.losses, scratch.losses2, scratch.grad
    n_layers = sizes.shape[0] - 1
    batch = idx.shape[0]
    grad[:] = 0.0
    first = np.empty((batch, sizes[1]))
    _forward(theta, sizes, w_off, b_off, act, X, idx, H_clean, H_clean, 0.0, first, 1)
    base = sample_losses(H_clean, sizes, loss, Y, idx, clean_losses)
    queries = 1
    scale = 1.0 / (sigma * batch * n_probes)
    for k in range(n_probes):
        fill_ziggurat(noise_key(seed, step, k), 0, compact)
        pos = 0
        for layer in range(n_layers):
            for n in range(batch):
                for i in range(sizes[layer + 1]):
                    noise[layer, n, i] = compact[pos]
                    pos += 1
        _forward(theta, sizes, w_off, b_off, act, X, idx, H, noise, sigma, first, 2)
        sample_losses(H, sizes, loss, Y, idx, losses)
        queries += 1
        for layer in range(n_layers):
            n_in = sizes[layer]
            n_out = sizes[layer + 1]
            wo = w_off[layer]
            bo = b_off[layer]
            E = np.empty((batch, n_out))
            for n in range(batch):
                c = (losses[n] - clean_losses[n]) * scale
                for i in range(n_out):
                    E[n, i] = c * noise[layer, n, i]
                    if bo >= 0:
                        grad[bo + i] += E[n, i]
            Hl = np.ascontiguousarray(H_clean[layer, :batch, :n_in])
            _weights(grad, wo, n_in, n_out)[:, :] += np.dot(Hl.T, E)
    return queries, base


@njit(cache=True, fastmath=FASTMATH)
def _spsa_z(key, i, rademacher):
    return sign_at(key, i) if rademacher else gauss_at(key, i)


@njit(cache=True, fastmath=FASTMATH)
def estimate_spsa(params, theta, net, data, idx, seed, step, scratch):
    """SPSA in MeZO form: ``theta`` is perturbed in place (+sigma z, -2 sigma z, +sigma z) and
    only the projected gradients ``scratch.coef[k] = (L+ - L-) / (2 sigma)`` are kept (the
    gradient is :func:`spsa_direction_sum` of them). Returns ``(queries, mean_loss)``."""
    sizes, w_off, b_off, act, loss = net
    X, Y = data
    sigma, n_probes, rademacher = params.sigma, params.n_probes, params.rademacher
    H, losses, coef = scratch.H, scratch.losses, scratch.coef
    d = theta.shape[0]
    mean_loss = 0.0
    for k in range(n_probes):
        key = noise_key(seed, step, k)
        for i in range(d):
            theta[i] += sigma * _spsa_z(key, i, rademacher)
        plus = batch_loss(theta, sizes, w_off, b_off, act, loss, X, Y, idx, H, losses)
        for i in range(d):
            theta[i] -= 2.0 * sigma * _spsa_z(key, i, rademacher)
        minus = batch_loss(theta, sizes, w_off, b_off, act, loss, X, Y, idx, H, losses)
        for i in range(d):
            theta[i] += sigma * _spsa_z(key, i, rademacher)
        coef[k] = (plus - minus) / (2.0 * sigma)
        mean_loss += 0.5 * (plus + minus) / n_probes
    return 2 * n_probes, mean_loss


@njit(cache=True, fastmath=FASTMATH)
def spsa_direction_sum(seed, step, n_probes, rademacher, coef, scale, out):
    """``out += scale * sum_k coef[k] z_k`` with the directions ``z_k`` regenerated."""
    for k in range(n_probes):
        key = noise_key(seed, step, k)
        c = scale * coef[k]
        for i in range(out.shape[0]):
            out[i] += c * _spsa_z(key, i, rademacher)


@njit(cache=True, fastmath=FASTMATH)
def spsa_gradient(params, theta, net, data, idx, seed, step, scratch):
    """The SPSA gradient estimate ``mean_k coef[k] z_k`` in ``scratch.grad`` (the training
    step never forms it: it applies the directions one by one)."""
    q, value = estimate_spsa(params, theta, net, data, idx, seed, step, scratch)
    scratch.grad[:] = 0.0
    n_probes = params.n_probes
    spsa_direction_sum(
        seed, step, n_probes, params.rademacher, scratch.coef, 1.0 / n_probes, scratch.grad
    )
    return q, value


@njit(cache=True, fastmath=FASTMATH)
def estimate_fg(params, theta, net, data, idx, seed, step, scratch):
    """Forward gradient: ``g = mean_k (grad L . u_k) u_k`` with Gaussian ``u_k``.
    Returns ``(queries, 0.0)`` (a JVP pass does not report the loss)."""
    sizes, w_off, b_off, act, loss = net
    X, Y = data
    n_probes = params.n_probes
    H, T, err, u, grad = scratch.H, scratch.H2, scratch.err, scratch.work, scratch.grad
    d = theta.shape[0]
    grad[:] = 0.0
    for k in range(n_probes):
        key = noise_key(seed, step, k)
        fill_direction(key, 0, u)
        s = directional_derivative(theta, u, sizes, w_off, b_off, act, loss, X, Y, idx, H, T, err)
        for i in range(d):
            grad[i] += s * u[i] / n_probes
    return n_probes, 0.0


@njit(cache=True, fastmath=FASTMATH)
def es_population_losses(params, theta, net, data, idx, seed, step, scratch):
    """Losses of the antithetic population, evaluated together in one call (each member has
    its own scratch slice, so the loop can run member-parallel; it is serial here because a
    2-core shared machine ran it 4x slower with ``prange``):
    ``scratch.fit[p, 0] = L(theta + sigma eps_p)``, ``scratch.fit[p, 1] = L(theta - sigma
    eps_p)``; the directions are left in ``scratch.eps_pop``."""
    sizes, w_off, b_off, act, loss = net
    X, Y = data
    sigma = params.sigma
    H_pop, losses_pop, work_pop = scratch.H_pop, scratch.losses_pop, scratch.work_pop
    eps_pop, out = scratch.eps_pop, scratch.fit
    d = theta.shape[0]
    for p in range(params.population):
        eps = eps_pop[p]
        fill_direction(noise_key(seed, step, p), 0, eps)
        work = work_pop[p]
        for sgn in range(2):
            s = sigma if sgn == 0 else -sigma
            for i in range(d):
                work[i] = theta[i] + s * eps[i]
            out[p, sgn] = batch_loss(
                work, sizes, w_off, b_off, act, loss, X, Y, idx, H_pop[p], losses_pop[p]
            )


@njit(cache=True, fastmath=FASTMATH)
def centered_ranks(values, out):
    """Centred ranks of ``values.ravel()`` in ``[-0.5, 0.5]`` (ties broken by position)."""
    flat = values.ravel()
    order = np.argsort(flat, kind="mergesort")
    n = flat.shape[0]
    res = out.ravel()
    for r in range(n):
        res[order[r]] = r / (n - 1) - 0.5 if n > 1 else 0.0


@njit(cache=True, fastmath=FASTMATH)
def es_gradient(sigma, population, fitness, eps_pop, grad):
    """``g = sum_p (F+_p - F-_p) eps_p / (2 sigma P)`` from the population's fitness."""
    grad[:] = 0.0
    d = grad.shape[0]
    for p in range(population):
        c = (fitness[p, 0] - fitness[p, 1]) / (2.0 * sigma * population)
        for i in range(d):
            grad[i] += c * eps_pop[p, i]


@njit(cache=True, fastmath=FASTMATH)
def estimate_es(params, theta, net, data, idx, seed, step, scratch):
    """Evolution strategies: the population's losses, optionally shaped into centred ranks,
    then :func:`es_gradient`. Returns ``(queries, mean_loss)``."""
    es_population_losses(params, theta, net, data, idx, seed, step, scratch)
    population = params.population
    fit = scratch.fit
    value = 0.0
    for p in range(population):
        value += 0.5 * (fit[p, 0] + fit[p, 1]) / population
    if params.centered_ranks:
        centered_ranks(fit, scratch.ranks)
        es_gradient(params.sigma, population, scratch.ranks, scratch.eps_pop, scratch.grad)
    else:
        es_gradient(params.sigma, population, fit, scratch.eps_pop, scratch.grad)
    return 2 * population, value


# ----------------------------------------------------------------------------- rule steps
# Every step takes ``(params, theta, ou, net, data, idx, seed, step, scratch)``, updates
# ``theta`` (and ``ou`` for the OU rule) in place and returns ``(queries, loss_it_saw)``.
@njit(cache=True, fastmath=FASTMATH)
def _descend(theta, learning_rate, grad):
    for i in range(theta.shape[0]):
        theta[i] -= learning_rate * grad[i]


@njit(cache=True, fastmath=FASTMATH)
def backprop_step(params, theta, ou, net, data, idx, seed, step, scratch):
    """One step of gradient descent with the backpropagated gradient."""
    sizes, w_off, b_off, act, loss = net
    value = backprop(
        theta,
        sizes,
        w_off,
        b_off,
        act,
        loss,
        data.X,
        data.Y,
        idx,
        scratch.H,
        scratch.delta,
        scratch.losses,
        scratch.grad,
    )
    _descend(theta, params.learning_rate, scratch.grad)
    return 1, value


@njit(cache=True, fastmath=FASTMATH)
def weight_perturbation_step(params, theta, ou, net, data, idx, seed, step, scratch):
    """One weight-perturbation step (:func:`estimate_wp`, then descent)."""
    q, value = estimate_wp(params, theta, net, data, idx, seed, step, scratch)
    _descend(theta, params.learning_rate, scratch.grad)
    return q, value


@njit(cache=True, fastmath=FASTMATH)
def node_perturbation_step(params, theta, ou, net, data, idx, seed, step, scratch):
    """One node-perturbation step (:func:`estimate_np`, then descent)."""
    q, value = estimate_np(params, theta, net, data, idx, seed, step, scratch)
    _descend(theta, params.learning_rate, scratch.grad)
    return q, value


@njit(cache=True, fastmath=FASTMATH)
def spsa_step(params, theta, ou, net, data, idx, seed, step, scratch):
    """One SPSA step: the update is applied direction by direction, regenerated from seeds."""
    q, value = estimate_spsa(params, theta, net, data, idx, seed, step, scratch)
    n_probes = params.n_probes
    spsa_direction_sum(
        seed,
        step,
        n_probes,
        params.rademacher,
        scratch.coef,
        -params.learning_rate / n_probes,
        theta,
    )
    return q, value


@njit(cache=True, fastmath=FASTMATH)
def forward_gradient_step(params, theta, ou, net, data, idx, seed, step, scratch):
    """One forward-gradient step (:func:`estimate_fg`, then descent)."""
    q, value = estimate_fg(params, theta, net, data, idx, seed, step, scratch)
    _descend(theta, params.learning_rate, scratch.grad)
    return q, value


@njit(cache=True, fastmath=FASTMATH)
def evolution_strategies_step(params, theta, ou, net, data, idx, seed, step, scratch):
    """One evolution-strategies step (:func:`estimate_es`, then descent)."""
    q, value = estimate_es(params, theta, net, data, idx, seed, step, scratch)
    _descend(theta, params.learning_rate, scratch.grad)
    return q, value


@njit(cache=True, fastmath=FASTMATH)
def ou_weight_noise_step(params, theta, ou, net, data, idx, seed, step, scratch):
    """One OU step: reward-prediction error moves the mean, the weights relax towards it and
    fluctuate."""
    sizes, w_off, b_off, act, loss = net
    value = batch_loss(
        theta, sizes, w_off, b_off, act, loss, data.X, data.Y, idx, scratch.H, scratch.losses
    )
    ou_mean, ou_reward, xi = ou.mean, ou.reward, scratch.xi
    learning_rate, mean_reversion, sigma = (
        params.learning_rate,
        params.mean_reversion,
        params.sigma,
    )
    reward = -value
    if ou_reward[1] == 0.0:
        ou_reward[0] = reward
        ou_reward[1] = 1.0
    rpe = reward - ou_reward[0]
    fill_direction(noise_key(seed, step, 0), 0, xi)
    for i in range(theta.shape[0]):
        ou_mean[i] += learning_rate * rpe * (theta[i] - ou_mean[i])
        theta[i] += mean_reversion * (ou_mean[i] - theta[i]) + sigma * xi[i]
    ou_reward[0] += params.reward_rate * (reward - ou_reward[0])
    return 1, value


#: The gradient estimator of each perturbation rule's parameter group: writes the estimate
#: into ``scratch.grad`` and returns ``(queries, loss_it_saw)``.
RULE_ESTIMATES = {
    WeightPerturbationParams: estimate_wp,
    NodePerturbationParams: estimate_np,
    SPSAParams: spsa_gradient,
    ForwardGradientParams: estimate_fg,
    EvolutionStrategiesParams: estimate_es,
}

#: Each rule's parameter group and its step: :func:`rule_step` dispatches on the group's type
#: at compile time, so the training loop is compiled (and cached) once per rule.
RULE_STEPS = {
    BackpropParams: backprop_step,
    WeightPerturbationParams: weight_perturbation_step,
    NodePerturbationParams: node_perturbation_step,
    SPSAParams: spsa_step,
    ForwardGradientParams: forward_gradient_step,
    EvolutionStrategiesParams: evolution_strategies_step,
    OUWeightNoiseParams: ou_weight_noise_step,
}


def rule_step(params, theta, ou, net, data, idx, seed, step, scratch):
    """The step of the rule whose parameter group ``params`` is (see :data:`RULE_STEPS`)."""
    return RULE_STEPS[type(params)](params, theta, ou, net, data, idx, seed, step, scratch)


@overload(rule_step, jit_options={"fastmath": FASTMATH})
def _rule_step_typed(params, theta, ou, net, data, idx, seed, step, scratch):
    fn = RULE_STEPS.get(getattr(params, "instance_class", None))
    if fn is None:
        return None

    def impl(params, theta, ou, net, data, idx, seed, step, scratch):
        return fn(params, theta, ou, net, data, idx, seed, step, scratch)

    return impl


# ----------------------------------------------------------------------------- training loops
@njit(cache=True, fastmath=FASTMATH)
def _any_nonfinite(x):
    for i in range(x.shape[0]):
        if not math.isfinite(x[i]):
            return True
    return False


@njit(cache=True, fastmath=FASTMATH)
def train_steps(params, theta, ou, net, data, batches, step0, seed, scratch, step_loss):
    """Run ``batches.shape[0]`` steps of the rule given by its parameter group ``params``
    (one of the ``*Params`` tuples) in place.

    ``theta`` is updated in place; ``ou`` (:class:`OUState`) carries the OU rule's state
    between calls; ``net`` is an :class:`MLPLayout`, ``data`` a :class:`Data`, ``scratch``
    from :func:`make_scratch`. ``step_loss[s]`` receives the mini-batch loss the rule saw at
    step s. Returns ``(queries, first_bad_step)``; ``first_bad_step`` is -1 when every value
    stayed finite, else the global step at which a non-finite value appeared (training stops
    there).
    """
    queries = 0
    for s in range(batches.shape[0]):
        step = step0 + s
        q, value = rule_step(params, theta, ou, net, data, batches[s], seed, step, scratch)
        queries += q
        step_loss[s] = value
        if not math.isfinite(value) or _any_nonfinite(theta):
            return queries, step
    return queries, -1
