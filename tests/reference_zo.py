"""Naive numpy reference of the zeroth-order kernels: same hash noise (Box-Muller for weight
noise, the ziggurat for node noise), same math, plain loops over steps and probes, matrices
instead of index arithmetic."""

from __future__ import annotations

import math

import numpy as np

M1 = np.uint64(0xBF58476D1CE4E5B9)
M2 = np.uint64(0x94D049BB133111EB)
G1 = np.uint64(0x9E3779B97F4A7C15)
G2 = np.uint64(0xD1B54A32D192ED03)


def mix(z):
    z = np.asarray(z, dtype=np.uint64)
    with np.errstate(over="ignore"):
        z = (z ^ (z >> np.uint64(30))) * M1
        z = (z ^ (z >> np.uint64(27))) * M2
        return z ^ (z >> np.uint64(31))


def key_of(seed, step, probe):
    with np.errstate(over="ignore"):
        a = mix(np.uint64(seed) + np.uint64(step) * G1)
        return mix(a + (np.uint64(probe) + np.uint64(1)) * G2)


def _hashes(key, n):
    with np.errstate(over="ignore"):
        return mix(np.uint64(key) + (np.arange(n, dtype=np.uint64) + np.uint64(1)) * G1)


def gauss(key, n):
    """Box-Muller on hash m gives numbers 2m (cosine) and 2m + 1 (sine)."""
    h = _hashes(key, (n + 1) // 2)
    u1 = ((h >> np.uint64(32)).astype(np.float64) + 0.5) * 2.0**-32
    u2 = ((h & np.uint64(0xFFFFFFFF)).astype(np.float64) + 0.5) * 2.0**-32
    r = np.sqrt(-2.0 * np.log(u1))
    both = np.stack([r * np.cos(2.0 * np.pi * u2), r * np.sin(2.0 * np.pi * u2)], axis=1)
    return both.ravel()[:n]


def _zig_tables(layers=128):
    """Ziggurat edges for exp(-x^2/2): bisection on r until the top layer closes at x = 0."""

    def edges_for(r):
        area = r * math.exp(-r * r / 2) + math.sqrt(math.pi / 2) * math.erfc(r / math.sqrt(2))
        xs = [area / math.exp(-r * r / 2), r]
        for _ in range(layers - 2):
            y = math.exp(-(xs[-1] ** 2) / 2) + area / xs[-1]
            if y >= 1:
                return None
            xs.append(math.sqrt(-2 * math.log(y)))
        closing = math.exp(-(xs[-1] ** 2) / 2) + area / xs[-1]
        return None if closing > 1 else xs + [0.0]

    lo, hi = 2.0, 5.0
    for _ in range(200):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if edges_for(mid) is None else (lo, mid)
    xs = np.array(edges_for(hi))
    return hi, xs, np.exp(-xs * xs / 2)


def ziggurat(key, n):
    """Number i: hash of key + (i+1) G1 + attempt G2 -> layer (7 bits), sign (bit 7), abscissa
    (top 53 bits); wedge and tail tests from further hashes."""
    r, xs, fs = _zig_tables()
    out = np.empty(n)
    with np.errstate(over="ignore"):
        for i in range(n):
            base = np.uint64(key) + np.uint64(i + 1) * G1
            attempt = 0
            while True:
                h = mix(base + np.uint64(attempt) * G2)
                layer = int(h & np.uint64(127))
                sign = -1.0 if int(h >> np.uint64(7)) & 1 else 1.0
                x = int(h >> np.uint64(11)) * 2.0**-53 * xs[layer]
                if x < xs[layer + 1]:
                    break
                h1 = mix(h + G1)
                if layer == 0:
                    u1 = 1.0 - int(h1 >> np.uint64(11)) * 2.0**-53
                    u2 = 1.0 - int(mix(h1 + G1) >> np.uint64(11)) * 2.0**-53
                    xt = -math.log(u1) / r
                    if -2.0 * math.log(u2) > xt * xt:
                        x = r + xt
                        break
                else:
                    y = fs[layer] + int(h1 >> np.uint64(11)) * 2.0**-53 * (
                        fs[layer + 1] - fs[layer]
                    )
                    if y < math.exp(-x * x / 2):
                        break
                attempt += 1
            out[i] = sign * x
    return out


def signs(key, n):
    return np.where((_hashes(key, n) >> np.uint64(63)) == 1, 1.0, -1.0)


class RefMLP:
    """Unpacks the flat vector into matrices; tanh/relu/linear hidden layers, linear output."""

    def __init__(self, sizes, act, loss, bias, out_act="linear"):
        self.sizes, self.act, self.loss, self.bias = list(sizes), act, loss, bias
        self.out_act = out_act

    def unpack(self, theta):
        out, pos = [], 0
        for n_in, n_out in zip(self.sizes[:-1], self.sizes[1:], strict=True):
            w = theta[pos : pos + n_in * n_out].reshape(n_in, n_out).T
            pos += n_in * n_out
            b = np.zeros(n_out)
            if self.bias:
                b = theta[pos : pos + n_out]
                pos += n_out
            out.append((w, b))
        return out

    def pack(self, layers):
        parts = []
        for w, b in layers:
            parts.append(w.T.ravel())
            if self.bias:
                parts.append(b)
        return np.concatenate(parts)

    def phi(self, a, name=None):
        return {
            "tanh": np.tanh,
            "relu": lambda v: np.maximum(v, 0.0),
            "linear": lambda v: v,
            "sigmoid": lambda v: 1 / (1 + np.exp(-v)),
        }[name or self.act](a)

    def dphi(self, h, name=None):
        name = name or self.act
        if name == "tanh":
            return 1 - h**2
        if name == "relu":
            return (h > 0).astype(float)
        if name == "sigmoid":
            return h * (1 - h)
        return np.ones_like(h)

    def forward(self, theta, X, node_noise=None, sigma=0.0):
        hs = [X]
        layers = self.unpack(theta)
        for i, (w, b) in enumerate(layers):
            a = hs[-1] @ w.T + b
            if node_noise is not None:
                a = a + sigma * node_noise[i]
            hs.append(self.phi(a, self.out_act) if i == len(layers) - 1 else self.phi(a))
        return hs

    def sample_losses(self, out, Y):
        if self.loss == "squared":
            return 0.5 * np.sum((out - Y) ** 2, axis=1)
        m = out.max(axis=1, keepdims=True)
        logz = m[:, 0] + np.log(np.exp(out - m).sum(axis=1))
        return np.sum(Y * (logz[:, None] - out), axis=1)

    def mean_loss(self, theta, X, Y):
        return float(self.sample_losses(self.forward(theta, X)[-1], Y).mean())

    def out_error(self, out, Y):
        if self.loss == "squared":
            return (out - Y) * self.dphi(out, self.out_act)
        p = np.exp(out - out.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        return p * Y.sum(axis=1, keepdims=True) - Y

    def gradient(self, theta, X, Y):
        hs = self.forward(theta, X)
        layers = self.unpack(theta)
        delta = self.out_error(hs[-1], Y) / X.shape[0]
        grads = []
        for i in range(len(layers) - 1, -1, -1):
            w, _ = layers[i]
            grads.append((delta.T @ hs[i], delta.sum(axis=0)))
            if i > 0:
                delta = (delta @ w) * self.dphi(hs[i])
        return self.pack(grads[::-1])


def reference_train(net: RefMLP, rule, theta, X, Y, batches, seed, p):
    """Plain loop of ``rule`` (kernel names) over ``batches``; returns (theta, queries, losses)."""
    theta = theta.copy()
    d = theta.size
    q = p["n_probes"]
    sigma, lr = p["sigma"], p["learning_rate"]
    mu, rbar, started = theta.copy(), 0.0, False
    queries, seen = 0, []
    for step, idx in enumerate(batches):
        x, y = X[idx], Y[idx]
        if rule == "backprop":
            seen.append(net.mean_loss(theta, x, y))
            theta = theta - lr * net.gradient(theta, x, y)
            queries += 1
        elif rule == "weight-perturbation":
            g = np.zeros(d)
            base = net.mean_loss(theta, x, y)
            queries += 1
            for k in range(q):
                xi = gauss(key_of(seed, step, k), d)
                g += (net.mean_loss(theta + sigma * xi, x, y) - base) / (sigma * q) * xi
                queries += 1
            seen.append(base)
            theta = theta - lr * g
        elif rule == "node-perturbation":
            hs = net.forward(theta, x)
            clean = net.sample_losses(hs[-1], y)
            queries += 1
            grads = [
                (np.zeros((o, i)), np.zeros(o))
                for i, o in zip(net.sizes[:-1], net.sizes[1:], strict=True)
            ]
            for k in range(q):
                z = ziggurat(key_of(seed, step, k), len(idx) * sum(net.sizes[1:]))
                ends = np.cumsum([len(idx) * o for o in net.sizes[1:]])[:-1]
                noise = [
                    blk.reshape(len(idx), o)
                    for blk, o in zip(np.split(z, ends), net.sizes[1:], strict=True)
                ]
                noisy = net.sample_losses(net.forward(theta, x, noise, sigma)[-1], y)
                queries += 1
                c = (noisy - clean) / (sigma * len(idx) * q)
                for i in range(len(grads)):
                    grads[i][0][...] += (c[:, None] * noise[i]).T @ hs[i]
                    grads[i][1][...] += (c[:, None] * noise[i]).sum(axis=0)
            seen.append(float(clean.mean()))
            theta = theta - lr * net.pack(grads)
        elif rule == "spsa":
            draw = signs if p["direction"] == "rademacher" else gauss
            cs, value = [], 0.0
            for k in range(q):
                z = draw(key_of(seed, step, k), d)
                plus = net.mean_loss(theta + sigma * z, x, y)
                minus = net.mean_loss(theta - sigma * z, x, y)
                cs.append((plus - minus) / (2 * sigma))
                value += 0.5 * (plus + minus) / q
                queries += 2
            for k in range(q):
                theta = theta - lr / q * cs[k] * draw(key_of(seed, step, k), d)
            seen.append(value)
        elif rule == "forward-gradient":
            grad = net.gradient(theta, x, y)
            g = np.zeros(d)
            for k in range(q):
                u = gauss(key_of(seed, step, k), d)
                g += (grad @ u) * u / q
                queries += 1
            seen.append(0.0)
            theta = theta - lr * g
        elif rule == "evolution-strategies":
            fit = np.zeros((q, 2))
            eps = [gauss(key_of(seed, step, k), d) for k in range(q)]
            for k in range(q):
                fit[k, 0] = net.mean_loss(theta + sigma * eps[k], x, y)
                fit[k, 1] = net.mean_loss(theta - sigma * eps[k], x, y)
                queries += 2
            seen.append(float(fit.mean()))
            if p["fitness_shaping"] == "centered-ranks":
                ranks = np.empty(2 * q)
                ranks[np.argsort(fit.ravel(), kind="stable")] = np.arange(2 * q) / (2 * q - 1) - 0.5
                fit = ranks.reshape(q, 2)
            g = sum((fit[k, 0] - fit[k, 1]) * eps[k] for k in range(q)) / (2 * sigma * q)
            theta = theta - lr * g
        elif rule == "ou-weight-noise":
            value = net.mean_loss(theta, x, y)
            queries += 1
            reward = -value
            if not started:
                rbar, started = reward, True
            rpe = reward - rbar
            mu = mu + lr * rpe * (theta - mu)
            theta = (
                theta + p["mean_reversion"] * (mu - theta) + sigma * gauss(key_of(seed, step, 0), d)
            )
            rbar += p["reward_rate"] * (reward - rbar)
            seen.append(value)
        else:
            raise ValueError(rule)
    final = mu if rule == "ou-weight-noise" else theta
    return final, queries, np.array(seen)
