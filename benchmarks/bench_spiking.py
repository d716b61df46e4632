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
* ``ensemble``: throughput, in network-seconds simulated per wall second, of 1, 8, 32 and 128
  copies of the 1000-neuron E/I network of ``models/spiking-ei.toml`` (800 E / 200 I, p = 0.2,
  conductance synapses, 1000 Hz external Poisson drive, iSTDP on), 1 s each. The copies differ
  in their seed (initial membrane potentials, biases, external drive) and share ONE
  connectivity: a Brian2 standalone binary cannot change its synapses without a rebuild, so
  every side runs the same synapses for a fair comparison. Sides: ``run_batch`` on the numba
  engine (one call for all copies); a loop of single numba runs (``net.run``); Brian2 C++
  standalone built once (:func:`neurolearn.spiking.standalone_ensemble`) and rerun per copy
  with ``run_args`` setting its initial state, biases, weights and external counts (build
  time reported, and included in the "end to end" figure); Brian2 cython, a loop of runs in
  one process (each copy builds its Brian2 objects; the compiled code is reused, the first
  compilation is excluded); the torch engine's ``run_batch`` (float32; CPU, and CUDA when
  present; the 128-copy size runs once).
  Every Brian2 copy gets the same external counts as its numba twin, so the firing rates are
  compared copy by copy; the batched numba run must equal the single runs spike for spike.

Brian2 runs in subprocesses so that its global device state (standalone) does not leak; its
compiled code goes to :func:`neurolearn.spiking.brian2_cache_dir`. Run times are the best of
``REPEATS``; build times are single measurements. In the ensemble case the Brian2 sides run
their copies one after another, so their time for k copies is the sum over the first k copies
of each copy's best time: the first ``PEER_REPEAT_COPIES`` copies take the best of ``REPEATS``
runs, the later ones (of the 128-copy size only) a single run, to bound the benchmark's time.
Drawing the external counts handed to Brian2 is not counted in its time.

``--quick``: a 200-neuron network, 200 ms, 1 and 4 copies, the Brian2 copies run once, and the
standalone projects are kept under :func:`neurolearn.spiking.brian2_cache_dir` so that later
quick runs only recompile what changed (their build time is then that of the incremental build).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
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


# --------------------------------------------------------------------- ensembles
ENSEMBLE_SIZES = (1, 8, 32, 128)
ENSEMBLE_DURATION_MS = 1000.0
QUICK_ENSEMBLE = dict(n_exc=160, n_inh=40, sizes=(1, 4), duration_ms=200.0)
PEER_REPEAT_COPIES = 32  # Brian2 copies beyond this many run once (see the module docstring)
ENSEMBLE_TARGETS = {"loop": (32, 1.5), "standalone": (32, 10.0)}  # (copies, min ratio)


def _model_params() -> dict:
    """The network and rule of ``models/spiking-ei.toml`` as SpikingEINetwork parameters."""
    spec = tomllib.loads((ROOT / "models" / "spiking-ei.toml").read_text())
    kw = {k: v for k, v in spec["network"].items() if k != "kind"}
    kw.update({k: v for k, v in spec["rule"].items() if k != "kind"})
    return kw


def _ensemble_config(quick: bool) -> dict:
    if quick:
        q = QUICK_ENSEMBLE
        n_exc, n_inh, sizes, duration = q["n_exc"], q["n_inh"], q["sizes"], q["duration_ms"]
    else:
        n_exc, n_inh, sizes, duration = 800, 200, ENSEMBLE_SIZES, ENSEMBLE_DURATION_MS
    kw = dict(_model_params(), n_exc=n_exc, n_inh=n_inh, plasticity=True, record_v=0)
    return {
        "params": kw,
        "sizes": list(sizes),
        "duration_ms": duration,
        "quick": quick,
        "peer_repeat_copies": 0 if quick else PEER_REPEAT_COPIES,
    }


def _ensemble_networks(cfg: dict, n: int, first: int = 0, **overrides):
    """Fresh copies ``first .. n - 1`` (seed ``i + 1``), sharing the connectivity of seed 0."""
    from neurolearn.spiking import SpikingEINetwork, random_connectivity

    kw = dict(cfg["params"], **overrides)
    conn = random_connectivity(
        kw["n_exc"],
        kw["n_inh"],
        kw["connection_prob"],
        w_exc=kw["w_exc"],
        w_inh=kw["w_inh"],
        w_inh_exc=kw["w_inh_exc"],
        rng=np.random.default_rng(0),
    )
    return [
        SpikingEINetwork(**dict(kw, connectivity=conn, seed=i + 1)).initialize()
        for i in range(first, n)
    ]


def _rate(rec) -> float:
    return rec.population_rate_hz("all")


