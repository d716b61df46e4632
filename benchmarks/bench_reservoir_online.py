"""Online RLS training: neurolearn's reservoir + RLS kernel vs ReservoirPy's ``RLS`` node.

Both sides learn the same linear readout online, step by step, on the states of the same
reservoir (ReservoirPy's ``Reservoir``, whose weights neurolearn takes with
``ESN.from_weights``) driven by the same input. ReservoirPy runs its reservoir and then its
``RLS.partial_fit`` over the states (its fastest path for a readout without feedback);
neurolearn advances reservoir and readout together in one kernel call
(:meth:`~neurolearn.reservoir.OnlineReadout.train`). Without an intercept the two RLS variants
are the same algorithm (ReservoirPy learns its intercept by a separate running mean), so the
learned weights are compared. Best of ``repeats`` on each side, warm.
"""

from __future__ import annotations

import time

import numpy as np

SIZES = (100, 300, 1000)
STEPS = {100: 4000, 300: 2000, 1000: 400}


def _best(fn, repeats):
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def bench_online(quick: bool = False) -> list[dict]:
    """Rows: steps per second of online RLS training, ours vs ReservoirPy, same run."""
    import numba
    from reservoirpy.nodes import RLS, Reservoir

    from neurolearn.reservoir import ESN, OnlineReadout

    repeats = 1 if quick else 3
    rng = np.random.default_rng(0)
    rows = []
    previous = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        for n in SIZES[:2] if quick else SIZES:
            steps = STEPS[n] // (4 if quick else 1)
            u = rng.uniform(-1, 1, (steps, 1))
            y = np.roll(u, 2, axis=0)
            res = Reservoir(n, sr=0.9, rc_connectivity=0.1, input_connectivity=1.0, seed=n)
            res.run(np.zeros((1, 1)))
            w_in = res.Win.toarray() if hasattr(res.Win, "toarray") else np.asarray(res.Win)
            bias = np.asarray(res.bias, dtype=np.float64).ravel()
            bias = np.broadcast_to(bias if bias.size > 1 else bias[:1], (n,)).copy()
            esn = ESN.from_weights(res.W, w_in, bias, leak=1.0)
            holder = {}

            def peer(res=res, u=u, y=y, holder=holder):
                res.reset()
                node = RLS(alpha=1.0, fit_bias=False)
                node.partial_fit(res.run(u), y)
                holder["peer"] = np.asarray(node.Wout)

            def ours(esn=esn, u=u, y=y, holder=holder):
                readout = OnlineReadout(alpha=1.0, fit_intercept=False)
                readout.train(esn, u, y)
                holder["ours"] = readout.coef_

            OnlineReadout(alpha=1.0, fit_intercept=False).train(esn, u[:3], y[:3])
            t_peer = _best(peer, repeats)
            t_ours = _best(ours, repeats)
            rows.append(
                {
                    "case": "online RLS training (reservoir + readout)",
                    "n": n,
                    "steps": steps,
                    "ours_steps_per_s": steps / t_ours,
                    "peer": "reservoirpy RLS",
                    "peer_steps_per_s": steps / t_peer,
                    "ratio": t_peer / t_ours,
                    "target": 5.0,
                    "met": bool(t_peer / t_ours >= 5.0),
                    "max_abs_weight_diff": float(np.abs(holder["ours"] - holder["peer"]).max()),
                }
            )
    finally:
        numba.set_num_threads(previous)
    return rows


if __name__ == "__main__":
    for row in bench_online(quick=True):
        print(row)
