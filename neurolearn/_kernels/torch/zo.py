"""The zeroth-order rules in PyTorch for large MLPs (CPU or CUDA), at inference memory.

Parameters are a list of ``(W, b)`` tensors, ``W`` of shape ``(n_in, n_out)`` (inputs x
outputs, the layout of the numba kernels' flat vector) and ``b`` possibly None. SPSA works in
MeZO form: each tensor is perturbed in place by a direction drawn from a generator seeded by
``(seed, step, probe, tensor)`` and the same direction is drawn again for the restore and the
update, so at most one tensor-sized temporary exists at a time. The forward gradient is a
hand-written forward-mode pass that draws each layer's tangent on the fly, for the same reason.
Backprop (autograd) is there for comparison.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "stream_seed",
    "mlp_forward",
    "mean_loss",
    "spsa_step_",
    "forward_gradient_step_",
    "backprop_step_",
    "init_mlp",
]

_MASK = (1 << 64) - 1


def _mix(z: int) -> int:
    z &= _MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
    return z ^ (z >> 31)


def stream_seed(seed: int, step: int, probe: int, tensor: int) -> int:
    """A 63-bit generator seed for one tensor's direction (splitmix64 of the four indices)."""
    seed, step, probe, tensor = int(seed), int(step), int(probe), int(tensor)
    z = _mix(seed + step * 0x9E3779B97F4A7C15)
    z = _mix(z + (probe + 1) * 0xD1B54A32D192ED03)
    return _mix(z + (tensor + 1) * 0x9E3779B97F4A7C15) >> 1


def _activate(torch, a, name):
    if name == "tanh":
        return torch.tanh(a)
    if name == "relu":
        return torch.relu(a)
    if name == "sigmoid":
        return torch.sigmoid(a)
    return a


def _dactivate(torch, h, name):
    if name == "tanh":
        return 1 - h * h
    if name == "relu":
        return (h > 0).to(h.dtype)
    if name == "sigmoid":
        return h * (1 - h)
    return torch.ones_like(h)


def init_mlp(layer_sizes, *, bias=True, init_scale=1.0, seed=0, device="cpu", dtype=None):
    """LeCun-normal weights (times ``init_scale``) and zero biases, from a seeded generator."""
    import torch

    dtype = dtype or torch.float32
    gen = torch.Generator(device=device).manual_seed(int(seed))
    params = []
    for n_in, n_out in zip(layer_sizes[:-1], layer_sizes[1:], strict=True):
        w = torch.randn(n_in, n_out, generator=gen, device=device, dtype=dtype)
        w.mul_(init_scale / math.sqrt(n_in))
        b = torch.zeros(n_out, device=device, dtype=dtype) if bias else None
        params.append((w, b))
    return params


def mlp_forward(params, x, activation="tanh", output_activation="linear"):
    """Output of the MLP for a batch ``x`` (logits for cross-entropy)."""
    import torch

    h = x
    for layer, (w, b) in enumerate(params):
        a = h @ w
        if b is not None:
            a = a + b
        last = layer == len(params) - 1
        h = _activate(torch, a, output_activation if last else activation)
    return h


def mean_loss(out, y, loss="cross-entropy"):
    """Mean mini-batch loss: softmax cross-entropy (one-hot ``y``) or ``0.5 |out - y|^2``."""
    import torch

    if loss == "squared":
        return 0.5 * ((out - y) ** 2).sum(dim=1).mean()
    return -(y * torch.log_softmax(out, dim=1)).sum(dim=1).mean()


def _tensors(params):
    for w, b in params:
        yield w
        if b is not None:
            yield b


#: directions are drawn in blocks of whole rows of about this many numbers, so the largest
#: temporary is ~1 MB (float32) whatever the layer size
CHUNK = 1 << 18


