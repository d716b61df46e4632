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
# # Lab: learning without gradients, zeroth-order rules against backprop
#
# **The question.** Backpropagation needs the exact gradient of the loss, sent backwards
# through the network. A brain (or a chip) may only be able to *try* a random change and
# observe whether the loss went up or down: a zeroth-order rule, using loss values alone.
# How much slower is learning by random probing, why, and which kind of probing (weights,
# nodes, random directions) loses least?
#
# **Start here** (three lines: train the same network on handwritten digits by backprop, by
# SPSA and by node perturbation with the same budget of 10 000 forward passes, and plot the
# test accuracy against forward passes and against wall time):

# %%
from neurolearn import plots, studies

runs = studies.compare_rules("digits", ("mlp-backprop", "spsa", "node-perturbation"), overrides=["train.query_budget=10000"])
plots.zo_runs_figure(runs, metric="test_accuracy");

# %% [markdown]
# A *query* is one forward pass through the network; a backprop step counts as one query
# (plus its backward pass), a zeroth-order step as the forward passes it makes.
#
# ## Settings

# %%
import os

import matplotlib.pyplot as plt
import numpy as np

from neurolearn import plots
from neurolearn.zo import MLP, SPSA, ForwardGradient, NodePerturbation, WeightPerturbation
from neurolearn.zo.diagnostics import estimate_quality
from neurolearn.zo.scaling import best_learning_time, theory_constant

SMALL = os.environ.get("NEUROLEARN_LAB_SMALL", "0") == "1"
HIDDEN = (2, 8, 32) if SMALL else (2, 4, 8, 16, 32, 64)
N_ESTIMATES = 200 if SMALL else 1000
WERFEL_SEEDS = 2 if SMALL else 8
BUDGET = 10000 if SMALL else 50000

# %% [markdown]
# ## The rules
#
# All rules train the same multilayer perceptron with parameters $\theta \in \mathbb{R}^d$
# and loss $L(\theta)$. With $g = \nabla L$ and a random direction $u$:
#
# | rule | estimate of $g$ | forward passes |
# |---|---|---|
# | backprop | $g$ exactly | 1 (+ backward pass) |
# | weight perturbation | $\frac{L(\theta + \sigma u) - L(\theta)}{\sigma}\, u$, $u \sim N(0, I_d)$ | 2 |
# | SPSA (MeZO form) | $\frac{L(\theta + \sigma u) - L(\theta - \sigma u)}{2\sigma}\, u$, $u_i = \pm 1$ | 2 |
# | forward gradient | $(g \cdot u)\, u$ via a forward-mode derivative, $u \sim N(0, I_d)$ | 1 |
# | node perturbation | noise $\xi$ on every unit's input; $\Delta W_l \propto -\frac{\delta L}{\sigma}\, \xi_l\, h_{l-1}^\top$ | 2 |
#
# The directional estimates are unbiased but noisy: for $u \sim N(0, I_d)$,
# $E\lvert (g\cdot u) u \rvert^2 = (d + 2) \lvert g \rvert^2$, so the error of a single estimate
# is $E\lvert \hat g - g \rvert^2 = (d + 1)\lvert g \rvert^2$: it grows with the number of
# parameters. Node perturbation draws noise only for the units, not for every weight.
#
# ## 1. How noisy is one estimate?
#
# Measure the relative error $E\lvert\hat g - g\rvert^2 / \lvert g\rvert^2$ of single
# estimates at one point $\theta$, for networks of growing width, against the theory $d + 1$.

# %%
rng = np.random.default_rng(0)
X, Y = rng.standard_normal((32, 8)), rng.standard_normal((32, 2))
rules = {
    "forward gradient": ForwardGradient(),
    "weight perturbation": WeightPerturbation(sigma=1e-6),
    "SPSA": SPSA(sigma=1e-6),
    "node perturbation": NodePerturbation(sigma=1e-6),
}
n_params, variance = [], {name: [] for name in rules}
for hidden in HIDDEN:
    net = MLP(layer_sizes=(8, hidden, 2), activation="tanh", loss="squared", seed=1)
    theta = net.initialize().theta_
    for name, rule in rules.items():
        quality = estimate_quality(net, rule, theta, X, Y, n_samples=N_ESTIMATES, seed=2)
        variance[name].append(quality["relative_variance"])
    n_params.append(quality["n_params"])
n_params = np.array(n_params)

