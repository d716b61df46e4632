"""The torch path: backprop, SPSA (MeZO form) and forward gradient on CPU or CUDA, for MLPs of
millions of parameters, and a measurement of their peak memory against inference.

:class:`TorchRun` drives the torch kernels for :func:`neurolearn.zo.train` (``backend="torch"``).
:func:`memory_profile` trains a large MLP for a few steps in a fresh process per mode and reports
peak memory above the process baseline (CPU: peak resident set size; CUDA: the allocator's peak).
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np

from neurolearn._params import Interval, Options, check_param
from neurolearn.backend import import_torch, resolve_backend
from neurolearn.errors import BackendError

__all__ = ["TorchRun", "TORCH_RULES", "memory_profile", "LARGE_MLP"]

#: rules the torch path implements
TORCH_RULES = ("backprop", "spsa", "forward-gradient")

#: 784-2048-2048-2048-10: 10,020,874 parameters
LARGE_MLP = (784, 2048, 2048, 2048, 10)


class TorchRun:
    """State of one torch training run (parameters as tensors, float64, on ``device``).

    Used by :func:`neurolearn.zo.train`; ``steps(batches, step0, seen)`` runs a chunk and
    returns ``(queries, first_bad_step)`` like the numba loop.
    """

    def __init__(self, net, rule, theta, X, Y, *, key: int, device=None, noise="native"):
        if rule.name not in TORCH_RULES:
            raise BackendError(
                f"The torch backend runs the rules {', '.join(TORCH_RULES)}; "
                f"{rule.name!r} runs on the numba backend only (backend='numba')."
            )
        torch = import_torch()
        self.torch = torch
        self.net, self.rule, self.key = net, rule, key
        self.device = resolve_backend("torch", device).device
        self.kargs = rule.checked()
        lay = net.layout_
        self.params, self.offsets = [], []
        th = torch.from_numpy(np.asarray(theta, dtype=np.float64).copy()).to(self.device)
        for layer, (w, b) in enumerate(net.weights(np.asarray(theta))):
            wo = int(lay.w_off[layer])
            wt = th[wo : wo + w.size].reshape(w.shape[1], w.shape[0]).clone()
            self.offsets.append(wo)
            bt = None
            if b is not None:
                bo = int(lay.b_off[layer])
                bt = th[bo : bo + b.size].clone()
                self.offsets.append(bo)
            self.params.append((wt, bt))
        self.X = torch.from_numpy(X).to(self.device)
        self.Y = torch.from_numpy(Y).to(self.device)
        self.offsets = self.offsets if noise == "hash" else None
        self.common = {
            "activation": net.activation,
            "output_activation": net.output_activation,
            "loss": net.loss,
        }

    def theta(self) -> np.ndarray:
        """The parameters as the flat numpy vector of the numba layout."""
        parts = []
        for w, b in self.params:
            parts.append(w.detach().cpu().numpy().ravel())
            if b is not None:
                parts.append(b.detach().cpu().numpy())
        return np.concatenate(parts)

    def steps(self, batches, step0: int, seen) -> tuple[int, int]:
        from neurolearn._kernels.torch import zo as T

        torch = self.torch
        p = self.kargs
        queries = 0
        for s, rows in enumerate(batches):
            idx = torch.from_numpy(np.asarray(rows)).to(self.device)
            x, y = self.X[idx], self.Y[idx]
            step = step0 + s
            if self.rule.name == "backprop":
                value, q = T.backprop_step_(
                    self.params, x, y, learning_rate=p["learning_rate"], **self.common
                )
            elif self.rule.name == "spsa":
                value, q = T.spsa_step_(
                    self.params,
                    x,
                    y,
                    seed=self.key,
                    step=step,
                    sigma=p["sigma"],
                    learning_rate=p["learning_rate"],
                    n_probes=p["n_probes"],
                    direction=p["direction"],
                    offsets=self.offsets,
                    **self.common,
                )
            else:
                value, q = T.forward_gradient_step_(
                    self.params,
                    x,
                    y,
                    seed=self.key,
                    step=step,
                    learning_rate=p["learning_rate"],
                    n_probes=p["n_probes"],
                    offsets=self.offsets,
                    **self.common,
                )
                value = 0.0
            queries += q
            seen[s] = value
            finite = np.isfinite(value) and all(
                bool(torch.isfinite(t).all()) for pair in self.params for t in pair if t is not None
            )
            if not finite:
                return queries, step
        return queries, -1


_PROFILE_SCRIPT = r"""
import gc, json, resource, sys, time
import torch
from neurolearn._kernels.torch import zo as T
cfg = json.loads(sys.argv[1])
torch.set_num_threads(cfg["threads"])
device = cfg["device"]
cuda = device.startswith("cuda")
def rss_mb():
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * resource.getpagesize() / 2**20
def peak_mb():
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
def reset_peak():
    # writing 5 to clear_refs resets the high-water mark VmHWM (Linux >= 4.0)
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")
gen = torch.Generator(device="cpu").manual_seed(0)
x = torch.randn(cfg["batch_size"], cfg["sizes"][0], generator=gen).to(device)
y = torch.nn.functional.one_hot(torch.randint(0, cfg["sizes"][-1], (cfg["batch_size"],),
                                              generator=gen), cfg["sizes"][-1]).float().to(device)
