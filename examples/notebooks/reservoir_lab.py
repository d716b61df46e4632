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
# # Lab: a reservoir that balances its own excitation and inhibition
#
# **The question.** A recurrent network of excitatory (E) and inhibitory (I) rate units is used
# as a *reservoir*: it is driven by an input, and a linear readout is trained on its states.
# How well it remembers depends on the balance between excitation and inhibition. Should that
# balance be set by one global knob, or should every neuron adjust its own inhibition until it
# fires at its own target rate (a local, biologically plausible rule)? Which reservoir
# remembers more?
#
# **Start here** (three lines: run the model on the memory task, draw how the rates of a few
# units approach their targets while the inhibitory synapses adapt):

# %%
from neurolearn import plots, run

ds = run("ei-reservoir", "memory-capacity", seed=0, overrides=["network.n=300"])
plots.rate_trajectories(ds["adapt_step"], ds["rate_trajectory"], ds["target_rate"]);

# %% [markdown]
# Each solid line is the firing rate of one unit during adaptation, the dashed line of the same
# colour its target rate. The run also measured the network's memory capacity:

# %%
print(f"memory capacity: {float(ds['memory_capacity']):.2f}")
print(f"units within 0.05 of their target: {100 * float(ds['fraction_within_target']):.0f}%")

# %% [markdown]
# ## Settings
#
# `SMALL` picks a quick setting (used by the automated tests); set it to `False` for the full
# lab (a few minutes on a laptop).

# %%
import os

import matplotlib.pyplot as plt
import numpy as np

import neurolearn as nl

SMALL = os.environ.get("NEUROLEARN_LAB_SMALL", "0") == "1"
N_UNITS = 100 if SMALL else 300
DEGREE = 10 if SMALL else 30  # E and I inputs per unit
ADAPT_STEPS = 2000 if SMALL else 4000
MAX_DELAY = 40 if SMALL else 100
SIZES = (60, 120) if SMALL else (60, 200, 500)
SEEDS = 2 if SMALL else 4

# %% [markdown]
# ## The model
#
# $N$ sigmoid rate units, 80% excitatory. Unit $i$ integrates
#
# $$ v_i(t+1) = \lambda v_i(t) + \sum_j (A_E - A_I)_{ij}\, r_j(t) + W^{in}_i u(t), \qquad
#    r_i(t) = \frac{1}{1 + e^{-c\,(v_i(t) - \theta)}} $$
#
# with non-negative sparse matrices $A_E$ (from E units) and $A_I$ (from I units): Dale's law.
# Every unit has its own target rate $\rho_i$ (drawn from a Beta(2, 2) distribution). The
# **local rule** changes every inhibitory synapse onto unit $i$ by the same amount,
#
# $$ A_I[i, j] \leftarrow \max\bigl(0,\ A_I[i, j] + \eta\,(r_i(t) - \rho_i)\bigr), $$
#
# so a unit that fires too much gets more inhibition. The **global** alternative scales all of
# $A_I$ by one number until the *mean* rate equals the *mean* target. Both use the same
# information about targets; the local rule has $N$ degrees of freedom, the global one.
#
# ## 1. Each unit finds its own rate
#
# Build two reservoirs with identical weights (same seed) and adapt both on the same input.

# %%
rng = np.random.default_rng(1)
u_adapt = rng.uniform(-0.8, 0.8, (ADAPT_STEPS, 1))

common = dict(n=N_UNITS, in_degree_exc=DEGREE, in_degree_inh=DEGREE, seed=0)
local = nl.reservoir.EIReservoir(adaptation="local", **common).adapt(u_adapt)
glob = nl.reservoir.EIReservoir(adaptation="global", **common).adapt(u_adapt)

fig, axes = plt.subplots(1, 2, figsize=(9, 3.5))
plots.rate_trajectories(
    local.trajectory_steps_, local.rate_trajectory_, local.target_rate_, ax=axes[0]
)
plots.rates_vs_targets(local.target_rate_, local.adapted_rates_, label="local", ax=axes[1])
plots.rates_vs_targets(
    glob.target_rate_, glob.adapted_rates_, label="global", color="C3", ax=axes[1]
)
fig.tight_layout()

for name, res in (("local", local), ("global", glob)):
    report = res.target_report(u_adapt)
    print(
        f"{name:>6}: {100 * report['fraction_within']:.0f}% of units within 0.05 of their "
        f"target; mean rate {report['mean_rate']:.3f} (mean target {report['mean_target']:.3f})"
    )

# %% [markdown]
# The local rule puts (nearly) every unit on the diagonal. Global tuning only matches the
# population mean: its points form a cloud whose centre sits on the diagonal.
#
# **How does it do it?** A unit with a low target needs more inhibition. Plot each unit's total
# inhibitory input weight against its target:

# %%
fig, ax = plt.subplots(figsize=(4.5, 3.5))
ax.scatter(local.target_rate_, local.inh_w_.sum(axis=1), s=8, label="local")
ax.scatter(glob.target_rate_, glob.inh_w_.sum(axis=1), s=8, color="C3", label="global")
ax.set(xlabel="target rate", ylabel="total inhibitory weight onto the unit")
ax.legend()