def _row_blocks(t):
    """``(start, stop)`` row ranges of a tensor viewed as ``(rows, cols)``."""
    rows = t.shape[0]
    cols = t.numel() // rows if rows else 1
    per = max(1, CHUNK // max(cols, 1))
    return [(r, min(r + per, rows)) for r in range(0, rows, per)], cols


class _Stream:
    """Successive blocks of one tensor's direction: a seeded torch generator, or the numba
    kernels' hash stream at a flat offset (``where = (key, offset)``)."""

    def __init__(self, torch, t, where, direction):
        self.torch, self.t, self.direction = torch, t, direction
        self.hash = isinstance(where, tuple)
        if self.hash:
            self.key, self.pos = where
        else:
            self.gen = torch.Generator(device=t.device).manual_seed(where)

    def next(self, shape):
        torch, t = self.torch, self.t
        n = math.prod(shape)
        if self.hash:
            from neurolearn._kernels.numba.zo import fill_direction_range

            out = np.empty(n)
            fill_direction_range(
                np.uint64(self.key), 0 if self.direction == "gaussian" else 1, self.pos, out
            )
            self.pos += n
            return torch.from_numpy(out).to(device=t.device, dtype=t.dtype).reshape(shape)
        if self.direction == "gaussian":
            return torch.randn(shape, generator=self.gen, device=t.device, dtype=t.dtype)
        z = torch.randint(0, 2, shape, generator=self.gen, device=t.device, dtype=t.dtype)
        return z.mul_(2).sub_(1)


def _stream(seed, step, probe, j, offsets):
    """Generator seed of tensor ``j``, or ``(key, flat offset)`` in hash mode."""
    if offsets is None:
        return stream_seed(seed, step, probe, j)
    from neurolearn._kernels.numba.zo import noise_key

    return int(noise_key(np.uint64(seed), step, probe)), offsets[j]


def _shift_(torch, params, seed, step, probe, scale, direction, offsets=None):
    """``theta += scale * z`` block by block, ``z`` drawn from its stream."""
    for j, t in enumerate(_tensors(params)):
        stream = _Stream(torch, t, _stream(seed, step, probe, j, offsets), direction)
        blocks, cols = _row_blocks(t)
        flat = t.view(t.shape[0], -1) if t.dim() > 1 else t.view(-1, 1)
        for lo, hi in blocks:
            z = stream.next((hi - lo, cols))
            flat[lo:hi].add_(z, alpha=scale)
            del z


def spsa_step_(
    params,
    x,
    y,
    *,
    seed,
    step,
    sigma,
    learning_rate,
    n_probes=1,
    direction="rademacher",
    activation="tanh",
    output_activation="linear",
    loss="cross-entropy",
    offsets=None,
):
    """One MeZO-style SPSA step in place; returns ``(mean probed loss, queries)``.

    ``theta += sigma z; L+; theta -= 2 sigma z; L-; theta += sigma z`` for each probe, then
    ``theta -= lr / q * sum_k (L+ - L-) / (2 sigma) z_k`` with every ``z_k`` drawn again.
    With one probe the restore and the update are one pass, ``theta += (sigma - lr c) z``
    (three draws of ``z`` per step instead of four). ``offsets`` (flat offsets of the tensors)
    switches to the numba kernels' hash stream.
    """
    import torch

    coefs, seen = [], 0.0
    with torch.no_grad():
        for k in range(n_probes):
            _shift_(torch, params, seed, step, k, sigma, direction, offsets)
            plus = float(mean_loss(mlp_forward(params, x, activation, output_activation), y, loss))
            _shift_(torch, params, seed, step, k, -2 * sigma, direction, offsets)
            minus = float(mean_loss(mlp_forward(params, x, activation, output_activation), y, loss))
            coef = (plus - minus) / (2 * sigma)
            seen += 0.5 * (plus + minus) / n_probes
            if n_probes == 1:
                _shift_(
                    torch, params, seed, step, k, sigma - learning_rate * coef, direction, offsets
                )
                return seen, 2
            _shift_(torch, params, seed, step, k, sigma, direction, offsets)
            coefs.append(coef)
        for k, c in enumerate(coefs):
            _shift_(torch, params, seed, step, k, -learning_rate * c / n_probes, direction, offsets)
    return seen, 2 * n_probes


def _jvp(torch, params, x, y, seed, step, probe, activation, output_activation, loss, offsets=None):
    """``grad L . u`` with the tangent ``u`` of each tensor drawn when its layer is reached."""
    h, th = x, None
    j = 0
    n_layers = len(params)
    for layer, (w, b) in enumerate(params):
        a = h @ w
        ta = torch.zeros_like(a)
        stream = _Stream(torch, w, _stream(seed, step, probe, j, offsets), "gaussian")
        j += 1
        blocks, cols = _row_blocks(w)
        for lo, hi in blocks:
            uw = stream.next((hi - lo, cols))
            ta += h[:, lo:hi] @ uw
            del uw
        if th is not None:
            ta = ta + th @ w
        if b is not None:
            stream = _Stream(torch, b, _stream(seed, step, probe, j, offsets), "gaussian")
            j += 1
            a = a + b
            for lo, hi in _row_blocks(b)[0]:
                ta[:, lo:hi] += stream.next((hi - lo, 1)).view(-1)
        last = layer == n_layers - 1
        name = output_activation if last else activation
        h = _activate(torch, a, name)
        th = ta if last else _dactivate(torch, h, name) * ta
    if loss == "squared":
        err = (h - y) * _dactivate(torch, h, output_activation)
    else:
        err = torch.softmax(h, dim=1) * y.sum(dim=1, keepdim=True) - y
    value = mean_loss(h, y, loss)
    return float((err * th).sum() / x.shape[0]), float(value)


def forward_gradient_step_(
    params,
    x,
    y,
    *,
    seed,
    step,
    learning_rate,
    n_probes=1,
    activation="tanh",
    output_activation="linear",
    loss="cross-entropy",
    offsets=None,
):
    """One forward-gradient step in place: ``theta -= lr / q sum_k (grad L . u_k) u_k``.

    Returns ``(loss, queries)``; each direction costs one forward-mode pass.
    """
    import torch

    with torch.no_grad():
        slopes, value = [], 0.0
        for k in range(n_probes):
            s, value = _jvp(
                torch, params, x, y, seed, step, k, activation, output_activation, loss, offsets
            )
            slopes.append(s)
        for k, s in enumerate(slopes):
            _shift_(
                torch, params, seed, step, k, -learning_rate * s / n_probes, "gaussian", offsets
            )
    return value, n_probes


def backprop_step_(
    params,
    x,
    y,
    *,
    learning_rate,
    activation="tanh",
    output_activation="linear",
    loss="cross-entropy",
):
    """One SGD step with the autograd gradient; returns ``(loss, queries=1)``."""
    import torch

    tensors = list(_tensors(params))
    for t in tensors:
        t.requires_grad_(True)
    value = mean_loss(mlp_forward(params, x, activation, output_activation), y, loss)
    grads = torch.autograd.grad(value, tensors)
    with torch.no_grad():
        for t, g in zip(tensors, grads, strict=True):
            t.sub_(g, alpha=learning_rate)
    for t in tensors:
        t.requires_grad_(False)
    return float(value.detach()), 1
