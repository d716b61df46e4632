"""neurolearn vs ReservoirPy on the same reservoir (same weights, same input), same run.

Cases: one reservoir of N = 100, 300, 1000 (density 0.1, one input, T = 20 000 steps), and a
batch of 32 reservoirs of N = 100 run together in one kernel call vs one after another in
ReservoirPy. ``ratio`` = peer time / our time (per reservoir for the batch); both sides are
warmed up first (JIT compilation and first-call costs are not counted); best of ``repeats``.
"""

from __future__ import annotations

import time

import numpy as np


def _best(fn, repeats):
    best = np.inf
    out = None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return best, out


def _dense(w):
    return w.toarray() if hasattr(w, "toarray") else np.asarray(w)


def _rpy_reservoir(n, seed):
    from reservoirpy.nodes import Reservoir

    res = Reservoir(n, sr=0.9, rc_connectivity=0.1, input_connectivity=1.0, seed=seed)
    res.run(np.zeros((1, 1)))
    return res


def run(quick: bool = False) -> list[dict]:
    import reservoirpy

    from neurolearn.reservoir import ESN, run_batch

    steps = 2000 if quick else 20000
    repeats = 1 if quick else 3
    rng = np.random.default_rng(0)
    u = rng.uniform(-1, 1, (steps, 1))
    rows = []
    for n in (100, 300, 1000):
        rpy = _rpy_reservoir(n, seed=n)
        ours = ESN.from_weights(rpy.W, _dense(rpy.Win))
        ours.run(u[:10])  # compile / warm up
        t_ours, x_ours = _best(lambda ours=ours: ours.run(u), repeats)

        def peer(rpy=rpy):
            rpy.reset()
            return rpy.run(u)

        peer()
        t_peer, x_peer = _best(peer, repeats)
        err = float(np.abs(x_ours - x_peer).max())
        rows.append(
            {
                "case": f"ESN N={n}, T={steps}",
                "ours_s": t_ours,
                "peer": f"reservoirpy {reservoirpy.__version__}",
                "peer_s": t_peer,
                "ratio": t_peer / t_ours,
                "steps_per_s_ours": steps / t_ours,
                "steps_per_s_peer": steps / t_peer,
                "max_abs_state_diff": err,
            }
        )
    n_batch, n = 32, 100
    rpys = [_rpy_reservoir(n, seed=1000 + b) for b in range(n_batch)]
    nets = [ESN.from_weights(r.W, _dense(r.Win)) for r in rpys]
    run_batch(nets, u[:10])
    t_ours, x_ours = _best(lambda: run_batch(nets, u), repeats)

    def peer_batch():
        outs = []
        for r in rpys:
            r.reset()
            outs.append(r.run(u))
        return np.stack(outs)

    t_peer, x_peer = _best(peer_batch, 1)
    rows.append(
        {
            "case": f"batch of {n_batch} ESNs N={n}, T={steps} (per reservoir)",
            "ours_s": t_ours / n_batch,
            "peer": f"reservoirpy {reservoirpy.__version__} (loop)",
            "peer_s": t_peer / n_batch,
            "ratio": t_peer / t_ours,
            "steps_per_s_ours": steps * n_batch / t_ours,
            "steps_per_s_peer": steps * n_batch / t_peer,
            "max_abs_state_diff": float(np.abs(x_ours - x_peer).max()),
        }
    )
    return rows
