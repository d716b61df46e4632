"""Memory capacity of the spiking reservoir under the standard liquid-state-machine remedies.

Each configuration is one ``neurolearn scan`` of ``spiking-reservoir`` on ``memory-capacity``
(default task: k = 1..100, 4000 training and 1000 test steps) at n = 800 over the input gain
``network.input_scale_mv`` and seeds. Prints a markdown table (mean and spread over seeds at the
best gain of each configuration, and the gain curve) and writes
``benchmarks/results/spiking-reservoir-mc.json``.

    python benchmarks/spiking_reservoir_mc.py [--seeds 2] [--workers 2] [--n 800]
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
    args = parser.parse_args()
    rows = measure(args.n, args.seeds, args.workers)
    text = table(rows, args.n, args.seeds)
    print(text)
    out = HERE / "results" / "spiking-reservoir-mc.json"
    out.write_text(json.dumps({"n": args.n, "seeds": args.seeds, "rows": rows}, indent=1) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
