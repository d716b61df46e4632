"""Where scan points run: in this process, on an embedded LocalCluster, on a running Dask
scheduler, or on Slurm through dask-jobqueue. The client process alone writes the store."""

from __future__ import annotations

import os
import sys
import time
import uuid
import warnings

import numpy as np

from neurolearn.errors import MissingDependencyError

__all__ = ["run_point", "PINNED_THREADS", "open_engine", "iterate_results"]

#: every worker runs one single-threaded task at a time: numba, OpenMP and BLAS pinned to 1
PINNED_THREADS = {
    "NUMBA_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
}


def _worker_name() -> str:
    if "distributed" not in sys.modules:  # not on a Dask worker (and no slow import)
        return "local"
    from distributed import get_worker

    try:
        return str(get_worker().name)
    except ValueError:
        return "local"


def run_point(flat: int, model_spec, task_spec, context: dict) -> dict:
    """Run one scan point; never raises (an error becomes a ``failed`` record).

    The point's seed is ``SeedSequence(context["entropy"], spawn_key=(flat,))``: the child that
    ``SeedSequence(entropy).spawn`` gives the point's flat index, whichever worker runs it.
    """
    from neurolearn.errors import NeurolearnWarning
    from neurolearn.experiment import run_specs

    seed = np.random.SeedSequence(context["entropy"], spawn_key=(flat,))
    start = time.perf_counter()
    record = {"flat": flat, "worker": _worker_name(), "metrics": {}, "curves": {}}
    try:
        with warnings.catch_warnings():
            # the scan records status and message itself
            warnings.filterwarnings("ignore", category=NeurolearnWarning, message="run of ")
            ds = run_specs(
                model_spec,
                task_spec,
                seed=seed,
                backend=context["backend"],
                device=context["device"],
                figure=False,
                checked=True,  # every point was checked at once before the scan
            )
    except Exception as exc:  # recorded per point: one bad point never stops a scan
        record.update(
            status="failed",
            message=f"{type(exc).__name__}: {exc}",
            wall_s=time.perf_counter() - start,
        )
        return record
    for name, var in ds.data_vars.items():
        if var.ndim == 0:
            record["metrics"][name] = float(var.values)
        else:
            coords = {d: np.asarray(var[d].values) for d in var.dims if d in var.coords}
            record["curves"][name] = (tuple(var.dims), np.asarray(var.values, float), coords)
    record.update(
        status=ds.attrs["status"], message=ds.attrs["message"], wall_s=float(ds.attrs["wall_s"])
    )
    return record


def _single_threaded():
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - without it BLAS keeps its own thread count
        import contextlib

        return contextlib.nullcontext()
    return threadpool_limits(limits=1)


def _identity(value):
    return value


def _import_distributed():
    try:
        import distributed
    except ImportError as exc:  # pragma: no cover - dask[distributed] is a core dependency
        raise MissingDependencyError(
            "scans on Dask need dask[distributed]: pip install 'dask[distributed]'."
        ) from exc
    return distributed


def _pin_threads_plugin():
    """A worker plugin for clusters we did not start: pin thread pools to one thread."""
    from distributed.diagnostics.plugin import WorkerPlugin

    class PinThreads(WorkerPlugin):
        name = "neurolearn-pin-threads"

        def setup(self, worker):
            os.environ.update(PINNED_THREADS)
            try:
                from threadpoolctl import threadpool_limits

                threadpool_limits(limits=1)
            except ImportError:
                pass

    return PinThreads()


class Engine:
    """An open place to run points: ``submit`` and ``results`` over a Dask client, or inline."""

    def __init__(self, kind: str, client=None, cluster=None, n_workers: int = 1):
        self.kind = kind
        self.client = client
        self.cluster = cluster
        self.n_workers = n_workers

    def close(self) -> None:
        if self.client is not None and self.kind != "client":
            self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def open_engine(*, workers, scheduler, slurm) -> Engine:
    """Start (or connect to) the engine chosen by the caller's options."""
    if scheduler == "synchronous":
        return Engine("synchronous")
    distributed = _import_distributed()
    if slurm is not None:
        from neurolearn._scan.slurm import slurm_cluster

        cluster, jobs = slurm_cluster(slurm)
        cluster.scale(jobs=jobs)
        client = distributed.Client(cluster)
        return Engine("slurm", client, cluster, n_workers=jobs)
    if isinstance(scheduler, distributed.Client):
        return Engine("client", scheduler, n_workers=len(scheduler.scheduler_info()["workers"]))
    if scheduler is not None:
        client = distributed.Client(scheduler, timeout="20s")
        _register_pinning(client)
        return Engine("address", client, n_workers=len(client.scheduler_info()["workers"]))
    n = workers or os.cpu_count() or 1
    cluster = distributed.LocalCluster(
        n_workers=n,
        threads_per_worker=1,
        processes=True,
        env=dict(PINNED_THREADS),
        dashboard_address=":0",
        silence_logs=50,
    )
    client = distributed.Client(cluster)
    return Engine("local", client, cluster, n_workers=n)


def _register_pinning(client) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plugin = _pin_threads_plugin()
        client.register_plugin(plugin, name=plugin.name)


def iterate_results(engine: Engine, todo: list, context: dict):
    """Yield one record per point of ``todo`` (``(flat, model_spec, task_spec)``) as they finish.

    On Dask, a worker that dies mid-point has its point retried on another worker by the
    scheduler (``distributed.scheduler.allowed-failures`` times); after that the point is
    recorded as ``failed`` and the scan goes on.
    """
    if engine.kind == "synchronous":
        # one BLAS/OpenMP thread, as on the workers: reductions then sum in the same order
        with _single_threaded():
            for flat, model_spec, task_spec in todo:
                yield run_point(flat, model_spec, task_spec, context)
        return
    distributed = _import_distributed()
    client = engine.client
    # the shared inputs of every point travel once: a task holds them and each worker fetches
    # them once (unlike scatter, this also works while no worker has joined yet, e.g. Slurm)
    shared = client.submit(
        _identity, context, pure=False, key=f"neurolearn-scan-context-{uuid.uuid4().hex}"
    )
    futures = {}
    for rank, (flat, model_spec, task_spec) in enumerate(todo):
        fut = client.submit(
            run_point,
            flat,
            model_spec,
            task_spec,
            shared,
            pure=False,
            priority=-rank,
            key=f"neurolearn-scan-point-{flat}-{uuid.uuid4().hex}",
        )
        futures[fut] = flat
    try:
        for fut in distributed.as_completed(futures):
            flat = futures.pop(fut)
            try:
                record = fut.result()
            except Exception as exc:
                record = {
                    "flat": flat,
                    "worker": "",
                    "metrics": {},
                    "curves": {},
                    "wall_s": np.nan,
                    "status": "failed",
                    "message": f"{type(exc).__name__}: {exc} (the worker running this point "
                    "died or the point could not be sent; it was retried on other workers)",
                }
            fut.release()
            yield record
    finally:
        for fut in futures:
            fut.cancel()
        shared.release()