def _same_spikes(a, b) -> bool:
    return bool(
        np.array_equal(a.spike_steps, b.spike_steps) and np.array_equal(a.spike_ids, b.spike_ids)
    )


def _numba_ensemble(cfg: dict) -> dict:
    """Batched and looped numba runs of every size (fresh copies each time), best of REPEATS."""
    from neurolearn.spiking import run_batch

    duration = cfg["duration_ms"]
    run_batch(_ensemble_networks(cfg, 2), 10.0)  # compile (or load the cached kernels)
    _ensemble_networks(cfg, 1)[0].run(10.0)
    out = {}
    for k in cfg["sizes"]:
        batch_s, loop_s = [], []
        for _ in range(REPEATS):
            nets = _ensemble_networks(cfg, k)
            start = time.perf_counter()
            batch_recs = run_batch(nets, duration)
            batch_s.append(time.perf_counter() - start)
            nets = _ensemble_networks(cfg, k)
            start = time.perf_counter()
            loop_recs = [net.run(duration) for net in nets]
            loop_s.append(time.perf_counter() - start)
        pairs = zip(batch_recs, loop_recs, strict=True)
        out[k] = {
            "batch_s": min(batch_s),
            "loop_s": min(loop_s),
            "identical": all(_same_spikes(a, b) for a, b in pairs),
            "rates": [_rate(r) for r in batch_recs],
        }
    return out


def _torch_device_kw(device: str) -> dict | None:
    """The parameter that puts a torch-engine network on ``device`` (None: no such parameter)."""
    from neurolearn.spiking import SpikingEINetwork

    names = SpikingEINetwork._param_names()
    for name in ("device", "torch_device"):
        if name in names:
            return {name: device}
    return {} if device == "cpu" else None


def _torch_ensemble(cfg: dict) -> dict:
    """Batched torch runs (float32, the engine's default) of every size, per available device
    (empty without the engine); sizes above ``PEER_REPEAT_COPIES`` run once."""
    import neurolearn.spiking as spiking

    if "torch" not in spiking.ENGINES:
        return {}
    import torch

    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    out = {}
    for device in devices:
        kw = _torch_device_kw(device)
        if kw is None:
            continue
        spiking.run_batch(_ensemble_networks(cfg, 2, backend="torch", **kw), 10.0)
        per_size = {}
        for k in cfg["sizes"]:
            times = []
            for _ in range(REPEATS if k <= cfg["peer_repeat_copies"] else 1):
                nets = _ensemble_networks(cfg, k, backend="torch", **kw)
                if device == "cuda":
                    torch.cuda.synchronize()
                start = time.perf_counter()
                recs = spiking.run_batch(nets, cfg["duration_ms"])
                if device == "cuda":
                    torch.cuda.synchronize()
                times.append(time.perf_counter() - start)
            per_size[k] = {
                "run_s": min(times),
                "rates": [_rate(r) for r in recs],
                "repeats": f"best of {len(times)}" if len(times) > 1 else "1 run",
            }
        out[device] = per_size
    return out


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


def _project_dir(name: str, quick: bool):
    """Where a standalone project goes: a kept folder for the quick path (its later builds only
    recompile what changed), else None (a new folder, a full build)."""
    if not quick:
        return None
    from neurolearn.spiking import brian2_cache_dir

    return brian2_cache_dir() / f"bench-{name}-quick"


def _brian2_standalone(size_factor: float, duration_ms: float, quick: bool) -> dict:
    from neurolearn.spiking import standalone_scan

    net = _network(size_factor, backend="brian2").initialize()
    # one build: the unchanged network first (the CUBA case), then the 8 scan points
    points = [{}] * REPEATS + [{"w_exc": CUBA["w_exc"] * f} for f in SCAN_FACTORS]
    out = standalone_scan(net, duration_ms, points, directory=_project_dir("cuba", quick))
    return {
        "build_s": out["build_s"],
        "run_s": min(out["run_s"][:REPEATS]),
        "rate_hz": out["records"][0].population_rate_hz("all"),
        "scan_build_s": out["build_s"],
        "scan_runs_s": float(np.sum(out["run_s"][REPEATS:])),
        "scan_rates": [r.population_rate_hz("all") for r in out["records"][REPEATS:]],
    }


def _peer_repeats(i: int, cfg: dict) -> int:
    """How many runs a Brian2 side makes of copy ``i`` (its time is their best)."""
    return REPEATS if i < cfg["peer_repeat_copies"] else 1


def _best_per_copy(run_copy, n_copies: int, cfg: dict) -> tuple[list[float], list]:
    """Each copy's best time (``REPEATS`` runs for the first ``PEER_REPEAT_COPIES``) and record."""
    times, recs = [], []
    for i in range(n_copies):
        best, rec = np.inf, None
        for _ in range(_peer_repeats(i, cfg)):
            seconds, rec = run_copy(i)
            best = min(best, seconds)
        times.append(best)
        recs.append(rec)
    return times, recs


