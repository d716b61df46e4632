"""What a search leaves beside its study: the best spec as TOML files, and two figures."""

from __future__ import annotations

import tomllib
from pathlib import Path

from neurolearn import specs

__all__ = ["write_best", "plot_history", "plot_importances"]


def write_best(path: Path, base_spec: str, params: dict, description: str) -> list[Path]:
    """Write the best model spec to ``path``; when the space or ``--set`` touched the task, the
    task spec too, beside it as ``<stem>-task.toml``. Returns the files written."""
    from neurolearn._search.objective import trial_specs

    model_spec, task_spec = trial_specs(base_spec, params)
    raw = tomllib.loads(base_spec)
    header = {"spec_version": specs.SPEC_VERSION, "description": description}
    path = Path(path)
    path.write_text(specs.to_toml({**header, **model_spec.to_dict()}))
    written = [path]
    default_task = specs.load_task(raw.get("task_name", ""), ()) if _is_shipped(raw) else None
    if default_task is None or default_task.to_dict() != task_spec.to_dict():
        task_path = path.with_name(path.stem + "-task.toml")
        task_header = {
            "spec_version": specs.SPEC_VERSION,
            "description": f"{raw.get('task_description', '')} (as searched)".strip(),
        }
        task_path.write_text(specs.to_toml({**task_header, **task_spec.to_dict()}))
        written.append(task_path)
    return written


def _is_shipped(raw: dict) -> bool:
    return raw.get("task_name", "") in specs.available("tasks")


def _finished(study):
    from optuna.trial import TrialState

    return [t for t in study.get_trials(deepcopy=False) if t.state == TrialState.COMPLETE]


def plot_history(study, metric: str, path: Path) -> None:
    """Each complete trial's value against its number, and the best so far."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    trials = _finished(study)
    numbers = np.array([t.number for t in trials])
    values = np.array([t.value for t in trials])
    best = np.minimum.accumulate if study.direction.name == "MINIMIZE" else np.maximum.accumulate
    fig, ax = plt.subplots(figsize=(6, 3.6))
    if len(trials):
        ax.plot(numbers, values, "o", ms=4, alpha=0.6, label="trial (mean over seeds)")
        ax.step(numbers, best(values), where="post", color="C3", label="best so far")
        if np.all(values > 0) and values.max() / values.min() > 20:
            ax.set_yscale("log")
        ax.legend(frameon=False)
    ax.set_xlabel("trial")
    ax.set_ylabel(metric)
    ax.set_title(f"optimisation history ({study.direction.name.lower()})")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_importances(study, path: Path, seed: int) -> str:
    """fANOVA importance of each searched key (bars); returns "" or why none were drawn."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import optuna

    fig, ax = plt.subplots(figsize=(6, 3.6))
    note = ""
    try:
        evaluator = optuna.importance.FanovaImportanceEvaluator(seed=seed)
        importances = optuna.importance.get_param_importances(study, evaluator=evaluator)
    except (RuntimeError, ValueError) as exc:
        importances, note = {}, f"no importances: {exc}"
    if importances:
        keys = list(importances)[::-1]
        ax.barh(keys, [importances[k] for k in keys], color="C0")
        ax.set_xlabel("importance (fANOVA, share of the variance of the objective)")
    else:
        ax.text(0.5, 0.5, note or "no importances", ha="center", va="center", wrap=True)
        ax.set_axis_off()
    ax.set_title("parameter importances")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return note
