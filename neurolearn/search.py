"""Hyperparameter search: a TPE study over spec keys, trials on the scan's Dask cluster.

A trial sets every searched key (see ``neurolearn._search.space`` for the space syntax),
runs the model on the task with ``seeds`` seeds, the same for every trial
(``numpy.random.SeedSequence(seed, spawn_key=(0, k))`` for the ``k``-th), and scores the mean
of the task's metric. A trial already worse than the median after its first seeds is pruned.
A run that fails or diverges makes a failed trial with its message; the search goes on.

The study lives in an Optuna RDB storage (a SQLite file, or any database URL to share it
between machines). Workers of the same Dask cluster as :func:`neurolearn.scan` (a local
cluster by default) each run trials against that storage (see ``neurolearn._search.worker``),
and running the same search again resumes it: finished trials are kept, a trial its killed
process left running is failed and run again, and the budget counts finished trials.
"""

from __future__ import annotations

import os
import sys
import time
import types
from dataclasses import dataclass, field
from pathlib import Path

from neurolearn.errors import ParameterError, ParameterTypeError

__all__ = ["search", "SearchResult", "parse_space", "format_result"]


def parse_space(space):
    """Parse a search space; see ``neurolearn._search.space.parse_space``.

    Examples
    --------
    >>> list(parse_space(["readout.ridge=log:1e-9:1e-2"]))
    ['readout.ridge']
    """
    from neurolearn._search.space import parse_space as _parse

    return _parse(space)


@dataclass
class SearchResult:
    """The outcome of :func:`search`: the study, the best trial and the files written."""

    study: object
    metric: str
    direction: str
    best_value: float | None
    best_params: dict
    best_trial: int | None
    counts: dict
    files: list = field(default_factory=list)
    computed: int = 0
    wall_s: float = 0.0


def _storage_url(out) -> str:
    if not isinstance(out, str | os.PathLike):
        raise ParameterTypeError(
            "The 'out' parameter of search must be a path or a database URL. "
            f"Got {type(out).__name__} instead."
        )
    text = str(out)
    if "://" in text:
        return text
    from neurolearn.experiment import check_writable

    check_writable(Path(text).parent / "probe")
    return f"sqlite:///{Path(text).resolve()}"


def _beside(out, best) -> Path:
    """The best TOML file: ``best``, else beside a SQLite study as ``<stem>.best.toml``."""
    if best is not None:
        return Path(best)
    text = str(out)
    if "://" in text:
        return Path("study.best.toml")
    path = Path(text)
    return path.with_name(path.stem + ".best.toml")


def _check_options(trials, seeds, seed, workers, scheduler, prune, progress) -> None:
    from neurolearn._params import Interval, check_param
    from neurolearn._scan import limits

    check_param("search", "trials", trials, Interval(int, 1, None))
    check_param("search", "seeds", seeds, Interval(int, 1, None))
    check_param("search", "seed", seed, Interval(int, 0, None))
    if workers is not None:
        check_param("search", "workers", workers, Interval(int, 1, None))
        limits.check_workers(workers)
    if workers is not None and scheduler is not None:
        raise ParameterError("search: give at most one of workers and scheduler.")
    if scheduler is not None and not isinstance(scheduler, str):
        raise ParameterTypeError(
            "The 'scheduler' parameter of search must be an address like 'tcp://host:8786', "
            f"'synchronous' or None. Got {scheduler!r} instead."
        )
    for name, value in (("prune", prune), ("progress", progress)):
        if not isinstance(value, bool):
            raise ParameterTypeError(
                f"The '{name}' parameter of search must be a bool. Got {value!r} instead."
            )


def _open_study(optuna, url, name, identity, direction):
    """Create the study, or load it and refuse one started by a different search."""
    from neurolearn._search.worker import open_storage

    storage = open_storage(url)
    study = optuna.create_study(
        storage=storage, study_name=name, direction=direction, load_if_exists=True
    )
    stored = study.user_attrs.get("search")
    if stored is None:
        study.set_user_attr("search", identity)
    elif stored != identity:
        diff = [k for k in identity if stored.get(k) != identity[k]]
        raise ParameterError(
            f"study {name!r} in {url} was started by a different search "
            f"(it differs in: {', '.join(diff)}); use another --out or --study-name."
        )
    return study


