"""The flagship demo: local E/I adaptation vs globally tuned balance, side by side."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np

__all__ = ["run_demo"]

MODELS = ("ei-reservoir", "ei-reservoir-global")
TASKS = (("memory-capacity", "memory_capacity", "higher"), ("narma10", "nrmse", "lower"))


def run_demo(
    out="demo-output", seeds: int = 3, n: int = 300, quick: bool = False, quiet: bool = False
) -> dict:
    """Run both reservoirs on memory capacity and NARMA-10 over ``seeds`` seeds.

    Prints a table (mean +- std over seeds; nothing with ``quiet``), writes
    ``out/demo.png`` (rates converging to their targets, per-unit rate vs target, MC curves,
    NARMA-10 prediction vs target) and ``out/demo.json`` (every number). Returns the summary.

    Examples
    --------
    >>> summary = run_demo(out=None, seeds=1, quick=True, quiet=True)
    >>> [row["task"] for row in summary["rows"]]
    ['memory-capacity', 'narma10']
    """
    from tqdm.auto import tqdm

    from neurolearn.experiment import run

    overrides = [f"network.n={n}"]
    if quick:
        overrides = [
            "network.n=60",
            "network.in_degree_exc=8",
            "network.in_degree_inh=8",
            "rule.steps=400",
        ]
    task_over = {
        "memory-capacity": ["task.max_delay=40", "task.train_steps=1000", "task.test_steps=300"]
        if quick
        else [],
        "narma10": ["task.train_steps=1000", "task.test_steps=300"] if quick else [],
    }
    results: dict = {}
    started = time.perf_counter()
    jobs = [(m, t, s) for m in MODELS for t, _, _ in TASKS for s in range(seeds)]
    for model, task, seed in tqdm(jobs, desc="demo runs", disable=quiet, file=sys.stderr):
        ds = run(model, task, seed=seed, overrides=overrides + task_over[task])
        results[(model, task, seed)] = ds
    summary = {"n": n if not quick else 60, "seeds": seeds, "rows": []}
    for task, metric, better in TASKS:
        row = {"task": task, "metric": metric, "better": better}
        for model in MODELS:
            vals = [float(results[(model, task, s)][metric]) for s in range(seeds)]
            row[model] = {"mean": float(np.mean(vals)), "std": float(np.std(vals)), "values": vals}
        loc, glob = row[MODELS[0]]["mean"], row[MODELS[1]]["mean"]
        row["local_vs_global_percent"] = 100.0 * (
            (loc - glob) / glob if better == "higher" else (glob - loc) / glob
        )
        summary["rows"].append(row)
    fractions = {
        model: float(
            np.mean(
                [
                    float(results[(model, "narma10", s)]["fraction_within_target"])
                    for s in range(seeds)
                ]
            )
        )
        for model in MODELS
    }
    summary["fraction_within_target"] = fractions
    summary["wall_s"] = time.perf_counter() - started
    stream = None if quiet else sys.stdout
    if stream is not None:
        _print(summary, stream)
    if out is not None:
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        (out / "demo.json").write_text(json.dumps(summary, indent=2))
        fig = _figure(results, seeds)
        fig.savefig(out / "demo.png", dpi=110, bbox_inches="tight")
        if stream is not None:
            print(f"\nwrote {out / 'demo.png'} and {out / 'demo.json'}", file=stream)
    return summary


def _print(summary, stream):
    print(
        f"\nAdaptive (local) vs globally tuned E/I balance, N = {summary['n']}, "
        f"{summary['seeds']} seed(s), mean +- std",
        file=stream,
    )
    print(
        f"{'task':<16} {'metric':<36} {'local':>17} {'global':>17} {'local gain':>11}", file=stream
    )
    for row in summary["rows"]:
        loc, glob = row[MODELS[0]], row[MODELS[1]]
        label = f"{row['metric']} ({row['better']} is better)"
        print(
            f"{row['task']:<16} {label:<36} {loc['mean']:>8.3f} +- {loc['std']:<5.3f} "
            f"{glob['mean']:>8.3f} +- {glob['std']:<5.3f} "
            f"{row['local_vs_global_percent']:>+10.1f}%",
            file=stream,
        )
    f = summary["fraction_within_target"]
    print(
        f"units within 0.05 of their own target rate: local {100 * f[MODELS[0]]:.0f}%, "
        f"global {100 * f[MODELS[1]]:.0f}%",
        file=stream,
    )


def _figure(results, seeds):
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 4, figsize=(17, 3.6))
    local = results[(MODELS[0], "narma10", 0)]
    traj, targets = local["rate_trajectory"], local["target_rate"].values
    pick = np.linspace(0, traj.sizes["unit"] - 1, 6).astype(int)
    for j, i in enumerate(pick):
        axes[0].plot(traj["adapt_step"], traj[:, i], color=f"C{j}", lw=1)
        axes[0].axhline(targets[i], color=f"C{j}", ls="--", lw=0.8)
    axes[0].set(xlabel="adaptation step", ylabel="rate", title="local rule: rates -> targets")
    for model, color in zip(MODELS, ("C0", "C3"), strict=True):
        ds = results[(model, "narma10", 0)]
        axes[1].scatter(
            ds["target_rate"], ds["adapted_rate"], s=5, alpha=0.5, color=color, label=model
        )
        for s in range(seeds):
            mc = results[(model, "memory-capacity", s)]["mc_curve"]
            axes[2].plot(
                mc["delay"], mc, color=color, alpha=0.7, lw=1, label=model if s == 0 else None
            )
    axes[1].plot([0, 1], [0, 1], "k--", lw=0.8)
    axes[1].set(
        xlabel="target rate",
        ylabel="mean rate after adaptation",
        xlim=(0, 1),
        ylim=(0, 1),
        title="per-unit rates",
    )
    axes[1].legend(fontsize=7)
    axes[2].set(xlabel="delay k", ylabel="MC_k", title="memory capacity curves")
    axes[2].legend(fontsize=7)
    for model, color in zip(MODELS, ("C0", "C3"), strict=True):
        ds = results[(model, "narma10", 0)]
        axes[3].plot(
            ds["prediction"][:150],
            color=color,
            lw=1,
            label=f"{model} (NRMSE {float(ds['nrmse']):.2f})",
        )
    axes[3].plot(local["target"][:150], "k", lw=1.2, alpha=0.6, label="NARMA-10 target")
    axes[3].set(xlabel="test step", title="NARMA-10 prediction")
    axes[3].legend(fontsize=7)
    fig.tight_layout()
    return fig
