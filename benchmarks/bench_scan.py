"""Scan machinery: a 64-point reservoir scan on 1 and 2 workers, against a plain Python loop.

The scan is an ESN on NARMA-10 over 8 spectral radii x 8 seeds, written to a Zarr store point
by point, at two point sizes: N = 200 (tens of milliseconds per point on an idle core, where the
fixed costs per point show) and N = 1000 (about a second per point, a typical scan point).
Rows report the wall time, the speed-up over one worker, and the per-point overhead of the scan
machinery: (workers x wall time - sum of point times) / points, with and without the start-up
of the Dask cluster. ``client_cpu_ms_per_point`` is the CPU time of the calling process
(client, Dask scheduler, store writes) per point, which machine load does not inflate. The
``plain loop`` row runs the same 64 points with :func:`neurolearn.experiment.run_specs` in a
``for`` loop (BLAS pinned to one thread like the workers), keeping the Datasets in memory;
``peer_s`` is its time.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

import neurolearn as nl
from neurolearn import specs
from neurolearn.errors import NeurolearnWarning
from neurolearn.experiment import run_specs
from neurolearn.scan import scan


def _setups(quick: bool):
    radii = [round(float(r), 3) for r in np.linspace(0.3, 1.2, 4 if quick else 8)]
    seeds = 4 if quick else 8
    grid = {"network.spectral_radius": radii}
    if quick:
        return [("N=100", grid, seeds, ["task.train_steps=1000", "task.test_steps=500"])]
    return [("N=200", grid, seeds, ["network.n=200"]), ("N=1000", grid, seeds, ["network.n=1000"])]


def _plain_loop(grid, seeds, overrides, root_seed=0) -> tuple[float, float]:
    from threadpoolctl import threadpool_limits

    key, values = next(iter(grid.items()))
    n = len(values) * seeds
    children = np.random.SeedSequence(root_seed).spawn(n)
    with threadpool_limits(limits=1), warnings.catch_warnings():
        warnings.simplefilter("ignore", NeurolearnWarning)
        start = time.perf_counter()
        point_s = 0.0
        results = []
        for flat, child in enumerate(children):
            over = [*overrides, (key, values[flat // seeds])]
            ds = run_specs(
                specs.load_model("esn", over),
                specs.load_task("narma10", over),
                seed=child,
                figure=False,
            )
            point_s += ds.attrs["wall_s"]
            # NARMA-10 itself diverges for a few input draws: those points record 'diverged'
            results.append(float(ds["nrmse"]) if "nrmse" in ds else np.nan)
        return time.perf_counter() - start, point_s, np.array(results)


def run(quick: bool) -> list[dict]:
    tmp = Path(tempfile.mkdtemp(prefix="bench-scan-"))
    # warm the numba cache so no row pays compilation
    nl.run(
        "esn",
        "narma10",
        overrides=["network.n=20", "task.train_steps=300", "task.test_steps=100"],
        figure=False,
    )
    rows = []
    n_points = 0
    for size, grid, seeds, overrides in _setups(quick):
        n_points = len(next(iter(grid.values()))) * seeds
        rows += _scan_rows(tmp, size, grid, seeds, overrides, n_points)
    rows += _sleep_control(tmp, n_points)
    shutil.rmtree(tmp, ignore_errors=True)
    return rows


def _scan_rows(tmp, size, grid, seeds, overrides, n_points) -> list[dict]:
    rows = []
    loop_s, loop_point_s, loop_nrmse = _plain_loop(grid, seeds, overrides)
    runs = [
        ("synchronous", {"scheduler": "synchronous"}, 1),
        ("1 worker", {"workers": 1}, 1),
        ("2 workers", {"workers": 2}, 2),
    ]
    base = None
    for label, kw, n_workers in runs:
        out = tmp / f"{size}-{label.replace(' ', '-')}.zarr"
        cpu0 = time.process_time()
        ds = scan(
            "esn",
            "narma10",
            grid=grid,
            seeds=seeds,
            overrides=overrides,
            out=out,
            progress=False,
            **kw,
        )
        client_cpu = time.process_time() - cpu0
        wall, loop = ds.attrs["scan_wall_s"], ds.attrs["scan_loop_s"]
        point_s = float(ds["wall_s"].sum())
        assert np.isin(ds["status"].values, ["ok", "diverged"]).all()
        assert np.array_equal(ds["nrmse"].values.ravel(), loop_nrmse, equal_nan=True), (
            "scan != plain loop"
        )
        if label == "1 worker":
            base = wall
        rows.append(
            {
                "case": f"esn {size}/narma10 {n_points} points, {label}",
                # other processes on the machine distort every wall time: 1-minute load average
                "load": round(os.getloadavg()[0], 1),
                "ok": int((ds["status"] == "ok").sum()),
                "ours_s": wall,
                "peer": "plain loop",
                "peer_s": loop_s,
                "ratio": loop_s / wall,
                "speedup_vs_1_worker": (base / wall) if base else float("nan"),
                "loop_s": loop,
                "start_s": ds.attrs["scan_start_s"],
                "point_s": point_s,
                "overhead_ms_per_point": 1e3 * (n_workers * wall - point_s) / n_points,
                "overhead_ms_per_point_no_start": 1e3 * (n_workers * loop - point_s) / n_points,
                # CPU time of this process (client, scheduler, store writes) per point: the cost
                # of the machinery that does not depend on how loaded the machine is
                "client_cpu_ms_per_point": (
                    1e3 * client_cpu / n_points if label != "synchronous" else float("nan")
                ),
            }
        )
    rows.append(
        {
            "case": f"esn {size}/narma10 {n_points} points, plain loop",
            "ours_s": loop_s,
            "peer": "plain loop",
            "peer_s": loop_s,
            "ratio": 1.0,
            "point_s": loop_point_s,
            "overhead_ms_per_point": 1e3 * (loop_s - loop_point_s) / n_points,
        }
    )
    return rows


def _sleep_control(tmp: Path, n_points: int) -> list[dict]:
    """The same machinery on points that sleep 0.2 s instead of computing.

    A sleeping point needs no CPU, so its speed-up on 2 workers shows what the scan machinery
    allows when the cores are free, even on a machine busy with other work (where the compute
    speed-up above is bounded by the CPU share this process group gets).
    """
    import sys

    here = Path(__file__).resolve().parent.parent / "tests" / "scan"
    if not (here / "scan_toy_family.py").exists():
        return []
    sys.path.insert(0, str(here))
    import scan_toy_family  # noqa: F401  (the test-only toy family)

    rows, base = [], None
    seeds = 8
    grid = {"network.a": [float(v) for v in range(1, n_points // seeds + 1)]}
    for workers in (1, 2):
        ds = scan(
            str(here / "toy_model.toml"),
            str(here / "toy_task.toml"),
            grid=grid,
            seeds=seeds,
            overrides=["network.sleep_s=0.2"],
            workers=workers,
            out=tmp / f"sleep-{workers}.zarr",
            progress=False,
        )
        wall, loop = ds.attrs["scan_wall_s"], ds.attrs["scan_loop_s"]
        point_s = float(ds["wall_s"].sum())
        base = base or wall
        rows.append(
            {
                "case": f"control: {n_points} points sleeping 0.2 s, {workers} worker(s)",
                "load": round(os.getloadavg()[0], 1),
                "ok": int((ds["status"] == "ok").sum()),
                "ours_s": wall,
                "peer": "",
                "peer_s": float("nan"),
                "ratio": float("nan"),
                "speedup_vs_1_worker": base / wall,
                "loop_s": loop,
                "start_s": ds.attrs["scan_start_s"],
                "point_s": point_s,
                "overhead_ms_per_point": 1e3 * (workers * wall - point_s) / n_points,
                "overhead_ms_per_point_no_start": 1e3 * (workers * loop - point_s) / n_points,
            }
        )
    return rows
