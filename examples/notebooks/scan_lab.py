# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Lab: running a parameter scan and reading its store
#
# **The question.** How does an echo-state network's memory depend on its spectral radius
# (how strongly its units excite each other) and on how strongly the input drives it, and how
# much of what we see is the particular random network rather than the parameters? Answering
# that takes many runs: a grid of parameter values, several seeds per value, run in parallel
# and stored so that nothing is lost if the scan is interrupted.
#
# **Start here** (three lines: scan the spectral radius over 7 values x 3 seeds on two worker
# processes, then plot memory capacity against it, one line per seed):

# %%
import neurolearn as nl

ds = nl.scan("esn", "memory-capacity", grid={"network.spectral_radius": "0.2:1.4:7"}, seeds=3, out="mc-radius.zarr", workers=2, resume="auto")
ds["memory_capacity"].plot.line(x="network.spectral_radius", hue="seed", marker="o");

# %% [markdown]
# `"0.2:1.4:7"` means 7 values from 0.2 to 1.4. The scan writes every point to the Zarr store
# `mc-radius.zarr` as soon as it finishes; `resume="auto"` makes the cell safe to run again
# (a second run checks the finished points and computes nothing; `resume=True` insists that
# the store exists). The same scan from the command line (add `--resume` to finish it later):
#
# ```text
# neurolearn scan esn memory-capacity --grid network.spectral_radius=0.2:1.4:7 --seeds 3 \
#     --workers 2 --out mc-radius.zarr
# ```
#
# and `neurolearn.plot_scan(store, x=...)` draws the mean over seeds with a band (it is meant
# for scripts: it switches matplotlib to its file backend, so in a notebook use the xarray
# and `neurolearn.plots` calls shown here).
#
# ## Settings

# %%
import os

import matplotlib.pyplot as plt

from neurolearn import plots

SMALL = os.environ.get("NEUROLEARN_LAB_SMALL", "0") == "1"
N_UNITS = 50 if SMALL else 100
SEEDS = 2 if SMALL else 5
RADII = "0.2:1.4:4" if SMALL else "0.1:1.5:8"
SCALINGS = "log:0.01:1:3" if SMALL else "log:0.01:3:6"
task = [f"network.n={N_UNITS}", "task.max_delay=40", "task.train_steps=1500"]

# %% [markdown]
# ## 1. What is in a store
#
# A scan store opens as an `xarray.Dataset`. Its dimensions are the grid keys plus `seed`.
# Every scalar metric is a variable over them; curves (here the memory-capacity curve
# $MC_k$ over delays $k$) keep their own extra dimension. Three bookkeeping variables say
# what happened at each point: `status` (`ok`, `diverged`, `failed`, or empty while
# missing), `message` (the error, if any) and `wall_s` (seconds).

# %%
store = nl.open_scan("mc-radius.zarr")
print(store)
print()
print(nl.scan.format_summary(store))

# %% [markdown]
# Everything xarray can do applies: select, average over seeds, plot the curves.

# %%
mean_curves = store["mc_curve"].mean("seed")
fig, ax = plt.subplots(figsize=(5, 3.5))
for radius in mean_curves["network.spectral_radius"].values[::2]:
    plots.memory_capacity_curve(
        mean_curves["delay"],
        mean_curves.sel({"network.spectral_radius": radius}),
        label=f"radius {radius:.1f}",
        ax=ax,
    )

# %% [markdown]
# Every point also carries its resolved spec and seed, so any one of them can be rerun on its
# own: the store's `spec` attribute holds the common spec, and the point's seed is derived
# from the scan's root seed and the point's position in the grid.
#
# ## 2. Two parameters at once
#
# Scan the spectral radius against the input scaling (log-spaced: `"log:0.01:1:3"` means 3
# values from 0.01 to 1 spaced evenly in log) and draw the mean memory capacity over seeds.

# %%
grid = {"network.spectral_radius": RADII, "network.input_scaling": SCALINGS}
scan2 = nl.scan(
    "esn",
    "memory-capacity",
    grid=grid,
    seeds=SEEDS,
    out="mc-radius-scaling.zarr",
    overrides=task,
    workers=2,
    resume="auto",
    progress=False,
)
ax, mean_mc = plots.scan_heatmap(scan2["memory_capacity"], x="network.spectral_radius")
print(nl.scan.format_summary(scan2))

# %% [markdown]
# ## 3. How much is the network, how much the parameters?
#
# The spread over seeds at one grid point is the variability from the random network and
# input; compare it with the change across the grid.

# %%
mc = scan2["memory_capacity"]
spread_over_seeds = float(mc.std("seed").mean())
range_over_grid = float(mc.mean("seed").max() - mc.mean("seed").min())
print(f"typical std over seeds: {spread_over_seeds:.2f}")
print(f"range of the seed mean over the grid: {range_over_grid:.2f}")
best = mc.mean("seed").argmax(...)
print(
    "best point:",
    {key: float(mc[key][index]) for key, index in best.items()},
    f"MC = {float(mc.mean('seed').max()):.2f}",
)

# %% [markdown]
# ## 4. Failed points do not stop a scan
#
# A point that raises an error or produces NaN is recorded with its status and message; the
# other points go on. Here the E/I reservoir is built with a fixed global balance; a balance
# larger than the mean excitatory input would need negative inhibition, which the reservoir
# refuses when it is built, so that one point fails:

# %%
bad = nl.scan(
    "ei-reservoir",
    "memory-capacity",
    grid={"network.balance": [-0.25, 0.0, 5.0]},
    seeds=1,
    out="ei-balance.zarr",
    overrides=["rule.kind=none", "network.n=60", "network.in_degree_exc=6",
               "network.in_degree_inh=6", "task.max_delay=20", "task.train_steps=500",
               "task.test_steps=200"],
    scheduler="synchronous",
    resume="auto",
    progress=False,
)
print(nl.scan.format_summary(bad))
print(bad["status"].values.ravel())

# %% [markdown]
# `scheduler="synchronous"` runs every point in this process, which helps when debugging a
# failing point. For large scans, `workers=N` uses N local processes, `scheduler="tcp://..."`
# an existing Dask cluster, and `slurm="slurm.toml"` a Slurm cluster; the store and the
# numbers are the same whichever runs them.
#
# ## Exercises
#
# Solutions are in `solutions/scan_lab_solutions.py`.
#
# 1. **Resuming.** Interrupt a larger scan (Kernel > Interrupt, or Ctrl-C at the command
#    line) halfway, open the store and count the missing points (`nl.scan.summarize`). Then
#    run the same call again with `resume=True`. How many points does the second call
#    compute (`ds.attrs["scan_computed"]`)?
# 2. **Leak.** Add the leaking rate `network.leak` (values 0.1, 0.3, 1.0) to the grid of
#    part 2 and draw one heat map per leak value (`.sel({"network.leak": value})`). How does
#    a slower network change where memory is best?
# 3. **E/I balance.** Scan the global balance of the E/I reservoir without adaptation:
#    model `ei-reservoir`, `--set rule.kind=none`, grid `network.balance=-1,-0.5,-0.25,0,0.25`.
#    Where is memory capacity largest?
