"""Seconds per BPTT training epoch of the rnnfit student vs a plain PyTorch loop.

The peer is the training loop written the usual way: ``nn.Parameter`` weights, a Python loop
over time steps recorded step by step by autograd, the same loss (outputs + recorded units),
``Adam`` and gradient clipping. Ours is :class:`neurolearn.rnnfit.RNNStudent` with its fused
time loop (hand-written backward pass). Both run the same problem (8 conditions, 70 steps,
2 inputs, 2 outputs, 10% of the units recorded), float32, with the same number of CPU
threads (``threads``); ``peer_default_threads_s`` is the peer with torch's default thread
count. Each side is warmed up by one epoch; the time is the best of ``repeats`` runs of
``epochs`` epochs, divided by ``epochs``. CUDA rows appear when a GPU is present.
"""

from __future__ import annotations

import time

import numpy as np


def _recording(n, rng):
    from neurolearn.rnnfit import Recording

    c, t, k = 8, 70, max(1, n // 10)
    u = np.zeros((c, t, 2))
    ang = np.linspace(0, 2 * np.pi, c, endpoint=False)[:, None]
    u[:, :30] = np.stack([np.cos(ang), np.sin(ang)], axis=2)
    tt = np.arange(t) / t
    out = np.stack([np.sin(2 * np.pi * tt + ang), np.cos(3 * np.pi * tt + ang)], axis=2)
    rates = 10 + 5 * rng.standard_normal((c, t, k)).cumsum(axis=1) / np.sqrt(t)
    return Recording(
        rates=rates, dt_ms=20.0, n_neurons=n, recorded=np.arange(k), inputs=u, outputs=out
    )


def _peer_epochs(rec, n, epochs, device, threads):
    """The usual way: autograd over a Python time loop."""
    import torch

    before = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        g = torch.Generator().manual_seed(0)
        dev = torch.device(device)
        j = torch.nn.Parameter((torch.randn(n, n, generator=g) / n**0.5).to(dev))
        b_in = torch.nn.Parameter((torch.randn(n, 2, generator=g) / 2**0.5).to(dev))
        bias = torch.nn.Parameter(torch.zeros(n, device=dev))
        w_out = torch.nn.Parameter((torch.randn(2, n, generator=g) / n**0.5).to(dev))
        params = [j, b_in, bias, w_out]
        opt = torch.optim.Adam(params, lr=1e-3)
        u = torch.tensor(rec.inputs, dtype=torch.float32, device=dev)
        z_star = torch.tensor(rec.outputs, dtype=torch.float32, device=dev)
        r_star = torch.tensor(
            (rec.rates - rec.rates.mean()) / (4 * rec.rates.std()), dtype=torch.float32, device=dev
        )
        k = r_star.shape[2]
        a = 0.1
        for _ in range(epochs):
            opt.zero_grad()
            x = torch.zeros(u.shape[0], n, device=dev)
            zs, rs = [], []
            for t in range(u.shape[1]):
                r = torch.tanh(x)
                rs.append(r)
                zs.append(r @ w_out.T)
                x = x + a * (-x + r @ j.T + u[:, t] @ b_in.T + bias)
            z = torch.stack(zs, 1)
            rr = torch.stack(rs, 1)
            loss = ((z - z_star) ** 2).mean() + ((rr[:, :, :k] - r_star) ** 2).mean()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
        if dev.type == "cuda":
            torch.cuda.synchronize()
    finally:
        torch.set_num_threads(before)


def _ours_epochs(rec, n, epochs, device, threads):
    from neurolearn.rnnfit import RNNStudent

    RNNStudent(n_units=n, n_epochs=epochs, device=device, n_threads=threads, seed=0).fit(rec)


def _best(fn, repeats):
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def run(quick: bool = False) -> list[dict]:
    import torch

    rng = np.random.default_rng(0)
    sizes = (200, 1000)
    epochs = 2 if quick else 5
    repeats = 1 if quick else 3
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    threads = 1
    rows = []
    for device in devices:
        for n in sizes:
            rec = _recording(n, rng)
            thr = threads if device == "cpu" else None
            _ours_epochs(rec, n, 1, device, thr)
            _peer_epochs(rec, n, 1, device, thr)
            args = (rec, n, epochs, device, thr)
            ours = _best(lambda args=args: _ours_epochs(*args), repeats) / epochs
            peer = _best(lambda args=args: _peer_epochs(*args), repeats) / epochs
            row = {
                "case": f"N={n} {device}",
                "ours_s": ours,
                "peer": "torch autograd loop",
                "peer_s": peer,
                "ratio": peer / ours,
                "threads": thr or 0,
            }
            if device == "cpu":
                args = (rec, n, epochs, device, None)
                row["peer_default_threads_s"] = (
                    _best(lambda args=args: _peer_epochs(*args), 1) / epochs
                )
            rows.append(row)
    return rows