params = T.init_mlp(cfg["sizes"], seed=0, device=device)
gc.collect()
n_params = sum(t.numel() for p in params for t in p if t is not None)
if cuda:
    torch.cuda.synchronize(); torch.cuda.reset_peak_memory_stats()
    base = torch.cuda.memory_allocated() / 2**20
else:
    base = rss_mb()
    reset_peak()
mode = cfg["mode"]
start = time.perf_counter()
for step in range(cfg["steps"]):
    if mode == "inference":
        with torch.no_grad():
            float(T.mean_loss(T.mlp_forward(params, x), y))
    elif mode == "spsa":
        T.spsa_step_(params, x, y, seed=1, step=step, sigma=1e-3, learning_rate=1e-4,
                     n_probes=1, direction=cfg["direction"])
    elif mode == "forward-gradient":
        T.forward_gradient_step_(params, x, y, seed=1, step=step, learning_rate=1e-5)
    else:
        T.backprop_step_(params, x, y, learning_rate=1e-3)
if cuda:
    torch.cuda.synchronize()
elapsed = time.perf_counter() - start
peak = torch.cuda.max_memory_allocated() / 2**20 if cuda else peak_mb()
print(json.dumps({"mode": mode, "n_params": n_params, "param_mb": n_params * 4 / 2**20,
                  "base_mb": base, "peak_mb": peak, "peak_above_base_mb": peak - base,
                  "steps_per_s": cfg["steps"] / elapsed}))
"""


def memory_profile(
    modes=("inference", "spsa", "forward-gradient", "backprop"),
    *,
    layer_sizes=LARGE_MLP,
    batch_size: int = 64,
    steps: int = 3,
    device: str = "cpu",
    threads: int = 1,
    direction: str = "rademacher",
) -> list:
    """Peak memory and speed of each mode on a float32 MLP, one fresh process per mode.

    ``peak_above_base_mb`` is the peak (resident set on CPU, allocator peak on CUDA) minus the
    memory held once the parameters and the batch exist, so it is the working memory a step
    needs on top of storing the model; ``inference`` is a no-grad forward pass. On CPU the
    high-water mark is reset (``/proc/self/clear_refs``) once the model exists, so this needs
    Linux.

    Examples
    --------
    >>> rows = memory_profile(("inference",), layer_sizes=(8, 4, 2), batch_size=2, steps=1)
    >>> rows[0]["n_params"]
    46
    """
    import os

    batch_size = check_param("memory_profile", "batch_size", batch_size, Interval(int, 1, None))
    steps = check_param("memory_profile", "steps", steps, Interval(int, 1, None))
    for mode in modes:
        check_param(
            "memory_profile",
            "modes",
            mode,
            Options(("inference", "spsa", "forward-gradient", "backprop")),
        )
    import_torch()
    device = resolve_backend("torch", device).device
    env = dict(os.environ)
    root = str(__import__("pathlib").Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    rows = []
    for mode in modes:
        cfg = {
            "mode": mode,
            "sizes": list(layer_sizes),
            "batch_size": batch_size,
            "steps": steps,
            "device": device,
            "threads": threads,
            "direction": direction,
        }
        out = subprocess.run(
            [sys.executable, "-c", _PROFILE_SCRIPT, json.dumps(cfg)],
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
        if out.returncode != 0:
            raise RuntimeError(f"memory_profile({mode!r}) failed:\n{out.stderr[-2000:]}")
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return rows
