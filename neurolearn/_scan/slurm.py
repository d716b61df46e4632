"""Slurm clusters for scans, through dask-jobqueue, from a small TOML config file.

Example config (``slurm.toml``)::

    [slurm]
    jobs = 4                      # Slurm jobs to submit
    cores = 8                     # cores per job = single-threaded workers per job
    memory = "16GB"               # memory per job
    walltime = "02:00:00"
    queue = "compute"             # partition (optional)
    account = "mylab"             # optional
    job_extra_directives = ["--constraint=avx2"]
    job_script_prologue = ["module load python/3.12", "source ~/venv/bin/activate"]
    python = "/home/me/venv/bin/python"   # optional, default: this Python
    local_directory = "$TMPDIR"           # optional, worker scratch space

Each job runs ``cores`` worker processes with one thread each; the job script exports
``NUMBA_NUM_THREADS=1`` (and the OpenMP/BLAS equivalents) before the workers start.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from neurolearn._params import Interval, _Invalid
from neurolearn._schema import did_you_mean
from neurolearn.errors import MissingDependencyError, SpecError

__all__ = ["read_slurm_config", "slurm_cluster"]


class _Text:
    description = "a non-empty string"

    def check(self, value):
        if not isinstance(value, str) or not value:
            raise _Invalid(True)
        return value


class _TextList:
    description = "a list of strings"

    def check(self, value):
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise _Invalid(True)
        return list(value)


_KEYS = {
    "jobs": (Interval(int, 1, None), 1),
    "cores": (Interval(int, 1, None), 1),
    "memory": (_Text(), "4GB"),
    "walltime": (_Text(), "01:00:00"),
    "queue": (_Text(), None),
    "account": (_Text(), None),
    "job_extra_directives": (_TextList(), []),
    "job_script_prologue": (_TextList(), []),
    "python": (_Text(), None),
    "local_directory": (_Text(), None),
}


def read_slurm_config(path) -> dict:
    """Read and validate a Slurm config file; return the ``[slurm]`` table with defaults.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "slurm.toml"
    >>> _ = p.write_text('[slurm]\\njobs = 2\\ncores = 4\\n')
    >>> cfg = read_slurm_config(p)
    >>> cfg["jobs"], cfg["cores"], cfg["memory"]
    (2, 4, '4GB')
    """
    path = Path(path)
    if not path.is_file():
        raise SpecError(f"Slurm config file {str(path)!r} does not exist.")
    try:
        raw = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"{path}: not valid TOML: {exc}") from None
    unknown = [k for k in raw if k != "slurm"]
    if unknown or not isinstance(raw.get("slurm"), dict):
        raise SpecError(
            f"{path}: expected a single [slurm] table."
            + (f" Unknown: {', '.join(unknown)}." if unknown else "")
        )
    out = {}
    for key, value in raw["slurm"].items():
        if key not in _KEYS:
            raise SpecError(
                f"{path}: slurm.{key}: unknown key.{did_you_mean(key, _KEYS)} "
                f"Valid keys: {', '.join(sorted(_KEYS))}."
            )
        constraint = _KEYS[key][0]
        try:
            out[key] = constraint.check(value)
        except _Invalid:
            raise SpecError(
                f"{path}: slurm.{key}: must be {constraint.description}. Got {value!r} instead."
            ) from None
    for key, (_, default) in _KEYS.items():
        out.setdefault(key, default)
    return out


def slurm_cluster(path):
    """A ``dask_jobqueue.SLURMCluster`` from a config file, and the number of jobs to start.

    No job is submitted until ``cluster.scale(jobs=...)``; ``cluster.job_script()`` shows the
    batch script each job runs.
    """
    from neurolearn._scan.engine import PINNED_THREADS

    cfg = read_slurm_config(path)
    try:
        from dask_jobqueue import SLURMCluster
    except ImportError as exc:
        raise MissingDependencyError(
            "Slurm scans need dask-jobqueue: pip install 'neurolearn[slurm]'."
        ) from exc
    prologue = [f"export {k}={v}" for k, v in PINNED_THREADS.items()]
    kwargs = dict(
        cores=cfg["cores"],
        processes=cfg["cores"],
        memory=cfg["memory"],
        walltime=cfg["walltime"],
        job_extra_directives=cfg["job_extra_directives"],
        job_script_prologue=prologue + cfg["job_script_prologue"],
        job_name="neurolearn-scan",
    )
    for key in ("queue", "account", "python", "local_directory"):
        if cfg[key] is not None:
            kwargs[key] = cfg[key]
    return SLURMCluster(**kwargs), cfg["jobs"]