def search(
    model,
    task,
    *,
    space,
    trials: int,
    out,
    seeds: int = 3,
    seed: int = 0,
    overrides=(),
    metric: str | None = None,
    direction: str = "auto",
    study_name: str | None = None,
    best=None,
    prune: bool = True,
    workers: int | None = None,
    scheduler=None,
    backend: str | None = None,
    device: str | None = None,
    figures: bool = True,
    progress: bool = True,
) -> SearchResult:
    """Search spec keys of ``model`` on ``task`` with TPE; resumable, parallel on Dask.

    Parameters
    ----------
    model, task : str or path
        Names from ``models/`` and ``tasks/`` or TOML paths, as in :func:`neurolearn.run`.
    space : dict or list of str
        ``{key: spec}`` or ``["KEY=SPEC", ...]``; a spec is ``"log:LO:HI"``, ``"lin:LO:HI"``,
        ``"int:LO:HI"`` or a comma list of choices (``"0.3,1.0"``, or a Python list).
    trials : int
        Finished trials (complete, pruned or failed) the study holds at the end.
    out : path or str
        The study's storage: a SQLite file path, or a database URL (``postgresql://...``).
        A study that exists there is resumed (it must come from the same search).
    seeds : int, default=3
        Runs per trial; the trial's value is the mean of the metric over them.
    seed : int, default=0
        Root of the run seeds (``SeedSequence(seed, spawn_key=(0, k))`` for run ``k`` of every
        trial) and of the samplers (``SeedSequence(seed, spawn_key=(1, worker, n_trials))``,
        ``n_trials`` the trials in the study when the worker joins: a resumed search does not
        draw the killed one's parameters again).
    overrides : sequence of "key=value", default=()
        Overrides applied to every trial (like ``--set``).
    metric : str or None, default=None
        The run metric to optimise; by default the one the task's ``[metric]`` table declares.
    direction : {"auto", "minimize", "maximize"}, default="auto"
        ``"auto"``: minimise an error, maximise a capacity or an accuracy.
    study_name : str or None, default=None
        Name of the study in the storage (default ``"<model>-on-<task>"``).
    best : path or None, default=None
        The best model spec (TOML); default beside the SQLite file, ``<stem>.best.toml``.
    prune : bool, default=True
        Prune a trial whose running mean after a seed is worse than the median (with 2+ seeds).
    workers : int or None, default=None
        Processes of the embedded Dask LocalCluster (default: one per core).
    scheduler : str or None, default=None
        Address of a running Dask scheduler, or ``"synchronous"`` to run every trial in this
        process (then, with one worker, the trials are the same at every run of a seed).
    backend, device : str or None, default=None
        As in :func:`neurolearn.run`.
    figures : bool, default=True
        Write ``<stem>.history.png`` and ``<stem>.importance.png`` beside the best file.
    progress : bool, default=True
        Show a progress bar (finished trials / total) on stderr.

    Returns
    -------
    SearchResult

    Raises
    ------
    SpecError, ParameterError
        Before anything runs: an empty space, a malformed item, a reversed range, a log range
        with a bound <= 0, an unknown key, ``trials < 1``, or a study from another search.
    MissingDependencyError
        When optuna is not installed (``pip install 'neurolearn[search]'``).

    Examples
    --------
    >>> import tempfile, neurolearn as nl
    >>> out = tempfile.mkdtemp() + "/study.db"
    >>> res = nl.search("esn", "narma10", space={"readout.ridge": "log:1e-8:1e-2"},
    ...                 trials=4, seeds=1, out=out, scheduler="synchronous", progress=False,
    ...                 overrides=["network.n=30", "task.train_steps=300",
    ...                            "task.test_steps=100"])
    >>> res.counts["finished"], res.metric, res.direction
    (4, 'nrmse', 'minimize')
    >>> sorted(res.best_params)
    ['readout.ridge']
    """
    from neurolearn import __version__, registry, specs
    from neurolearn._search import report
    from neurolearn._search.objective import resolve_objective
    from neurolearn._search.space import check_space
    from neurolearn._search.space import parse_space as _parse
    from neurolearn.backend import resolve_backend
    from neurolearn.experiment import check_memory, check_specs

    start = time.perf_counter()
    _check_options(trials, seeds, seed, workers, scheduler, prune, progress)
    dims = _parse(space)
    parsed = specs.parse_overrides(overrides)
    base_model = specs.load_model(model, parsed)
    base_task = specs.load_task(task, parsed)
    specs.check_overrides_used(parsed, base_model, base_task)
    check_space(dims, model, task, base_model, base_task, parsed)
    resolved = resolve_backend(backend, device)
    check_specs(base_model, base_task, backend=resolved)
    check_memory(base_model, base_task)
    metric, direction = resolve_objective(base_task, metric, direction)
    url = _storage_url(out)
    best_path = _beside(out, best)
    name = study_name or f"{base_model.name}-on-{base_task.name}"
    if not isinstance(name, str) or not name:
        raise ParameterTypeError(f"The 'study_name' parameter must be a name. Got {name!r}.")

    from neurolearn._search.worker import count_trials, import_optuna, recover_stale

    optuna = import_optuna()
    base_spec = specs.resolved_toml(base_model, base_task, None)
    identity = {
        "model": base_model.name,
        "task": base_task.name,
        "spec": base_spec,
        "space": {k: d.describe() for k, d in dims.items()},
        "metric": metric,
        "seeds": int(seeds),
        "seed": int(seed),
        "prune": prune,
        "backend": resolved.name,
    }
    study = _open_study(optuna, url, name, identity, direction)
    study.set_user_attr(
        "seed_rule",
        f"run k of every trial: numpy.random.SeedSequence({int(seed)}, spawn_key=(0, k))",
    )
    study.set_user_attr("neurolearn_version", __version__)
    recover_stale(study, study.get_trials(deepcopy=False))
    config = {
        "storage": url,
        "study_name": name,
        "trials": int(trials),
        "seeds": int(seeds),
        "seed": int(seed),
        "prune": prune,
        "base_spec": base_spec,
        "space": dims,
        "metric": metric,
        "backend": resolved.name,
        "device": resolved.device,
        # a worker imports the modules that declare the kinds before it reads the spec
        "modules": [
            registry.MODEL_FAMILIES[base_model.network.kind_name],
            registry.TASK_MODULES[base_task.task.kind_name],
        ],
    }
    before = count_trials(study.get_trials(deepcopy=False))["finished"]
    if before < trials:
        _drive(config, study, workers, scheduler, progress, before)
    counts = count_trials(study.get_trials(deepcopy=False))
    counts.pop("running")
    result = SearchResult(
        study=study,
        metric=metric,
        direction=direction,
        best_value=None,
        best_params={},
        best_trial=None,
        counts=counts,
        computed=counts["finished"] - before,
    )
    if counts["complete"]:
        best_trial = study.best_trial
        result.best_value = float(best_trial.value)
        result.best_params = dict(best_trial.params)
        result.best_trial = best_trial.number
        description = (
            f"{base_model.description or base_model.name}; searched on {base_task.name}: "
            f"mean {metric} {best_trial.value:.6g} over {seeds} seed(s) "
            f"(trial {best_trial.number} of study {name!r})"
        )
        result.files += report.write_best(best_path, base_spec, result.best_params, description)
        if figures:
            stem = best_path.name.removesuffix(".toml").removesuffix(".best")
            history = best_path.with_name(f"{stem}.history.png")
            importance = best_path.with_name(f"{stem}.importance.png")
            report.plot_history(study, metric, history)
            report.plot_importances(study, importance, int(seed))
            result.files += [history, importance]
    result.wall_s = time.perf_counter() - start
    return result


