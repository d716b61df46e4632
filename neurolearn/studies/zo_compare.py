"""All rules on one task under one query budget: the runs and a table (their figure is
:func:`neurolearn.plots.zo_runs_figure`: loss against queries and against wall time)."""

from __future__ import annotations

__all__ = ["ZO_MODELS", "compare_rules", "table_rows"]

#: the shipped models of the family, backprop first
ZO_MODELS = (
    "mlp-backprop",
    "weight-perturbation",
    "node-perturbation",
    "spsa",
    "forward-gradient",
    "evolution-strategies",
    "ou-weight-noise",
)


def compare_rules(
    task: str = "digits", models=ZO_MODELS, *, seed=0, overrides=(), backend=None
) -> dict:
    """Run every model on ``task`` with the same seed and overrides; ``{model: Dataset}``.

    Examples
    --------
    >>> runs = compare_rules("digits", ("mlp-backprop", "spsa"), overrides=[
    ...     "train.query_budget=200", "train.n_records=2"])
    >>> sorted(runs), int(runs["spsa"]["queries"])
    (['mlp-backprop', 'spsa'], 200)
    """
    from neurolearn.experiment import run

    return {
        m: run(m, task, seed=seed, overrides=list(overrides), backend=backend, figure=False)
        for m in models
    }


def table_rows(runs: dict) -> list[dict]:
    """One row per run: final test metric, queries, steps, training wall time.

    Examples
    --------
    >>> runs = compare_rules("digits", ("spsa",), overrides=["train.query_budget=100"])
    >>> table_rows(runs)[0]["queries"]
    100.0
    """
    rows = []
    for name, ds in runs.items():
        row = {"model": name, "status": ds.attrs["status"]}
        for key in ("test_accuracy", "test_loss", "queries", "steps"):
            if key in ds:
                row[key] = float(ds[key])
        if "train_wall_s" in ds.attrs:
            row["train_wall_s"] = float(ds.attrs["train_wall_s"])
        rows.append(row)
    return rows
