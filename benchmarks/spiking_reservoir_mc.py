"""Memory capacity of the spiking reservoir under the standard liquid-state-machine remedies.

Each configuration is one ``neurolearn scan`` of ``spiking-reservoir`` on ``memory-capacity``
(default task: k = 1..100, 4000 training and 1000 test steps) at n = 800 over the input gain
``network.input_scale_mv`` and seeds. Prints a markdown table (mean and spread over seeds at the
best gain of each configuration, and the gain curve) and writes
``benchmarks/results/spiking-reservoir-mc.json``.

``--ridge-scan`` then takes each configuration at its best gain from that file and fits the
readout with several ridge penalties on the same states (one simulation per configuration and
seed; every number equals ``neurolearn run spiking-reservoir memory-capacity --seed S --set
network.n=800 --set network.input_scale_mv=G --set readout.ridge=R ...``, which the script
checks for one case), written to ``benchmarks/results/spiking-reservoir-mc-ridge.json``.

    python benchmarks/spiking_reservoir_mc.py [--seeds 2] [--workers 2] [--n 800]
    python benchmarks/spiking_reservoir_mc.py --ridge-scan [--seeds 2]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

import neurolearn as nl

HERE = Path(__file__).resolve().parent

#: name -> spec overrides (on top of the shipped model at size n)
CONFIGS = {
    "baseline (10 ms step, 10 ms filter)": [],
    "5 ms step": ["network.step_ms=5.0"],
    "2 ms step": ["network.step_ms=2.0"],
    "filters 10/30/100 ms": ["network.filter_tau_ms=[10.0, 30.0, 100.0]"],
    "synaptic conductances": ["network.state=synaptic"],
    "filtered + synaptic": ["network.state=both"],
    "input to 30% of neurons": ["network.input_fraction=0.3"],
    "5 ms step + filters 10/30/100 ms + synaptic": [
        "network.step_ms=5.0",
        "network.filter_tau_ms=[10.0, 30.0, 100.0]",
        "network.state=both",
    ],
}
GAINS = [2.5, 5.0, 10.0, 20.0]
RIDGES = [1e-4, 1e-2, 1.0, 100.0]
#: the configurations whose readout penalty is scanned
RIDGE_CONFIGS = (
    "baseline (10 ms step, 10 ms filter)",
    "5 ms step",
    "filters 10/30/100 ms",
    "filtered + synaptic",
    "5 ms step + filters 10/30/100 ms + synaptic",
)


class _SameStates:
    """A reservoir whose run returns the states of its first run (same input every time)."""

    def __init__(self, reservoir):
        self.reservoir = reservoir
        self.states = None

    def run(self, u):
        if self.states is None:
            self.states = self.reservoir.run(u)
        return self.states


def ridge_scan(n: int, seeds: int, best: dict, only=RIDGE_CONFIGS) -> list[dict]:
    from neurolearn import specs
    from neurolearn.reservoir import protocols
    from neurolearn.spiking.reservoir_experiment import build_reservoir

    task = specs.load_task("memory-capacity")
    params = {k: v for k, v in task.task.to_dict().items() if k != "kind"}
    rows = []
    for name, overrides in CONFIGS.items():
        if name not in best or name not in only:
            continue
        start = time.perf_counter()
        over = [f"network.n={n}", f"network.input_scale_mv={best[name]}", *overrides]
        model = specs.load_model("spiking-reservoir", over)
        mc = np.empty((len(RIDGES), seeds))
        for seed in range(seeds):
            # the seed streams of neurolearn.run: SeedSequence(seed) -> (network, task)
            rng_net, _ = np.random.SeedSequence(seed).spawn(2)
            cached = _SameStates(build_reservoir(model, np.random.default_rng(rng_net)))
            for i, ridge in enumerate(RIDGES):
                _, rng_task = np.random.SeedSequence(seed).spawn(2)
                out = protocols.memory_capacity(
                    cached,
                    **params,
                    washout=model.readout.washout,
                    ridge=ridge,
                    seed=np.random.default_rng(rng_task),
                )
                mc[i, seed] = out["total"]
        if not rows:  # the cached-state numbers are those of a plain run
            check = nl.run(
                "spiking-reservoir",
                "memory-capacity",
                seed=0,
                overrides=[*over, f"readout.ridge={RIDGES[-1]}"],
                figure=False,
            )
            assert float(check["memory_capacity"]) == mc[-1, 0], (check, mc)
        best_ridge = int(np.argmax(mc.mean(axis=1)))
        rows.append(
            {
                "config": name,
                "overrides": overrides,
                "gain_mv": best[name],
                "ridges": RIDGES,
                "mc_by_ridge_mean": mc.mean(axis=1).tolist(),
                "mc": mc.tolist(),
                "best_ridge": RIDGES[best_ridge],
                "best_mean": float(mc[best_ridge].mean()),
                "best_min": float(mc[best_ridge].min()),
                "best_max": float(mc[best_ridge].max()),
                "wall_s": time.perf_counter() - start,
            }
        )
        print(f"{name}: {rows[-1]['best_mean']:.2f} at ridge {RIDGES[best_ridge]:g}", flush=True)
    return rows


def ridge_table(rows: list[dict], n: int, seeds: int) -> str:
    ridges = " | ".join(f"ridge {r:g}" for r in RIDGES)
    lines = [
        f"| n = {n}, seeds 0-{seeds - 1} | gain | best MC (min-max) | {ridges} |",
        "|---|---|---|" + "---|" * len(RIDGES),
    ]
    for r in rows:
        curve = " | ".join(f"{v:.2f}" for v in r["mc_by_ridge_mean"])
        lines.append(
            f"| {r['config']} | {r['gain_mv']:g} mV | {r['best_mean']:.2f} "
            f"({r['best_min']:.2f}-{r['best_max']:.2f}) | {curve} |"
        )
    return "\n".join(lines)


def measure(n: int, seeds: int, workers: int) -> list[dict]:
    rows = []
    for name, overrides in CONFIGS.items():
        start = time.perf_counter()
        with tempfile.TemporaryDirectory() as tmp:
            ds = nl.scan(
                "spiking-reservoir",
                "memory-capacity",
                grid={"network.input_scale_mv": GAINS},
                seeds=seeds,
                out=Path(tmp) / "s.zarr",
                overrides=[f"network.n={n}", *overrides],
                workers=workers,
                progress=False,
            )
            mc = np.asarray(ds["memory_capacity"].values, dtype=float)  # (gain, seed)
            rate = np.asarray(ds["rate_exc_hz"].values, dtype=float)
        best = int(np.nanargmax(np.nanmean(mc, axis=1)))
        rows.append(
            {
                "config": name,
                "overrides": overrides,
                "gains_mv": GAINS,
                "mc_by_gain_mean": np.nanmean(mc, axis=1).tolist(),
                "mc": mc.tolist(),
                "best_gain_mv": GAINS[best],
                "best_mean": float(np.nanmean(mc[best])),
                "best_min": float(np.nanmin(mc[best])),
                "best_max": float(np.nanmax(mc[best])),
                "rate_exc_hz": float(np.nanmean(rate[best])),
                "wall_s": time.perf_counter() - start,
            }
        )
        print(f"{name}: {rows[-1]['best_mean']:.2f} at {GAINS[best]} mV", flush=True)
    return rows


def table(rows: list[dict], n: int, seeds: int) -> str:
    gains = " | ".join(f"{g:g} mV" for g in GAINS)
    lines = [
        f"| n = {n}, {seeds} seeds | best MC (min-max) | best gain | {gains} | E rate (Hz) |",
        "|---|---|---|" + "---|" * len(GAINS) + "---|",
    ]
    for r in rows:
        curve = " | ".join(f"{v:.2f}" for v in r["mc_by_gain_mean"])
        lines.append(
            f"| {r['config']} | {r['best_mean']:.2f} ({r['best_min']:.2f}-{r['best_max']:.2f}) "
            f"| {r['best_gain_mv']:g} mV | {curve} | {r['rate_exc_hz']:.0f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=800)
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--ridge-scan", action="store_true", help="readout ridge at best gains")
    parser.add_argument(
        "--gains",
        default=str(HERE / "results" / "spiking-reservoir-mc.json"),
        help="ridge scan: the gain scan's JSON (best gain per configuration)",
    )
    parser.add_argument("--only", default=None, help="ridge scan: configurations, ';'-separated")
    args = parser.parse_args()
    if args.ridge_scan:
        gains = json.loads(Path(args.gains).read_text())
        best = {r["config"]: r["best_gain_mv"] for r in gains["rows"]}
        only = args.only.split(";") if args.only else RIDGE_CONFIGS
        rows = ridge_scan(args.n, args.seeds, best, only)
        print(ridge_table(rows, args.n, args.seeds))
        suffix = "" if args.only is None else "-part"
        out = HERE / "results" / f"spiking-reservoir-mc-ridge{suffix}.json"
        payload = {"n": args.n, "seeds": args.seeds, "rows": rows}
        out.write_text(json.dumps(payload, indent=1) + "\n")
        print(f"wrote {out}")
        return
    rows = measure(args.n, args.seeds, args.workers)
    text = table(rows, args.n, args.seeds)
    print(text)
    out = HERE / "results" / "spiking-reservoir-mc.json"
    out.write_text(json.dumps({"n": args.n, "seeds": args.seeds, "rows": rows}, indent=1) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