def _drive(config, study, workers, scheduler, progress, before) -> None:
    """Run workers until the study holds ``trials`` finished trials (rounds: a worker that died
    leaves its trial to the next round)."""
    from tqdm.auto import tqdm

    from neurolearn._scan import engine as engines
    from neurolearn._search.worker import GRACE_S, count_trials, run_worker

    total = config["trials"]
    bar = tqdm(
        total=total,
        initial=before,
        unit="trial",
        desc="search",
        disable=not progress,
        file=sys.stderr,
        dynamic_ncols=True,
    )

    def refresh(counts=None):
        counts = counts or count_trials(study.get_trials(deepcopy=False))
        bar.n = min(counts["finished"], total)
        bar.refresh()

    engine = engines.open_engine(workers=workers, scheduler=scheduler, slurm=None)
    try:
        idle_rounds = 0
        deadline = time.monotonic() + GRACE_S + 30
        while True:
            if engine.kind == "synchronous":
                with engines._single_threaded():
                    run_worker(config, 0, on_trial=refresh)
            else:
                _run_on_dask(engine, config, refresh)
            counts = count_trials(study.get_trials(deepcopy=False))
            if counts["finished"] >= total:
                break
            if not counts["running"]:
                idle_rounds += 1  # a worker was lost: run another round
                if idle_rounds >= 3:
                    break
                continue
            # trials still running: of a live search elsewhere (wait for it to finish them)
            # or of a dead process not yet stale (the next round fails and re-runs them)
            if time.monotonic() > deadline:
                break
            time.sleep(2.0)
    finally:
        engine.close()
        refresh()
        bar.close()


