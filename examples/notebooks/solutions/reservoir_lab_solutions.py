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
# # Solutions: a reservoir that balances its own excitation and inhibition
#
# Solutions to the exercises of `reservoir_lab.py`. Each cell runs on its own after the
# settings cell.

# %%
import os

import matplotlib.pyplot as plt
import numpy as np

import neurolearn as nl
from neurolearn import plots

SMALL = os.environ.get("NEUROLEARN_LAB_SMALL", "0") == "1"
N_UNITS = 100 if SMALL else 300
DEGREE = 10 if SMALL else 30
ADAPT_STEPS = 2000 if SMALL else 4000
MAX_DELAY = 40 if SMALL else 100
common = dict(n=N_UNITS, in_degree_exc=DEGREE, in_degree_inh=DEGREE, seed=0)
u_adapt = np.random.default_rng(1).uniform(-0.8, 0.8, (ADAPT_STEPS, 1))

# %% [markdown]
# ## 1. Homogeneous targets
#
# With one target for every unit, the local rule reaches a target of 0.4 but not 0.1. (This
# exercise uses N = 300 with 30 inputs per unit in both settings: in sparser, smaller networks
# the rates fluctuate more and fewer units settle within 0.05 even at 0.4.)

# %%
homogeneous = dict(n=300, in_degree_exc=30, in_degree_inh=30, seed=0)
u_long = np.random.default_rng(1).uniform(-0.8, 0.8, (2000, 1))
fig, axes = plt.subplots(1, 2, figsize=(9, 3.5))
reservoirs = {}
for target in (0.1, 0.4):
    res = nl.reservoir.EIReservoir(adaptation="local", target_rate=target, **homogeneous)
    res.adapt(u_long)
    reservoirs[target] = res
    report = res.target_report(u_long)
    print(
        f"target {target}: {100 * report['fraction_within']:.0f}% within 0.05, "
        f"mean rate {report['mean_rate']:.3f}"
    )
    plots.rates_vs_targets(
        np.full(300, target), res.adapted_rates_, label=f"target {target}", ax=axes[0]
    )
states = reservoirs[0.1].run(u_long[:40])
axes[1].plot(states[:, :5])
axes[1].set(xlabel="step", ylabel="rate", title="target 0.1: five units")
fig.tight_layout()

# %% [markdown]
# At target 0.1 the units do not settle at a low rate: the network alternates between silence
# and $r = \sigma(0) = 1/2$ (with leak 0 and threshold 0, a unit whose net input is zero fires
# at 1/2). Strong inhibition makes the whole population flip together, a period-2 cycle whose
# time-averaged rate stays near 1/4 however strong the inhibition becomes; the local rule keeps
# strengthening inhibition without reaching the target. Heterogeneous targets desynchronise
# the units, which is why the lab's Beta(2, 2) targets are reached.
#
# ## 2. The balance knob

# %%
balances = (-1.0, -0.5, -0.25, 0.0, 0.25)
protocol = dict(max_delay=MAX_DELAY, train_steps=20 * MAX_DELAY, test_steps=5 * MAX_DELAY, seed=2)
totals = []
for beta in balances:
    res = nl.reservoir.EIReservoir(adaptation="none", balance=beta, **common)
    totals.append(nl.reservoir.memory_capacity(res, **protocol)["total"])

adapted = {
    mode: nl.reservoir.EIReservoir(adaptation=mode, **common).adapt(u_adapt).balance_
    for mode in ("local", "global")
}
fig, ax = plt.subplots(figsize=(4.5, 3.5))
ax.plot(balances, totals, "o-", color="k")
for (mode, beta), color in zip(adapted.items(), ("C0", "C3"), strict=True):
    ax.axvline(beta, color=color, ls="--", label=f"{mode} adaptation ends at {beta:+.2f}")
ax.set(xlabel="global balance beta", ylabel="memory capacity")
ax.legend(fontsize=8)
for beta, total in zip(balances, totals, strict=True):
    print(f"beta {beta:+.2f}: MC {total:.2f}")

# %% [markdown]
# Memory capacity is largest near $\beta = 0$: strong inhibition ($\beta \ll 0$) silences the
# network, positive balance saturates it. Global tuning to the mean target (0.5 for Beta(2, 2))
# lands close to $\beta = 0$, because a unit with zero net input fires at $\sigma(0) = 1/2$.
# The local rule has no reason to keep the *global* balance there: where it ends depends on
# the network (measured with seed 0: $\beta \approx +0.14$ at N = 100 with 10 inputs per unit,
# $-0.24$ at N = 300 with 30; the README reports $+0.08$ at N = 500 with 50), and the further
# it ends from the balanced point, the more memory capacity it gives up.
#
# ## 3. Another task: NARMA-10

# %%
n = 60 if SMALL else 300
degree = n // 10
seeds = 2 if SMALL else 4
overrides = [
    f"network.n={n}",
    f"network.in_degree_exc={degree}",
    f"network.in_degree_inh={degree}",
    f"rule.steps={ADAPT_STEPS}",
    f"task.train_steps={1000 if SMALL else 5000}",
    f"task.test_steps={300 if SMALL else 2000}",
]
for model in ("ei-reservoir", "ei-reservoir-global"):
    errors = [
        float(nl.run(model, "narma10", seed=s, overrides=overrides)["nrmse"]) for s in range(seeds)
    ]
    print(f"{model:>20}: NRMSE {np.mean(errors):.3f} +- {np.std(errors):.3f} (N = {n})")

# %% [markdown]
# Compare with your memory-capacity result at the same $N$. neurolearn's README reports, at
# $N = 500$ over 5 seeds, the globally tuned reservoir ahead on both tasks (NRMSE 0.30 against
# 0.37), and the local one ahead at $N = 60$ on both: the size dependence is not specific to
# one task. Small networks with few seeds give noisy differences; use the full setting and
# more seeds before drawing a conclusion.