fig, ax = plt.subplots(figsize=(5, 3.8))
for name, values in variance.items():
    ax.plot(n_params, values, "o-", label=name)
plots.learning_curve(
    n_params,
    n_params + 1.0,
    label="theory d + 1",
    xlabel="number of parameters d",
    ylabel="relative error of one estimate",
    color="k",
    ls="--",
    ax=ax,
)
ax.set_xscale("log")

# %% [markdown]
# Weight perturbation, SPSA and the forward gradient all follow $d + 1$: every parameter
# adds noise. Node perturbation stays nearly flat, because its noise lives in the space of
# unit activities, much smaller than the space of weights.
#
# ## 2. How much slower is learning? The Werfel-Xie-Seung scaling
#
# For a linear network $y = Wx$ ($n_{in}$ inputs, $n_{out}$ outputs) learning online from a
# linear teacher, the expected error shrinks per step by the factor $1 - 2\eta + \eta^2 C$,
# with $C = n_{in} + 2$ for gradient descent, $(n_{out} + 2)(n_{in} + 2)$ for node
# perturbation and $(n_{out} n_{in} + 2)(n_{in} + 2)$ for weight perturbation. At the best
# learning rate $\eta = 1/C$ the learning time is proportional to $C$. Measure the learning
# time (steps to reduce the error 100-fold) at a few learning rates around $1/C$ and compare
# the best one with $C$.

# %%
n_in, n_out = 6, 3
measured, constants = {}, {}
for rule in ("gradient-descent", "node-perturbation", "weight-perturbation"):
    c = theory_constant(rule, n_in, n_out)
    result = best_learning_time(
        rule,
        n_in,
        n_out,
        [0.5 / c, 1 / c, 1.5 / c],
        n_seeds=WERFEL_SEEDS,
        seed=0,
        max_steps=4000,
    )
    measured[rule], constants[rule] = result["best_time"], c
    print(
        f"{rule:>20}: C = {c:5.0f}, best learning time {result['best_time']:7.1f} steps "
        f"at eta = {result['best_learning_rate'] * c:.1f} / C"
    )

fig, ax = plt.subplots(figsize=(4.5, 3.5))
cs = np.array(list(constants.values()))
times = np.array(list(measured.values()))
ax.loglog(cs, times, "o", color="C0", label="measured")
ax.loglog(cs, cs * times[0] / cs[0], "k--", label="proportional to C")
for rule, c, t in zip(measured, cs, times, strict=True):
    ax.annotate(rule, (c, t), fontsize=7, xytext=(4, -10), textcoords="offset points")
ax.set(xlabel="theory constant C", ylabel="learning time (steps)")
ax.legend(fontsize=8)
# %% [markdown]
# Node perturbation is slower than gradient descent by about $n_{out} + 2$, weight
# perturbation by about $n_{out} n_{in} + 2$: the number of weights.
#
# ## 3. Every rule on the digits, at one budget
#
# The same network and budget of forward passes for all seven rules:

# %%
all_runs = studies.compare_rules("digits", overrides=[f"train.query_budget={BUDGET}"])
print(f"{'model':>22} {'test accuracy':>14} {'steps':>7} {'train s':>8}")
for name, ds in all_runs.items():
    print(f"{name:>22} {float(ds['test_accuracy']):>14.3f} {int(ds['steps']):>7} "
          f"{ds.attrs['train_wall_s']:>8.2f}")
plots.zo_runs_figure(all_runs, metric="test_accuracy");

# %% [markdown]
# **What to look for.** Per forward pass, backprop learns fastest by far; but a zeroth-order
# step is cheaper (no backward pass, no stored activations: SPSA in MeZO form regenerates its
# direction from a seed, so it needs no more memory than inference). The right panel shows
# what that buys in wall time.
#
# ## Exercises
#
# Solutions are in `solutions/zo_lab_solutions.py`.
#
# 1. **Averaging probes.** Give SPSA `n_probes=4` (in part 1, and on the digits with
#    `--set rule.n_probes=4`). By how much does the error of one estimate fall? Is it worth
#    the extra forward passes at a fixed budget?
# 2. **More outputs.** Repeat part 2 with $n_{out} = 1$ and $n_{out} = 8$. Does the ratio of
#    node perturbation's to gradient descent's learning time follow $n_{out} + 2$?
# 3. **Learning rate of SPSA.** Scan `rule.learning_rate` of the `spsa` model on the digits
#    (a factor of 3 up and down). How sensitive is a zeroth-order rule to it, compared with
#    backprop?
