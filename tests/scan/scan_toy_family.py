"""A tiny test-only model family for scan tests: cheap, deterministic, and able to fail,
diverge, crash its worker once, sleep and log every computed point on request.

Importing it registers the kinds ``scan-toy`` (network) and ``scan-toy-task`` (task); worker
processes import it when they unpickle a spec table, so the registration reaches them too.
"""

from __future__ import annotations

import os
import time

import numpy as np
import xarray as xr

from neurolearn import registry
from neurolearn._outcome import Outcome
from neurolearn._params import Interval, NoneOr
from neurolearn._schema import SpecTable, param, spec_table
from neurolearn.errors import DivergenceError


class _Text:
    description = "a string"

    def check(self, value):
        from neurolearn._params import _Invalid

        if not isinstance(value, str):
            raise _Invalid(True)
        return value


@spec_table("network", "scan-toy")
class ToyNetwork(SpecTable):
    a: float = param(1.0, Interval(float, None, None), "slope")
    b: float = param(1.0, Interval(float, 0, None, "neither"), "decay constant of the curve")
    noise: float = param(0.1, Interval(float, 0, None), "noise scale")
    sleep_s: float = param(0.0, Interval(float, 0, None), "sleep per point")
    fail_when: float | None = param(None, NoneOr(Interval(float)), "raise when a equals it")
    diverge_when: float | None = param(None, NoneOr(Interval(float)), "diverge when a equals it")
    crash_once_dir: str = param("", _Text(), "folder of markers for crash_point")
    crash_point: int = param(-1, Interval(int, -1, None), "kill the worker once at this point")
    log: str = param("", _Text(), "append the point's spawn key to this file")


@spec_table("task", "scan-toy-task")
class ToyTask(SpecTable):
    length: int = param(5, Interval(int, 1, None), "curve length")


PINNED = ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
DEFAULT_KINDS: dict = {}
REQUIRED_SECTIONS = {"models": ("network",), "tasks": ("task",)}
TASK_KINDS = ("scan-toy-task",)

registry.MODEL_FAMILIES.setdefault("scan-toy", __name__)
registry.TASK_MODULES.setdefault("scan-toy-task", __name__)


def run_experiment(model, task, *, seed, backend, progress) -> Outcome:
    net = model.network
    point = seed.spawn_key[-1] if seed.spawn_key else -1
    if net.log:
        with open(net.log, "a") as fh:
            fh.write(f"{point}\n")
    if net.crash_once_dir and point == net.crash_point:
        marker = os.path.join(net.crash_once_dir, f"crashed-{point}")
        if not os.path.exists(marker):
            open(marker, "w").close()
            os._exit(1)
    if net.sleep_s:
        time.sleep(net.sleep_s)
    if net.fail_when is not None and net.a == net.fail_when:
        raise ValueError(f"toy failure at a={net.a}")
    if net.diverge_when is not None and net.a == net.diverge_when:
        raise DivergenceError(f"toy divergence at a={net.a}", step=3)
    rng = np.random.default_rng(seed)
    steps = np.arange(task.task.length)
    curve = net.a * np.exp(-steps / net.b) + net.noise * rng.standard_normal(steps.size)
    return Outcome(
        metrics={
            "score": float(net.a * net.b + net.noise * rng.standard_normal()),
            "final": float(curve[-1]),
            # how many thread-pool variables are pinned to 1 where the point ran
            "pinned": float(sum(os.environ.get(k) == "1" for k in PINNED)),
        },
        arrays={"loss": xr.DataArray(curve, dims=("step",), coords={"step": steps})},
    )