def _run_on_dask(engine, config, refresh) -> None:
    import uuid

    import distributed

    from neurolearn._search.worker import run_worker

    client = engine.client
    n = max(engine.n_workers, 1)
    futures = [
        client.submit(
            run_worker, config, w, pure=False, key=f"neurolearn-search-{w}-{uuid.uuid4().hex}"
        )
        for w in range(n)
    ]
    pending = distributed.as_completed(futures)
    done = 0
    while done < n:
        # refresh the bar while the workers run; each ends when the budget is reached
        try:
            batch = pending.next_batch(block=False)
        except StopIteration:
            break
        for fut in batch:
            done += 1
            try:
                fut.result()
            except Exception:  # its trial is recovered as interrupted in the next round
                pass
        refresh()
        if done < n:
            time.sleep(0.5)


def format_result(result: SearchResult, out) -> str:
    """One summary line and the best value, for the end of a search.

    Examples
    --------
    >>> r = SearchResult(study=None, metric="nrmse", direction="minimize", best_value=0.3,
    ...                  best_params={"readout.ridge": 1e-6}, best_trial=7,
    ...                  counts={"finished": 10, "complete": 8, "pruned": 1, "failed": 1,
    ...                          "interrupted": 0}, computed=10, wall_s=2.0)
    >>> print(format_result(r, "study.db"))
    search: 10 trials (8 complete, 1 pruned, 1 failed); 10 run by this call in 2 s; study.db
    best nrmse 0.3 (minimize) at trial 7: readout.ridge=1e-06
    """
    c = result.counts
    line = (
        f"search: {c['finished']} trials ({c['complete']} complete, {c['pruned']} pruned, "
        f"{c['failed']} failed)"
    )
    if c.get("interrupted"):
        line += f", {c['interrupted']} interrupted and run again"
    line += f"; {result.computed} run by this call in {result.wall_s:.3g} s; {out}"
    if result.best_value is None:
        return line + "\nno trial completed: no best value"
    params = ", ".join(
        f"{k}={v:.6g}" if isinstance(v, float) else f"{k}={v}"
        for k, v in result.best_params.items()
    )
    return (
        f"{line}\nbest {result.metric} {result.best_value:.6g} ({result.direction}) at trial "
        f"{result.best_trial}: {params}"
    )


class _CallableModule(types.ModuleType):
    """Importing ``neurolearn.search`` binds the module to ``neurolearn.search``, hiding the
    lazy function of the same name; calling the module calls :func:`search`, so
    ``nl.search(...)`` works whether or not the module was imported first."""

    def __call__(self, *args, **kwargs):
        return search(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
