"""Scans on Dask: worker count does not change results, dead workers are retried, and a scan
killed with SIGKILL resumes without losing or recomputing a finished point."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from scan_helpers import HERE, TOY_MODEL, TOY_TASK, same_results

import neurolearn
from neurolearn.scan import scan

GRID = {"network.a": [1.0, 2.0], "task.length": [3, 6]}


def _scan(out, **kw):
    kw.setdefault("seeds", 2)
    kw.setdefault("grid", GRID)
    return scan(TOY_MODEL, TOY_TASK, out=out, progress=False, **kw)


def test_one_and_two_workers_give_identical_stores(tmp_path, cluster):
    over = ["network.sleep_s=0.02"]
    one = _scan(tmp_path / "one.zarr", workers=1, overrides=over)
    two = _scan(tmp_path / "two.zarr", scheduler=cluster.scheduler_address, overrides=over)
    inline = _scan(tmp_path / "inline.zarr", scheduler="synchronous", overrides=over)
    assert (one["status"] == "ok").all()
    same_results(one, two)
    same_results(one, inline)
    assert len(set(np.asarray(two["worker"]).ravel())) == 2  # both workers took points
    # every worker process had numba, OpenMP and BLAS pinned to one thread
    assert (one["pinned"] == 4).all() and (two["pinned"] == 4).all()


def test_point_of_a_dead_worker_is_retried_elsewhere(tmp_path, cluster):
    from distributed import Client

    crash_dir = tmp_path / "crash"
    crash_dir.mkdir()
    over = [f"network.crash_once_dir={str(crash_dir)!r}", "network.crash_point=1"]
    with Client(cluster) as client:  # a Client object works as well as an address
        ds = _scan(tmp_path / "s.zarr", scheduler=client, overrides=over)
        assert client.status == "running"  # the caller's client is left open
    assert (crash_dir / "crashed-1").exists()  # the worker running point 1 did die
    assert (ds["status"] == "ok").all()
    ref = _scan(tmp_path / "ref.zarr", scheduler="synchronous")
    same_results(ds, ref)


def _statuses(out: Path) -> np.ndarray | None:
    import zarr

    try:
        arr = zarr.open_array(str(out / "status"), mode="r")
        return np.asarray(arr[...]).astype(object).astype(str)
    except Exception:
        return None


def _log(path: Path) -> list[int]:
    return [int(x) for x in path.read_text().split()] if path.exists() else []


def test_sigkill_then_resume_loses_nothing_and_recomputes_nothing(tmp_path, cluster):
    from distributed import Client

    out, log = tmp_path / "s.zarr", tmp_path / "log.txt"
    grid = ["--grid", "network.a=1:8:8", "--grid", "task.length=3,5"]
    sets = ["--set", "network.sleep_s=0.25", "--set", f"network.log={str(log)!r}"]
    args = [
        "scan",
        TOY_MODEL,
        TOY_TASK,
        *grid,
        *sets,
        "--seeds",
        "2",
        "--out",
        str(out),
        "--scheduler",
        cluster.scheduler_address,
        "--no-progress",
    ]
    code = (
        f"import sys; sys.path.insert(0, {str(HERE)!r}); import scan_toy_family; "
        "from neurolearn.cli import main; sys.exit(main(sys.argv[1:]))"
    )
    env = dict(os.environ)
    root = str(Path(neurolearn.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join([root, env.get("PYTHONPATH", "")])
    proc = subprocess.Popen(
        [sys.executable, "-c", code, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 120
    while True:
        status = _statuses(out)
        if status is not None and 8 <= np.sum(status != "") < status.size:
            break
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the scan never got half-way"
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    before = _statuses(out)
    done = np.flatnonzero(before.ravel() != "")
    assert 0 < done.size < before.size
    with Client(cluster.scheduler_address) as client:  # wait until the killed scan's tasks go
        while client.run_on_scheduler(lambda dask_scheduler: len(dask_scheduler.tasks)):
            time.sleep(0.05)
        time.sleep(0.5)
    n_logged = len(_log(log))
    ds = scan(
        TOY_MODEL,
        TOY_TASK,
        grid=[grid[1], grid[3]],
        seeds=2,
        out=out,
        resume=True,
        overrides=[sets[1], sets[3]],
        scheduler=cluster.scheduler_address,
        progress=False,
    )
    recomputed = _log(log)[n_logged:]
    missing = np.flatnonzero(before.ravel() == "")
    assert sorted(recomputed) == sorted(missing)  # each missing point once, nothing else
    assert (ds["status"] == "ok").all()
    ref = scan(
        TOY_MODEL,
        TOY_TASK,
        grid=[grid[1], grid[3]],
        seeds=2,
        out=tmp_path / "ref.zarr",
        scheduler="synchronous",
        progress=False,
    )
    same_results(ds, ref)  # finished points kept intact, missing ones filled in