def _brian2_ensemble_standalone(cfg: dict) -> dict:
    from neurolearn.spiking import standalone_ensemble

    n = max(cfg["sizes"])
    nets = _ensemble_networks(cfg, n, backend="brian2")
    order = [i for i in range(n) for _ in range(_peer_repeats(i, cfg))]
    kept = _project_dir("ensemble", cfg["quick"])
    directory = kept or tempfile.mkdtemp(prefix="bench-ensemble-")
    try:
        out = standalone_ensemble([nets[i] for i in order], cfg["duration_ms"], directory=directory)
    finally:
        if kept is None:
            shutil.rmtree(directory, ignore_errors=True)
    best = {}
    for i, run_s, binary_s, rec in zip(
        order, out["run_s"], out["binary_s"], out["records"], strict=True
    ):
        old = best.get(i)
        if old is None or run_s < old[0]:
            best[i] = (run_s, binary_s, _rate(rec))
    return {
        "build_s": out["build_s"],
        "run_s": [best[i][0] for i in range(n)],
        "binary_s": [best[i][1] for i in range(n)],
        "rates": [best[i][2] for i in range(n)],
    }


def _brian2_ensemble_cython(cfg: dict) -> dict:
    n = max(cfg["sizes"])
    duration = cfg["duration_ms"]
    warm = _ensemble_networks(cfg, 1, backend="brian2", brian2_target="cython")[0]
    start = time.perf_counter()
    warm.run(duration)  # code generation and compilation (or the cache), then the run
    first_s = time.perf_counter() - start

    def run_copy(i):
        net = _ensemble_networks(cfg, i + 1, i, backend="brian2", brian2_target="cython")[0]
        start = time.perf_counter()
        rec = net.run(duration)
        return time.perf_counter() - start, _rate(rec)

    times, rates = _best_per_copy(run_copy, n, cfg)
    return {"first_s": first_s, "run_s": times, "rates": rates}


def _subprocess(mode: str, *args) -> dict:
    env = dict(os.environ, PYTHONPATH=f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}")
    cmd = [sys.executable, str(Path(__file__).resolve()), mode, *map(str, args)]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"Brian2 {mode} benchmark failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _cuba_rows(quick: bool) -> list[dict]:
    """cuba-4000 (two Brian2 modes) and the 8-point scan."""
    size, duration = (0.25, 200.0) if quick else (1.0, 1000.0)
    label = "cuba-1000" if quick else "cuba-4000"
    ours = _numba_case(size, duration)
    cy = _subprocess("cython", size, duration)
    sa = _subprocess("standalone", size, duration, int(quick))
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


def _rate_columns(ours: list[float], peer: list[float]) -> dict:
    ours, peer = np.asarray(ours), np.asarray(peer)
    return {
        "rate_ours_hz": float(ours.mean()),
        "rate_peer_hz": float(peer.mean()),
        "rate_max_rel_diff": float(np.max(np.abs(peer - ours) / ours)),
    }


def _ensemble_rows(quick: bool) -> list[dict]:
    """One row per ensemble size and peer; ``ratio`` = peer time / batched numba time."""
    cfg = _ensemble_config(quick)
    n = cfg["params"]["n_exc"] + cfg["params"]["n_inh"]
    seconds = cfg["duration_ms"] / 1000.0
    ours = _numba_ensemble(cfg)
    sa = _subprocess("ensemble-standalone", json.dumps(cfg))
    cy = _subprocess("ensemble-cython", json.dumps(cfg))
    torch_runs = _torch_ensemble(cfg)
    rows = []
    for k in cfg["sizes"]:
        o = ours[k]
        n_best = min(k, cfg["peer_repeat_copies"])
        if n_best == k:
            repeats = f"best of {REPEATS} per copy"
        elif n_best == 0:
            repeats = "1 run per copy"
        else:
            repeats = f"best of {REPEATS} per copy for the first {n_best}, then 1 run"
        base = {
            "case": f"ensemble-{n} x{k}",
            "copies": k,
            "ours": "numba run_batch",
            "ours_s": o["batch_s"],
            "ours_net_s_per_s": k * seconds / o["batch_s"],
            "batch_equals_single": o["identical"],
        }
        peers = [
            ("numba loop of single runs", o["loop_s"], o["rates"], f"best of {REPEATS}", "loop"),
            (
                "brian2 standalone + run_args, end to end (build + runs)",
                sa["build_s"] + float(np.sum(sa["run_s"][:k])),
                sa["rates"][:k],
                repeats,
                "standalone",
            ),
            (
                "brian2 standalone + run_args, runs only",
                float(np.sum(sa["run_s"][:k])),
                sa["rates"][:k],
                repeats,
                None,
            ),
            (
                "brian2 cython, loop in one process (first build excluded)",
                float(np.sum(cy["run_s"][:k])),
                cy["rates"][:k],
                repeats,
                None,
            ),
        ]
        for device, per_size in torch_runs.items():
            t = per_size[k]
            label = f"torch {device} run_batch (float32)"
            peers.append((label, t["run_s"], t["rates"], t["repeats"], None))
        for peer, peer_s, peer_rates, peer_repeats, target_key in peers:
            row = dict(
                base,
                peer=peer,
                peer_s=peer_s,
                ratio=peer_s / o["batch_s"],
                peer_net_s_per_s=k * seconds / peer_s,
                peer_repeats=peer_repeats or f"best of {REPEATS}",
                **_rate_columns(o["rates"][: len(peer_rates)], peer_rates),
            )
            if "standalone" in peer:
                row["peer_build_s"] = sa["build_s"]
                row["peer_binary_s"] = float(np.sum(sa["binary_s"][:k]))
            if "cython" in peer:
                row["peer_first_build_s"] = cy["first_s"] - cy["run_s"][0]
            target = ENSEMBLE_TARGETS.get(target_key)
            if target is not None and target[0] == k and not quick:
                row["target"] = target[1]
                row["met"] = row["ratio"] >= target[1]
            rows.append(row)
    return rows


