"""Zeroth-order rules: numba whole-loop trainers against a straightforward PyTorch CPU loop of
the same rule (same math, same data, same number of queries), and the torch large-model path
(steps per second and peak memory of SPSA / forward gradient / backprop on a 10M-parameter MLP).

Both sides run single-threaded (the numba loop is serial; torch gets ``set_num_threads(1)``),
so the ratio compares implementations, not core counts.
"""

from __future__ import annotations

import time

import numpy as np

SIZES = (64, 32, 10)
BATCH = 32


def _digits():
    from neurolearn.tasks.digits import load_digits_split

    split = load_digits_split(0.25, seed=0)
    return split.x_train, split.y_train


def _ours(rule, X, Y, steps):
    from neurolearn.zo import MLP, train

    net = MLP(layer_sizes=SIZES)
    train(net, rule, X, Y, steps=5, batch_size=BATCH, seed=0, n_records=1)  # compile / warm
    start = time.perf_counter()
    res = train(net, rule, X, Y, steps=steps, batch_size=BATCH, seed=0, n_records=1)
    return time.perf_counter() - start, res.total_queries


class _TorchMLP:
    """The usual PyTorch layers: nn.Linear modules, tanh hidden, cross-entropy."""

    def __init__(self, torch):
        gen = torch.Generator().manual_seed(0)
        self.torch = torch
        self.layers = []
        for n_in, n_out in zip(SIZES[:-1], SIZES[1:], strict=True):
            lin = torch.nn.Linear(n_in, n_out, dtype=torch.float64)
            with torch.no_grad():
                lin.weight.copy_(
                    torch.randn(n_out, n_in, generator=gen, dtype=torch.float64) / np.sqrt(n_in)
                )
                lin.bias.zero_()
            self.layers.append(lin)
        self.params = [p for lin in self.layers for p in lin.parameters()]

    def forward(self, x, noise=None, sigma=0.0):
        h = x
        for i, lin in enumerate(self.layers):
            a = lin(h)
            if noise is not None:
                a = a + sigma * noise[i]
            h = a if i == len(self.layers) - 1 else self.torch.tanh(a)
        return h

    def losses(self, out, labels):
        return self.torch.nn.functional.cross_entropy(out, labels, reduction="none")


def _peer_spsa(torch, X, labels, steps, lr=0.02, sigma=1e-3):
    """SPSA written the usual way: draw z per parameter, perturb, evaluate, restore, update."""
    net = _TorchMLP(torch)
    gen = torch.Generator().manual_seed(1)
    rng = np.random.default_rng(0)
    queries = 0
    start = time.perf_counter()
    with torch.no_grad():
        for _ in range(steps):
            idx = torch.from_numpy(rng.integers(0, X.shape[0], BATCH))
            x, y = X[idx], labels[idx]
            zs = [
                torch.randint(0, 2, p.shape, generator=gen, dtype=p.dtype) * 2 - 1
                for p in net.params
            ]
            for p, z in zip(net.params, zs, strict=True):
                p.add_(sigma * z)
            plus = net.losses(net.forward(x), y).mean()
            for p, z in zip(net.params, zs, strict=True):
                p.sub_(2 * sigma * z)
            minus = net.losses(net.forward(x), y).mean()
            coef = (plus - minus) / (2 * sigma)
            for p, z in zip(net.params, zs, strict=True):
                p.add_(sigma * z)
                p.sub_(lr * coef * z)
            queries += 2
    return time.perf_counter() - start, queries


def _peer_node_perturbation(torch, X, labels, steps, lr=0.1, sigma=1e-3):
    """Node perturbation written the usual way: clean pass, noisy pass, outer products."""
    net = _TorchMLP(torch)
    gen = torch.Generator().manual_seed(1)
    rng = np.random.default_rng(0)
    queries = 0
    start = time.perf_counter()
    with torch.no_grad():
        for _ in range(steps):
            idx = torch.from_numpy(rng.integers(0, X.shape[0], BATCH))
            x, y = X[idx], labels[idx]
            hs = [x]
            for i, lin in enumerate(net.layers):
                a = lin(hs[-1])
                hs.append(a if i == len(net.layers) - 1 else torch.tanh(a))
            clean = net.losses(hs[-1], y)
            noise = [
                torch.randn(BATCH, lin.out_features, generator=gen, dtype=torch.float64)
                for lin in net.layers
            ]
            noisy = net.losses(net.forward(x, noise, sigma), y)
            c = (noisy - clean) / (sigma * BATCH)
            for i, lin in enumerate(net.layers):
                e = c[:, None] * noise[i]
                lin.weight.sub_(lr * e.T @ hs[i])
                lin.bias.sub_(lr * e.sum(0))
            queries += 2
    return time.perf_counter() - start, queries


def _small_rows(quick: bool) -> list[dict]:
    import torch

    from neurolearn.zo import SPSA, NodePerturbation

    torch.set_num_threads(1)
    X, Y = _digits()
    Xt = torch.from_numpy(X)
    labels = torch.from_numpy(np.argmax(Y, axis=1))
    steps = 500 if quick else 5000
    rows = []
    cases = [
        ("spsa digits 64-32-10 b32", SPSA(learning_rate=0.02, sigma=1e-3), _peer_spsa),
        (
            "node-perturbation digits 64-32-10 b32",
            NodePerturbation(learning_rate=0.1, sigma=1e-3),
            _peer_node_perturbation,
        ),
    ]
    for case, rule, peer in cases:
        ours_s, ours_q = _ours(rule, X, Y, steps)
        peer(torch, Xt, labels, 5)
        peer_s, peer_q = peer(torch, Xt, labels, steps)
        assert ours_q == peer_q
        rows.append(
            {
                "case": case,
                "ours_s": ours_s,
                "peer": "pytorch-cpu-loop (1 thread)",
                "peer_s": peer_s,
                "ratio": peer_s / ours_s,
                "queries": ours_q,
                "ours_queries_per_s": ours_q / ours_s,
                "peer_queries_per_s": peer_q / peer_s,
            }
        )
    return rows


def _large_rows(quick: bool) -> list[dict]:
    from neurolearn.zo.large import LARGE_MLP, memory_profile

    sizes = (784, 1024, 1024, 10) if quick else LARGE_MLP
    prof = {r["mode"]: r for r in memory_profile(layer_sizes=sizes, steps=2 if quick else 5)}
    bp = prof["backprop"]
    rows = []
    for mode in ("spsa", "forward-gradient", "inference"):
        r = prof[mode]
        rows.append(
            {
                "case": f"torch {mode} MLP {r['n_params'] / 1e6:.1f}M params b64",
                "ours_s": 1.0 / r["steps_per_s"],
                "peer": "torch backprop (same MLP)",
                "peer_s": 1.0 / bp["steps_per_s"],
                "ratio": r["steps_per_s"] / bp["steps_per_s"],
                "steps_per_s": r["steps_per_s"],
                "peak_extra_mb": r["peak_above_base_mb"],
                "backprop_peak_extra_mb": bp["peak_above_base_mb"],
                "param_mb": r["param_mb"],
            }
        )
    return rows


def run(quick: bool) -> list[dict]:
    return _small_rows(quick) + _large_rows(quick)
