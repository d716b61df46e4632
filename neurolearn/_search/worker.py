"""The trial loop every search worker runs against the shared study storage.

Each worker (this process, or a Dask worker) loads the study from its storage, asks it for a
trial, runs the trial's seeds and tells the result, until the study holds ``trials`` finished
trials. Workers coordinate only through the storage:

* a trial is *finished* when it is complete, pruned, or failed with a message (its run failed
  or diverged); the budget counts finished trials;
* after asking, a worker keeps its trial only if it is among the first ``trials - finished``
  running trials (by number); a surplus trial goes back to waiting, so concurrent workers never
  run past the budget;
* a trial left running by a dead process (a killed search, a lost worker) is failed without a
  message and its parameters are queued again, so the next worker runs it: nothing is lost and
  nothing counts twice. A dead process is found at once on this host (its process id is gone),
  and from other machines when its trial's heartbeat (a time it writes into the trial every
  ``HEARTBEAT_S`` seconds) is older than ``GRACE_S`` seconds.
"""

from __future__ import annotations

import importlib
import os
import socket
import threading
import time

import numpy as np

from neurolearn.errors import MissingDependencyError

__all__ = [
    "import_optuna",
    "open_storage",
    "run_worker",
    "count_trials",
    "recover_stale",
    "HEARTBEAT_S",
    "GRACE_S",
]

#: seconds between a running trial's heartbeats, and after which a silent trial is stale
HEARTBEAT_S, GRACE_S = 20, 90
#: seconds after which a running trial its worker never signed is stale (signing takes ms)
UNSIGNED_S = 30


def import_optuna():
    try:
        import optuna
    except ImportError as exc:
        raise MissingDependencyError(
            "hyperparameter search needs optuna: pip install 'neurolearn[search]'."
        ) from exc
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna


def _requeue(study, trial) -> None:
    study.enqueue_trial(trial.params, user_attrs={"retry_of": trial.number})


def _sqlite_pragmas(connection, record) -> None:
    # write-ahead log, synced at checkpoints: a killed process loses no committed trial
    # (only a power cut could lose the last ones), and each trial commits several times
    # faster than with a rollback journal synced at every write
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def open_storage(url: str):
    """The study's RDB storage. A SQLite file (one machine; share a study between machines
    through a database server URL) waits up to two minutes for a busy database."""
    optuna = import_optuna()
    if not url.startswith("sqlite"):
        return optuna.storages.RDBStorage(url)
    from sqlalchemy import event

    storage = optuna.storages.RDBStorage(url, engine_kwargs={"connect_args": {"timeout": 120}})
    event.listen(storage.engine, "connect", _sqlite_pragmas)
    storage.engine.dispose()  # connections opened while creating the tables lack the pragmas
    return storage


def _owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _dead_here(owner: str) -> bool:
    host, _, pid = owner.rpartition(":")
    if host != socket.gethostname() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, run by another user
        return False
    return False


def _stale(trial, now: float) -> bool:
    owner = trial.user_attrs.get("worker")
    if owner is None:  # died in the instant between asking for the trial and signing it
        started = trial.datetime_start.timestamp() if trial.datetime_start else now
        return now - started > UNSIGNED_S
    if _dead_here(owner):
        return True
    return now - float(trial.user_attrs.get("heartbeat", now)) > GRACE_S


def recover_stale(study, trials) -> int:
    """Fail the running trials whose process died and queue their parameters again.

    ``trials`` is the study's current trial list; returns how many trials were recovered.
    """
    from optuna.trial import TrialState

    storage = study._storage
    now = time.time()
    n = 0
    for trial in trials:
        if trial.state != TrialState.RUNNING or not _stale(trial, now):
            continue
        try:
            storage.set_trial_user_attr(trial._trial_id, "interrupted", "its process died")
            if not storage.set_trial_state_values(trial._trial_id, TrialState.FAIL):
                continue
        except (RuntimeError, ValueError):  # another worker failed it first
            continue
        _requeue(study, storage.get_trial(trial._trial_id))
        n += 1
    return n


def count_trials(trials) -> dict:
    """Trials by outcome: ``complete``, ``pruned``, ``failed`` (run failed or diverged),
    ``interrupted`` (process died; re-queued), ``running`` (numbers) and ``finished``."""
    from optuna.trial import TrialState

    out = {"complete": 0, "pruned": 0, "failed": 0, "interrupted": 0, "running": []}
    for t in trials:
        if t.state == TrialState.COMPLETE:
            out["complete"] += 1
        elif t.state == TrialState.PRUNED:
            out["pruned"] += 1
        elif t.state == TrialState.FAIL:
            out["failed" if "message" in t.user_attrs else "interrupted"] += 1
        elif t.state == TrialState.RUNNING:
            out["running"].append(t.number)
    out["finished"] = out["complete"] + out["pruned"] + out["failed"]
    return out