def run(quick: bool) -> list[dict]:
    """Rows for ``benchmarks/run.py``: cuba-4000, the 8-point scan and the ensembles."""
    return _cuba_rows(quick) + _ensemble_rows(quick)


def _fmt(value: float) -> str:
    return f"{value:.3g}"


def markdown(payload: dict) -> str:
    """The README tables, from ``benchmarks/results/spiking.json``."""
    rows = payload["rows"]
    lines = [
        "| case | compared with | ours (s) | theirs (s) | ratio |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        if "copies" not in r:
            lines.append(
                f"| {r['case']} | {r['peer']} | {_fmt(r['ours_s'])} | {_fmt(r['peer_s'])} "
                f"| {r['ratio']:.2f}x |"
            )
    ens = [r for r in rows if "copies" in r]
    if ens:
        peers = list(dict.fromkeys(r["peer"] for r in ens))
        lines += [
            "",
            "Ensembles, network-seconds simulated per wall second (higher is better); "
            "speed-up = batched numba over the column's side:",
            "",
            "| copies | numba run_batch | "
            + " | ".join(peers)
            + " | batched = single | rate numba / Brian2 standalone (Hz) |",
            "|---|---|" + "---|" * len(peers) + "---|---|",
        ]
        for k in dict.fromkeys(r["copies"] for r in ens):
            at_k = {r["peer"]: r for r in ens if r["copies"] == k}
            first = next(iter(at_k.values()))
            cells = []
            for peer in peers:
                r = at_k.get(peer)
                if r is None:
                    cells.append("")
                    continue
                mark = ""
                if "target" in r:
                    mark = f", target {r['target']:g}x: {'met' if r['met'] else 'NOT met'}"
                cells.append(f"{_fmt(r['peer_net_s_per_s'])} ({r['ratio']:.2f}x{mark})")
            sa = next((r for p, r in at_k.items() if "standalone" in p), None)
            rates = f"{sa['rate_ours_hz']:.2f} / {sa['rate_peer_hz']:.2f}" if sa is not None else ""
            lines.append(
                f"| {k} | {_fmt(first['ours_net_s_per_s'])} | "
                + " | ".join(cells)
                + f" | {first['batch_equals_single']} | {rates} |"
            )
        sa_rows = [r for r in ens if "peer_build_s" in r]
        if sa_rows:
            lines += [
                "",
                f"Brian2 standalone build (code generation + C++ compile, once): "
                f"{_fmt(sa_rows[0]['peer_build_s'])} s.",
            ]
    machine = payload.get("machine", {})
    lines += [
        "",
        f"<sub>From `benchmarks/results/{payload['benchmark']}.json` "
        f"({machine.get('cpu', machine.get('processor', '?'))}, {machine.get('cpu_count', '?')} "
        f"cores); ratio = their time / ours.</sub>",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode.startswith("ensemble-"):
        config = json.loads(sys.argv[2])
        config["sizes"] = [int(k) for k in config["sizes"]]
        if mode == "ensemble-standalone":
            result = _brian2_ensemble_standalone(config)
        else:
            result = _brian2_ensemble_cython(config)
    elif mode == "cython":
        result = _brian2_cython(float(sys.argv[2]), float(sys.argv[3]))
    else:
        result = _brian2_standalone(float(sys.argv[2]), float(sys.argv[3]), sys.argv[4] == "1")
    print(json.dumps(result))
