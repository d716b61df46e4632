"""The one registry: where each model and task kind lives, and every spec table.

Model and task kinds map to module paths (imported lazily, on first use). Importing a module
registers its spec tables here (``@spec_table`` fills :data:`TABLES`); :func:`all_tables`
imports every known module first, for a complete listing (docs, ``neurolearn list``).

A model spec's ``network.kind`` selects the family module that declares its tables and runs it;
a task spec's ``task.kind`` selects the module that declares the task tables. A family module
provides ``run_experiment(model, task, *, seed, backend, progress) -> Outcome`` and
``TASK_KINDS`` (the task kinds it can run), and may provide ``check_specs(model, task)`` that
raises :class:`~neurolearn.errors.SpecError` for a model/task combination that cannot work,
``check_backend(backend)`` for a backend it cannot use, and ``estimate_memory(model, task)``
(the run's peak bytes, with ``MEMORY_KEYS`` naming the spec keys that drive it). All are
called before the run starts (see :func:`neurolearn.experiment.check_specs` and
:func:`neurolearn.experiment.check_memory`), so the CLI exits 2.

A family that can run many points of a model kind together (a scan's batch) lists those
network kinds in ``BATCH_KINDS`` and provides ``run_experiment_batch(models, tasks, *, seeds,
backend, progress) -> list``: one entry per point, the :class:`~neurolearn._outcome.Outcome`
that ``run_experiment`` returns for it (the same numbers) or the exception it would raise, so
one point's divergence or error never fails its batch-mates. :func:`batch_runner` finds it.
"""

from __future__ import annotations

import importlib

__all__ = [
    "MODEL_FAMILIES",
    "TASK_MODULES",
    "TABLES",
    "family_module",
    "batch_runner",
    "task_module",
    "all_tables",
]

#: network.kind -> family experiment module
MODEL_FAMILIES: dict[str, str] = {
    "ei-reservoir": "neurolearn.reservoir.experiment",
    "esn": "neurolearn.reservoir.experiment",
    "spiking-ei": "neurolearn.spiking.experiment",
    "spiking-reservoir": "neurolearn.spiking.reservoir_experiment",
    "two-layer": "neurolearn.teacher.experiment",
    "mlp": "neurolearn.zo.experiment",
    "rate-rnn": "neurolearn.rnnfit.experiment",
}

#: task.kind -> module declaring the task tables
TASK_MODULES: dict[str, str] = {
    "memory-capacity": "neurolearn.tasks.specs",
    "narma": "neurolearn.tasks.specs",
    "mackey-glass": "neurolearn.tasks.specs",
    "lorenz": "neurolearn.tasks.specs",
    "rate-homeostasis": "neurolearn.spiking.task_specs",
    "teacher": "neurolearn.tasks.teacher",
    "teacher-online": "neurolearn.tasks.teacher",
    "digits": "neurolearn.tasks.digits",
    "sequence-classification": "neurolearn.tasks.sequences",
    "soc-reaching": "neurolearn.tasks.reaching",
}


def family_module(network_kind: str):
    """Import and return the family module for a ``network.kind``."""
    return importlib.import_module(MODEL_FAMILIES[network_kind])


def batch_runner(network_kind: str):
    """The family's ``run_experiment_batch`` when ``network_kind`` runs points in batches
    (it is in the family's ``BATCH_KINDS``), else None.

    Examples
    --------
    >>> batch_runner("spiking-ei").__name__, batch_runner("esn")
    ('run_experiment_batch', None)
    """
    family = family_module(network_kind)
    if network_kind in getattr(family, "BATCH_KINDS", ()):
        return family.run_experiment_batch
    return None


def task_module(task_kind: str):
    """Import and return the module that declares a ``task.kind``."""
    return importlib.import_module(TASK_MODULES[task_kind])


#: (section, kind) -> spec table class, filled by ``neurolearn._schema.spec_table`` on import
TABLES: dict = {}


def all_tables() -> dict:
    """Every spec table of every known family and task module, by ``(section, kind)``.

    Examples
    --------
    >>> ("network", "esn") in all_tables()
    True
    """
    for module in {*MODEL_FAMILIES.values(), *TASK_MODULES.values()}:
        importlib.import_module(module)
    return TABLES
