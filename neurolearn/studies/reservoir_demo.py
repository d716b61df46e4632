"""The flagship demo: the three comparisons of adaptive E/I reservoirs, robustness first."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np

from neurolearn.reservoir import compare

__all__ = ["run_demo", "demo_settings"]


#: the adaptation rules set against each other at the same target: the paper's local rule,
#: rate-matched global tuning and the classic homeostatic alternative, intrinsic plasticity
RULES = ("local", "global", "intrinsic")


def demo_settings(n: int, seeds: int, quick: bool) -> dict:
    """The arguments of the three comparisons that :func:`run_demo` runs.

    ``quick`` shrinks the network (N = 100), the beta0 sweep, the targets and the task inputs
    so that the whole demo takes well under a minute.

    Examples
    --------
    >>> demo_settings(300, 5, quick=True)["robustness"]["n"]
    100
    """
    if quick:
        common = dict(n=100, seeds=seeds, quick=True)
        return {
            "robustness": dict(
                common, betas=(-1.0, -0.5, 0.0, 0.5), tasks=("memory-capacity", "narma10")
            ),
            "local_vs_global": dict(
                common, rhos=(0.3, 0.5), tasks=("memory-capacity", "narma10"), rules=RULES
            ),
            "heterogeneity": dict(common, tasks=("memory-capacity", "narma10")),
        }
    common = dict(n=n, seeds=seeds)
    return {
        "robustness": dict(common, tasks=("memory-capacity", "narma10", "mackey-glass")),
        "local_vs_global": dict(common, rhos=(0.2, 0.3, 0.5, 0.7), rules=RULES),
        "heterogeneity": dict(common),
    }


def run_demo(
    out="demo-output", seeds: int = 3, n: int = 300, quick: bool = False, quiet: bool = False
) -> dict:
    """Run the three comparisons of :mod:`neurolearn.reservoir.compare` and report them.

    1. *Robustness* (first, and the top row of the figure): MC, NARMA-10 (and, in the full
       demo, Mackey-Glass free run) against the starting balance beta0, fixed (untuned)
       reservoirs vs the same reservoirs after local adaptation.
    2. *Local vs rate-matched global tuning* at the same homogeneous target rate.
    3. *Heterogeneous vs homogeneous targets*, both local.

    Prints the three tables (mean +- sd over seeds, the gain definition, N; nothing with
    ``quiet``), writes ``out/demo.png`` and ``out/demo.json`` (every value per seed) and
    returns the summary.

    Examples
    --------
    >>> summary = run_demo(out=None, seeds=1, quick=True, quiet=True)
    >>> list(summary["comparisons"])
    ['robustness', 'local_vs_global', 'heterogeneity']
    """
    from tqdm.auto import tqdm

    settings = demo_settings(n, seeds, quick)
    started = time.perf_counter()
    results = {}
    bar = tqdm(desc="demo runs", disable=quiet, file=sys.stderr)

    def tick(_label):
        bar.update(1)

    tables = {}
    for name in ("robustness", "local_vs_global", "heterogeneity"):
        results[name] = getattr(compare, name)(**settings[name], progress=tick)
        tables[name] = getattr(compare, f"{name}_table")(results[name])
    bar.close()
    summary = {
        "n": settings["robustness"]["n"],
        "seeds": seeds,
        "quick": quick,
        "gain": compare.GAIN_DEFINITION,
        "comparisons": {k: _to_json(ds) for k, ds in results.items()},
        "tables": tables,
        "wall_s": time.perf_counter() - started,
    }
    if not quiet:
        for text in tables.values():
            print("\n" + text)
    if out is not None:
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        (out / "demo.json").write_text(json.dumps(summary, indent=1))
        from neurolearn.plots import reservoir_demo_figure

        fig = reservoir_demo_figure(results)
        fig.savefig(out / "demo.png", dpi=110, bbox_inches="tight")
        if not quiet:
            print(f"\nwrote {out / 'demo.png'} and {out / 'demo.json'}")
    return summary


def _to_json(ds) -> dict:
    d = ds.to_dict(data="list")
    return json.loads(json.dumps(d, default=lambda x: x.item() if isinstance(x, np.generic) else x))
