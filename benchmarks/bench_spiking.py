"""Spiking engines: our numba kernel against Brian2 (cython runtime and C++ standalone).

Cases (``python benchmarks/run.py spiking``):

* ``cuba-4000``: Brian2's CUBA benchmark network (3200 E / 800 I, p = 0.02, current-based,
  E_L = -49 mV above threshold, no external input), dt = 0.1 ms, 1 s, forward Euler in both
  engines, the same connectivity and initial state handed to both. Brian2 cython: the first run
  (code generation + compilation, then the run) and repeat runs in the same process;
  Brian2 standalone: build (code generation + C++ compile) once, then the binary's run.
* ``scan-8``: an 8-point scan of the excitatory weight, end to end (every build and run):
  numba (a fresh network per point) against Brian2 standalone built once and rerun with
  ``run_args`` setting the weights.

Brian2 runs in subprocesses so that its global device state (standalone) does not leak; its
compiled code goes to :func:`neurolearn.spiking.brian2_cache_dir`. Run times are the best of
``REPEATS``; build times are single measurements.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]

CUBA = dict(
    n_exc=3200,
    n_inh=800,
    connection_prob=0.02,
    synapse="current",
    v_rest_mv=-49.0,
    v_threshold_mv=-50.0,
    v_reset_mv=-60.0,
    refractory_ms=5.0,
    tau_m_ms=20.0,
    tau_exc_ms=5.0,
    tau_inh_ms=10.0,
    bias_mv=0.0,
    bias_spread_mv=0.0,
    input_rate_hz=0.0,
    w_exc=1.62,
    w_inh=9.0,
    w_inh_exc=9.0,
    plasticity=False,
    record_v=0,
    dt_ms=0.1,
    seed=0,
)
SCAN_FACTORS = np.linspace(0.6, 1.3, 8)


def _network(size_factor: float, **overrides):
    from neurolearn.spiking import SpikingEINetwork

    kw = dict(CUBA, **overrides)
    kw["n_exc"] = int(round(kw["n_exc"] * size_factor))
    kw["n_inh"] = int(round(kw["n_inh"] * size_factor))
    kw["connection_prob"] = min(1.0, kw["connection_prob"] / size_factor)
    return SpikingEINetwork(**kw)


REPEATS = 3  # run times are the best of this many (the machine may be shared)


def _numba_case(size_factor: float, duration_ms: float) -> dict:
    _network(size_factor).run(10.0)  # compile (or load the cached kernel)
    times = []
    for _ in range(REPEATS):
        net = _network(size_factor).initialize()
        start = time.perf_counter()
        rec = net.run(duration_ms)
        times.append(time.perf_counter() - start)
    return {
        "run_s": min(times),
        "rate_hz": rec.population_rate_hz("all"),
        "spikes": len(rec.spike_ids),
    }


def _numba_scan(size_factor: float, duration_ms: float) -> dict:
    start = time.perf_counter()
    rates = []
    for f in SCAN_FACTORS:
        net = _network(size_factor, w_exc=CUBA["w_exc"] * f)
        rates.append(net.run(duration_ms).population_rate_hz("all"))
    return {"total_s": time.perf_counter() - start, "rates": rates}


# --------------------------------------------------------------------- Brian2 (subprocess side)
def _brian2_cython(size_factor: float, duration_ms: float) -> dict:
    from neurolearn.spiking._brian2 import run_brian2

    net = _network(size_factor, backend="brian2", brian2_target="cython").initialize()
    start = time.perf_counter()
    first = run_brian2(net, int(round(duration_ms / net.dt_ms)), False, _no_input(net))
    first_s = time.perf_counter() - start
    net.step_ += first.n_steps
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        rec = run_brian2(net, int(round(duration_ms / net.dt_ms)), False, _no_input(net))
        times.append(time.perf_counter() - start)
        net.step_ += rec.n_steps
    run_s = min(times)
    return {
        "first_s": first_s,
        "run_s": run_s,
        "rate_hz": rec.population_rate_hz("all"),
        "rate_first_hz": first.population_rate_hz("all"),
        "spikes_first": len(first.spike_ids),
    }


def _no_input(net):
    return (np.zeros(0), np.zeros(net.connectivity_.n), 1)


def _brian2_standalone(size_factor: float, duration_ms: float) -> dict:
    from neurolearn.spiking import standalone_scan

    net = _network(size_factor, backend="brian2").initialize()
    # one build: the unchanged network first (the CUBA case), then the 8 scan points
    points = [{}] * REPEATS + [{"w_exc": CUBA["w_exc"] * f} for f in SCAN_FACTORS]
    out = standalone_scan(net, duration_ms, points)
    return {
        "build_s": out["build_s"],
        "run_s": min(out["run_s"][:REPEATS]),
        "rate_hz": out["records"][0].population_rate_hz("all"),
        "scan_build_s": out["build_s"],
        "scan_runs_s": float(np.sum(out["run_s"][REPEATS:])),
        "scan_rates": [r.population_rate_hz("all") for r in out["records"][REPEATS:]],
    }


def _subprocess(mode: str, size_factor: float, duration_ms: float) -> dict:
    env = dict(os.environ, PYTHONPATH=f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}")
    cmd = [sys.executable, str(Path(__file__).resolve()), mode, str(size_factor), str(duration_ms)]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"Brian2 {mode} benchmark failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def run(quick: bool) -> list[dict]:
    """Rows for ``benchmarks/run.py``: cuba-4000 (three Brian2 modes) and the 8-point scan."""
    size, duration = (0.25, 200.0) if quick else (1.0, 1000.0)
    label = "cuba-1000" if quick else "cuba-4000"
    ours = _numba_case(size, duration)
    cy = _subprocess("cython", size, duration)
    sa = _subprocess("standalone", size, duration)
    scan_ours = _numba_scan(size, duration)
    rows = [
        {
            "case": f"{label} run",
            "ours_s": ours["run_s"],
            "peer": "brian2 cython (repeat run)",
            "peer_s": cy["run_s"],
            "ratio": cy["run_s"] / ours["run_s"],
            "peer_build_s": cy["first_s"] - cy["run_s"],
            "rate_ours_hz": ours["rate_hz"],
            "rate_peer_hz": cy["rate_first_hz"],
        },
        {
            "case": f"{label} run",
            "ours_s": ours["run_s"],
            "peer": "brian2 standalone (binary)",
            "peer_s": sa["run_s"],
            "ratio": sa["run_s"] / ours["run_s"],
            "peer_build_s": sa["build_s"],
            "rate_ours_hz": ours["rate_hz"],
            "rate_peer_hz": sa["rate_hz"],
        },
    ]
    sa_total = sa["scan_build_s"] + sa["scan_runs_s"]
    rows.append(
        {
            "case": f"scan-8 {label} end to end",
            "ours_s": scan_ours["total_s"],
            "peer": "brian2 standalone + run_args",
            "peer_s": sa_total,
            "ratio": sa_total / scan_ours["total_s"],
            "peer_build_s": sa["build_s"],
            "rate_ours_hz": float(np.mean(scan_ours["rates"])),
            "rate_peer_hz": float(np.mean(sa["scan_rates"])),
        }
    )
    return rows


if __name__ == "__main__":
    mode, size_arg, duration_arg = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
    if mode == "cython":
        result = _brian2_cython(size_arg, duration_arg)
    else:
        result = _brian2_standalone(size_arg, duration_arg)
    print(json.dumps(result))
