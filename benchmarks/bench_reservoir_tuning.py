"""Rate-matched global tuning of the E/I reservoir: secant search vs the bisection it replaced.

Row "global tuning N=300 before/after": ``nl.run("ei-reservoir-global", "memory-capacity")`` at
N = 300 (tuning on 2000 input steps, then the memory-capacity protocol), ``rule.search`` =
``bisection`` (before) vs ``secant`` (after), median over seeds after a warm-up run; and the
tuning alone (``EIReservoir.adapt``) with the number of simulations of the adaptation input.
``ratio`` = before / after. Run on an older checkout (no ``rule.search`` key) the function
times that checkout's only method and labels it so.
"""

from __future__ import annotations

import time

import numpy as np


def _median_time(fn, seeds):
    times, outs = [], []
    for s in seeds:
        start = time.perf_counter()
        outs.append(fn(s))
        times.append(time.perf_counter() - start)
    return float(np.median(times)), outs


def bench_global_tuning(quick: bool = False, n: int = 300) -> list[dict]:
    """Time global tuning at ``n`` units through ``nl.run`` and alone, before and after."""
    import neurolearn as nl
    from neurolearn.reservoir import EIReservoir
    from neurolearn.reservoir.experiment import GlobalBalance

    seeds = range(2) if quick else range(5)
    has_search = "search" in GlobalBalance.fields()
    searches = ("bisection", "secant") if has_search else ("default",)
    small = ["network.n=60", "task.max_delay=10", "task.train_steps=300", "task.test_steps=100"]
    nl.run("ei-reservoir-global", "memory-capacity", seed=0, overrides=small)  # compile
    u = np.random.default_rng(0).uniform(-0.8, 0.8, (2000, 1))
    timing = {}
    for search in searches:
        over = [f"network.n={n}"] + ([f"rule.search={search}"] if has_search else [])

        def through_run(s, over=over):
            return nl.run("ei-reservoir-global", "memory-capacity", seed=s, overrides=over)

        def alone(s, search=search):
            kw = {"global_search": search} if has_search else {}
            return EIReservoir(n=n, adaptation="global", seed=s, **kw).initialize().adapt(u)

        t_run, results = _median_time(through_run, seeds)
        t_alone, tuned = _median_time(alone, seeds)
        evals = [getattr(r, "global_evaluations_", np.nan) for r in tuned]
        timing[search] = {
            "run_s": t_run,
            "alone_s": t_alone,
            "evaluations": float(np.median(evals)),
            "memory_capacity": float(np.mean([float(r["memory_capacity"]) for r in results])),
        }
    if not has_search:
        t = timing["default"]
        return [
            {
                "case": f"global tuning N={n} (this checkout's only search), through nl.run",
                "ours_s": t["run_s"],
                "tuning_alone_s": t["alone_s"],
                "memory_capacity": t["memory_capacity"],
            }
        ]
    before, after = timing["bisection"], timing["secant"]
    return [
        {
            "case": f"global tuning N={n} before/after, through nl.run (median of {len(seeds)})",
            "ours_s": after["run_s"],
            "peer": "bisection (before)",
            "peer_s": before["run_s"],
            "ratio": before["run_s"] / after["run_s"],
            "mc_after": after["memory_capacity"],
            "mc_before": before["memory_capacity"],
        },
        {
            "case": f"global tuning N={n} before/after, tuning alone (2000 steps)",
            "ours_s": after["alone_s"],
            "peer": "bisection (before)",
            "peer_s": before["alone_s"],
            "ratio": before["alone_s"] / after["alone_s"],
            "runs_after": after["evaluations"],
            "runs_before": before["evaluations"],
        },
    ]


def run(quick: bool = False) -> list[dict]:
    return bench_global_tuning(quick=quick)
