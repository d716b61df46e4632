"""Zeroth-order rules: numba whole-loop trainers against straightforward loops of the same rule
(same math, same data, same number of queries): PyTorch CPU for SPSA and node perturbation,
and numpy for node perturbation. Then a rule comparison on the torch large-model path (steps
per second and peak memory of SPSA / forward gradient / inference beside backprop on a
10M-parameter MLP): backprop there is another learning rule on the same model, not a peer
implementation of the same computation.

All sides run single-threaded (the numba loop is serial; torch gets ``set_num_threads(1)``, numpy
runs its small products in one thread), so the ratio compares implementations, not core
counts. Every measured side is the best of :data:`REPEATS` warm runs.
"""

from __future__ import annotations

import time

import numpy as np

SIZES = (64, 32, 10)
BATCH = 32
REPEATS = 3


def _digits():
    from neurolearn.tasks.digits import load_digits_split

    split = load_digits_split(0.25, seed=0)
    return split.x_train, split.y_train


def _ours(rule, X, Y, steps):
    from neurolearn.zo import MLP, train

    net = MLP(layer_sizes=SIZES)
    train(net, rule, X, Y, steps=5, batch_size=BATCH, seed=0, n_records=1)  # compile / warm
    best = float("inf")
    for _ in range(REPEATS):
        start = time.perf_counter()
        res = train(net, rule, X, Y, steps=steps, batch_size=BATCH, seed=0, n_records=1)
        best = min(best, time.perf_counter() - start)
    return best, res.total_queries


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


def _numpy_node_perturbation(X, labels, steps, lr=0.1, sigma=1e-3):
    """Node perturbation as a plain numpy loop: clean pass, noisy pass, outer products."""
    rng = np.random.default_rng(0)
    noise_rng = np.random.default_rng(1)
    weights = [
        rng.standard_normal((n_in, n_out)) / np.sqrt(n_in)
        for n_in, n_out in zip(SIZES[:-1], SIZES[1:], strict=True)
    ]
    biases = [np.zeros(n_out) for n_out in SIZES[1:]]

    def losses(out, y):
        shifted = out - out.max(axis=1, keepdims=True)
        log_z = np.log(np.exp(shifted).sum(axis=1))
        return log_z - shifted[np.arange(len(y)), y]

    queries = 0
    start = time.perf_counter()
    for _ in range(steps):
        idx = rng.integers(0, X.shape[0], BATCH)
        x, y = X[idx], labels[idx]
        hs = [x]
        for i, (w, b) in enumerate(zip(weights, biases, strict=True)):
            a = hs[-1] @ w + b
            hs.append(a if i == len(weights) - 1 else np.tanh(a))
        clean = losses(hs[-1], y)
        noise = [noise_rng.standard_normal((BATCH, w.shape[1])) for w in weights]
        h = x
        for i, (w, b) in enumerate(zip(weights, biases, strict=True)):
            a = h @ w + b + sigma * noise[i]
            h = a if i == len(weights) - 1 else np.tanh(a)
        c = (losses(h, y) - clean) / (sigma * BATCH)
        for i, (w, b) in enumerate(zip(weights, biases, strict=True)):
            e = c[:, None] * noise[i]
            w -= lr * hs[i].T @ e
            b -= lr * e.sum(0)
        queries += 2
    return time.perf_counter() - start, queries


def _best(fn, *args):
    runs = [fn(*args) for _ in range(REPEATS)]
    return min(r[0] for r in runs), runs[-1][1]


def _small_rows(quick: bool) -> list[dict]:
    import torch

    from neurolearn.zo import SPSA, NodePerturbation

    torch.set_num_threads(1)
    X, Y = _digits()
    Xt = torch.from_numpy(X)
    lab = np.argmax(Y, axis=1)
    labels = torch.from_numpy(lab)
    steps = 500 if quick else 5000
    rows = []
    cases = [
        (
            "spsa digits 64-32-10 b32",
            SPSA(learning_rate=0.02, sigma=1e-3),
            [("pytorch-cpu-loop (1 thread)", lambda n: _peer_spsa(torch, Xt, labels, n))],
        ),
        (
            "node-perturbation digits 64-32-10 b32",
            NodePerturbation(learning_rate=0.1, sigma=1e-3),
            [
                (
                    "pytorch-cpu-loop (1 thread)",
                    lambda n: _peer_node_perturbation(torch, Xt, labels, n),
                ),
                (f"numpy {np.__version__} loop", lambda n: _numpy_node_perturbation(X, lab, n)),
            ],
        ),
    ]
    for case, rule, peers in cases:
        ours_s, ours_q = _ours(rule, X, Y, steps)
        for peer, run_peer in peers:
            run_peer(5)
            peer_s, peer_q = _best(run_peer, steps)
            assert ours_q == peer_q
            rows.append(
                {
                    "case": case,
                    "ours_s": ours_s,
                    "peer": peer,
                    "peer_s": peer_s,
                    "ratio": peer_s / ours_s,
                    "comparison": "peer: same rule, same math",
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
                "peer": "rule comparison: torch backprop (same MLP), not a peer",
                "peer_s": 1.0 / bp["steps_per_s"],
                "ratio": r["steps_per_s"] / bp["steps_per_s"],
                "comparison": "rule comparison, not a peer",
                "steps_per_s": r["steps_per_s"],
                "peak_extra_mb": r["peak_above_base_mb"],
                "backprop_peak_extra_mb": bp["peak_above_base_mb"],
                "param_mb": r["param_mb"],
            }
        )
    return rows


def run(quick: bool) -> list[dict]:
    return _small_rows(quick) + _large_rows(quick)
