"""Student-teacher speed: the numba whole-loop trainer and the torch ensemble.

Cases (the curl speed-up setting: tanh, M = 100, N = 10, P = 2000, batch 10, one rule-flipped
hidden neuron, norm rescaling):
- ``numba trainer``: 100 epochs with :class:`MinibatchTrainer` (numba) against a plain PyTorch
  CPU mini-batch loop written the usual way (tensor ops per mini-batch, same math, same data,
  same permutations), in the same run; the final weights are compared.
- ``torch ensemble``: 64 seeds trained at once by :class:`EnsembleTrainer` (CPU, and CUDA when
  present) against 64 sequential numba runs; reported as seeds per second.
"""

from __future__ import annotations

import time

import numpy as np

from neurolearn.tasks.teacher import make_teacher_data
from neurolearn.teacher import CurlDescent, MinibatchTrainer, TwoLayerNetwork, make_teacher
from neurolearn.teacher.training import epoch_orders


def _setting(n_train=2000, seed=0):
    teacher = make_teacher(100, 10, activation="tanh", seed=seed)
    data = make_teacher_data(teacher, n_train=n_train, n_test=200, seed=seed + 1)
    return data


def _student(seed):
    return TwoLayerNetwork(
        n_inputs=100, n_hidden=10, activation="tanh", init_scale=2.0, seed=seed
    ).initialize()


def torch_loop(w1, w2, x, y, orders, *, step, batch_size, s1, s2):
    """The peer: a straightforward PyTorch mini-batch loop (manual updates, float64)."""
    import torch

    w1 = torch.tensor(w1)
    w2 = torch.tensor(w2)
    x = torch.tensor(x)
    y = torch.tensor(y)
    s1 = torch.tensor(s1)
    s2 = torch.tensor(s2)
    norm1, norm2 = w1.norm(), w2.norm()
    errors = []
    for order in torch.tensor(orders):
        for start in range(0, x.shape[0], batch_size):
            idx = order[start : start + batch_size]
            xb, yb = x[idx], y[idx]
            pre = xb @ w1.T
            h = torch.tanh(pre)
            err = torch.tanh(h @ w2.T) - yb
            grad2 = err.T @ h / len(idx)
            delta = (err @ w2) * (1 - h**2)
            grad1 = delta.T @ xb / len(idx)
            w2 = w2 - step * grad2 * s2
            w1 = w1 - step * grad1 * s1
            w1 = w1 * (norm1 / w1.norm())
            w2 = w2 * (norm2 / w2.norm())
        out = torch.tanh(torch.tanh(x @ w1.T) @ w2.T)
        errors.append(float(0.5 * ((out - y) ** 2).sum(1).mean()))
    return w1.numpy(), w2.numpy(), errors


def run(quick: bool) -> list[dict]:
    import torch

    rows = []
    epochs = 10 if quick else 100
    data = _setting()
    rule = CurlDescent(flipped_hidden=1)
    # warm the jit caches outside the timings
    MinibatchTrainer(rule=rule, epochs=1, seed=0).fit(_student(0), _setting(50))

    student = _student(1)
    w1, w2 = student.w1_.copy(), student.w2_.copy()
    start = time.perf_counter()
    MinibatchTrainer(rule=rule, epochs=epochs, record_every=1, seed=2).fit(student, data)
    ours = time.perf_counter() - start
    # the same permutations as the trainer: its second child stream
    orders = epoch_orders(np.random.default_rng(2).spawn(2)[1], epochs, 2000)
    s1, s2 = rule.signs(100, 10)
    # the peer with torch's default threads and with one thread (tiny matrices: often faster
    # on a small shared machine); the faster of the two is the one compared
    peer_times = {}
    default_threads = torch.get_num_threads()
    for threads in sorted({default_threads, 1}):
        torch.set_num_threads(threads)
        start = time.perf_counter()
        p1, p2, _ = torch_loop(
            w1,
            w2,
            data.x_train,
            data.y_train,
            orders,
            step=0.1 * 10 / 2000,
            batch_size=10,
            s1=s1,
            s2=s2,
        )
        peer_times[threads] = time.perf_counter() - start
    torch.set_num_threads(default_threads)
    best = min(peer_times, key=peer_times.get)
    rows.append(
        {
            "case": f"numba trainer, P=2000, {epochs} epochs",
            "ours_s": ours,
            "peer": f"torch {torch.__version__} CPU loop ({best} thread{'s' * (best > 1)})",
            "peer_s": peer_times[best],
            "ratio": peer_times[best] / ours,
            "peer_s_by_threads": str({k: round(v, 3) for k, v in peer_times.items()}),
            "max_weight_diff": float(
                max(np.abs(p1 - student.w1_).max(), np.abs(p2 - student.w2_).max())
            ),
        }
    )

    from neurolearn.teacher.ensemble import EnsembleTrainer

    n_seeds = 16 if quick else 64
    ens_epochs = 3 if quick else 10
    start = time.perf_counter()
    for s in range(n_seeds):
        MinibatchTrainer(rule=rule, epochs=ens_epochs, record_every=ens_epochs, seed=100 + s).fit(
            _student(s), data
        )
    sequential = time.perf_counter() - start
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    for device in devices:
        for dtype in ("float64", "float32"):
            students = [_student(s) for s in range(n_seeds)]
            trainer = EnsembleTrainer(
                rules=rule,
                epochs=ens_epochs,
                record_every=ens_epochs,
                seed=[100 + s for s in range(n_seeds)],
                device=device,
                dtype=dtype,
            )
            if device == "cuda":
                trainer.fit([_student(0)], data)  # warm up the CUDA context
            start = time.perf_counter()
            trainer.fit(students, data)
            if device == "cuda":
                torch.cuda.synchronize()
            ens = time.perf_counter() - start
            rows.append(
                {
                    "case": f"ensemble {n_seeds} seeds x {ens_epochs} ep, {device} {dtype}",
                    "ours_s": ens,
                    "peer": f"{n_seeds} sequential numba runs",
                    "peer_s": sequential,
                    "ratio": sequential / ens,
                    "seeds_per_s_ensemble": n_seeds / ens,
                    "seeds_per_s_numba": n_seeds / sequential,
                }
            )
    return rows