def sampler_seed(seed: int, worker: int, n_trials: int) -> int:
    """The TPE sampler seed of worker ``worker`` joining a study of ``n_trials`` trials:
    ``SeedSequence(seed, spawn_key=(1, worker, n_trials))``. A fresh search draws the same
    trials at every run; a resumed one draws new ones, not the killed search's sequence again.
    """
    state = np.random.SeedSequence(int(seed), spawn_key=(1, int(worker), int(n_trials)))
    return int(state.generate_state(1)[0])


def load_study(config: dict, worker: int):
    optuna = import_optuna()
    study = optuna.load_study(
        study_name=config["study_name"], storage=open_storage(config["storage"])
    )
    n_trials = len(study.get_trials(deepcopy=False))
    study.sampler = optuna.samplers.TPESampler(
        seed=sampler_seed(config["seed"], worker, n_trials), multivariate=True
    )
    study.pruner = (
        optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=0)
        if config["prune"] and config["seeds"] > 1
        else optuna.pruners.NopPruner()
    )
    return study


def _suggest(trial, dim):
    if dim.kind == "log":
        return trial.suggest_float(dim.key, dim.low, dim.high, log=True)
    if dim.kind == "lin":
        return trial.suggest_float(dim.key, dim.low, dim.high)
    if dim.kind == "int":
        return trial.suggest_int(dim.key, dim.low, dim.high)
    return trial.suggest_categorical(dim.key, list(dim.choices))


class _Heartbeat:
    """Writes the time into the running trial every ``HEARTBEAT_S`` seconds, so that workers
    on other machines see when its process died."""

    def __init__(self, storage, trial_id: int):
        self.storage, self.trial_id = storage, trial_id
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._beat, daemon=True)

    def _beat(self):
        while not self.stop.is_set():
            try:
                self.storage.set_trial_user_attr(self.trial_id, "heartbeat", time.time())
            except Exception:  # a missed beat is harmless while the next ones arrive
                pass
            self.stop.wait(HEARTBEAT_S)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()


def run_trial(study, trial, config) -> None:
    """Run one trial's seeds and tell the study the outcome; never raises on a failed run."""
    from optuna.trial import TrialState

    from neurolearn._search.objective import run_seed, trial_specs
    from neurolearn.experiment import check_specs

    params = {key: _suggest(trial, dim) for key, dim in config["space"].items()}
    values: list[float] = []
    message = ""
    pruned = False
    try:
        model_spec, task_spec = trial_specs(config["base_spec"], params)
        check_specs(model_spec, task_spec)  # a combination the family refuses fails the trial
        for k in range(config["seeds"]):
            value, message = run_seed(
                model_spec,
                task_spec,
                config["metric"],
                config["seed"],
                k,
                config["backend"],
                config["device"],
            )
            if value is None:
                break
            values.append(value)
            if k < config["seeds"] - 1:
                trial.report(float(np.mean(values)), k)
                if trial.should_prune():
                    pruned = True
                    break
    except Exception as exc:  # a trial that cannot run is a failed trial, not a failed search
        message = f"{type(exc).__name__}: {' '.join(str(exc).split())}"
    trial.set_user_attr("seed_values", values)
    if message:
        trial.set_user_attr("message", message[:2000])
        study.tell(trial, state=TrialState.FAIL)
    elif pruned:
        study.tell(trial, state=TrialState.PRUNED)
    else:
        study.tell(trial, float(np.mean(values)))


def run_worker(config: dict, worker: int = 0, on_trial=None) -> int:
    """Run trials until the study holds ``config["trials"]`` finished ones; returns how many
    trials this worker finished. ``on_trial(counts)`` is called after each (for progress)."""
    from optuna.trial import TrialState

    for module in config.get("modules", ()):
        importlib.import_module(module)
    study = load_study(config, worker)
    storage = study._storage
    total = int(config["trials"])
    done = 0
    while True:
        trials = study.get_trials(deepcopy=False)
        if recover_stale(study, trials):
            trials = study.get_trials(deepcopy=False)
        counts = count_trials(trials)
        if on_trial is not None:
            on_trial(counts)
        if counts["finished"] + len(counts["running"]) >= total:
            break
        trial = study.ask()
        storage.set_trial_user_attr(trial._trial_id, "worker", _owner())
        counts = count_trials(study.get_trials(deepcopy=False))
        if sorted(counts["running"]).index(trial.number) >= total - counts["finished"]:
            # another worker took the last slot: hand the trial back untouched
            storage.set_trial_state_values(trial._trial_id, TrialState.WAITING)
            break
        with _Heartbeat(storage, trial._trial_id):
            run_trial(study, trial, config)
        done += 1
    return done