# %% [markdown]
# ## 2. Memory capacity
#
# The memory task drives the reservoir with i.i.d. uniform input $u(t)$ and trains one linear
# readout per delay $k$ to recall $u(t-k)$; $MC_k$ is the squared correlation between the
# recalled and the true value on held-out data, and the memory capacity is
# $MC = \sum_k MC_k$ (at most $N$). Compare the two adapted reservoirs with the one that was
# never adapted.

# %%
unadapted = nl.reservoir.EIReservoir(adaptation="none", **common)
protocol = dict(max_delay=MAX_DELAY, train_steps=20 * MAX_DELAY, test_steps=5 * MAX_DELAY, seed=2)
fig, ax = plt.subplots(figsize=(5, 3.5))
for name, res, color in (("none", unadapted, "C7"), ("local", local, "C0"), ("global", glob, "C3")):
    mc = nl.reservoir.memory_capacity(res, **protocol)
    plots.memory_capacity_curve(
        np.arange(1, MAX_DELAY + 1), mc["curve"], label=name, color=color, ax=ax
    )

# %% [markdown]
# ## 3. Local or global: does the answer depend on the size of the network?
#
# One network per seed is a noisy comparison. Run both shipped models,
# `ei-reservoir` (local rule) and `ei-reservoir-global`, over several seeds and network sizes.
# For each seed both models get the same weights and the same input.

# %%
task_overrides = [
    f"task.max_delay={MAX_DELAY}",
    f"task.train_steps={20 * MAX_DELAY}",
    f"task.test_steps={5 * MAX_DELAY}",
]
models = ("ei-reservoir", "ei-reservoir-global")
capacity = {model: np.zeros((len(SIZES), SEEDS)) for model in models}
for i, n in enumerate(SIZES):
    net = [f"network.n={n}", f"network.in_degree={min(50, n // 5)}"]
    for model in models:
        for seed in range(SEEDS):
            result = nl.run(
                model,
                "memory-capacity",
                seed=seed,
                overrides=net + [f"rule.steps={ADAPT_STEPS}"] + task_overrides,
            )
            capacity[model][i, seed] = float(result["memory_capacity"])

fig, ax = plt.subplots(figsize=(4.5, 3.5))
for model, color in zip(models, ("C0", "C3"), strict=True):
    values = capacity[model]
    ax.errorbar(
        SIZES,
        values.mean(axis=1),
        yerr=values.std(axis=1),
        color=color,
        label=model,
        marker="o",
        capsize=3,
    )
ax.set(xlabel="network size N", ylabel="memory capacity", xscale="log")
ax.legend()

print(f"{'N':>5} {'local':>14} {'global':>14} {'local - global':>15}")
for i, n in enumerate(SIZES):
    loc, glo = capacity[models[0]][i], capacity[models[1]][i]
    print(
        f"{n:>5} {loc.mean():>8.2f} +- {loc.std():.2f} {glo.mean():>8.2f} +- {glo.std():.2f}"
        f" {loc.mean() - glo.mean():>+15.2f}"
    )

# %% [markdown]
# **What to look for.** Srinivasan, Plenz & Girvan (2025) report that local adaptation beats
# global tuning. Here the global baseline is *rate-matched*: one scalar on all inhibition, tuned
# until the mean rate equals the mean target, which already lands near the best balance. In
# neurolearn's own measurements (README, N = 300, 5 seeds) the two end within a few percent of
# each other at the same homogeneous target; the advantage of the local rule is elsewhere.
#
# ## 4. Where local adaptation wins: any starting balance
#
# `neurolearn.reservoir.compare` holds the paper's three comparisons. The first starts fixed
# (untuned) reservoirs at several global balances $\beta_0$ and scores each one as drawn and
# after local adaptation (same network, same input).

# %%
from neurolearn.reservoir import compare

robust = compare.robustness(
    n=100 if SMALL else 300,
    seeds=1 if SMALL else 3,
    betas=(-1.0, -0.5, 0.0, 0.5),
    tasks=("memory-capacity",),
    quick=SMALL,
)
print(compare.robustness_table(robust))
plots.robustness_figure(robust);

# %% [markdown]
# Badly balanced fixed reservoirs (over-inhibited or saturated) lose most of their memory;
# after local adaptation every starting point ends at the same balance and the same capacity.
# At the best fixed balance, the adapted reservoir is a little worse. The two other
# comparisons are `compare.local_vs_global` and `compare.heterogeneity` (`neurolearn demo`
# runs all three).
#
# ## Exercises
#
# Solutions are in `solutions/reservoir_lab_solutions.py`; try first.
#
# 1. **Homogeneous targets.** Give every unit the same target, `target_rate=0.1`, then `0.4`
#    (local rule). What fraction of units reaches its target in each case? Look at the rates
#    of a few units over time (`local.run(u)`) for the low target: what is the network doing?
# 2. **The balance knob.** Without any adaptation (`adaptation="none"`), set the initial
#    global balance $\beta = \frac{1}{N}\mathbf{1}^T (A_E - A_I)\mathbf{1}$ with the `balance`
#    parameter to $-1, -0.5, -0.25, 0, 0.25$ and measure the memory capacity. Where is it
#    largest? Where do the locally and the globally adapted reservoirs of part 1 end up
#    (`res.balance_`)?
# 3. **Another task.** Repeat the comparison of part 3 at one size on the NARMA-10
#    prediction task (`nl.run(model, "narma10", ...)`, metric `nrmse`, lower is better). Does
#    the ranking of local and global stay the same?
