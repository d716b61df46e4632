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
# # Lab: fitting a recurrent network to sparse recordings
#
# **The question.** We record a few neurons of a circuit while it drives a reaching movement,
# and fit a recurrent neural network (RNN) to reproduce the movement *and* the recorded
# neurons. Does the fitted network then also reproduce the activity of the neurons we did
# **not** record, on reaches it never saw? How many neurons must be recorded for that?
#
# **Start here** (three lines: a ground-truth circuit of 100 neurons, 10% of them recorded,
# an RNN fit by backpropagation through time; the figure shows its training loss):

# %%
from neurolearn import plots, run

ds = run("sparse-rnn", "soc-reaching", overrides=["task.n_neurons=100", "network.n_units=100", "rule.n_epochs=400"])
plots.learning_curve(ds["epoch"], ds["loss"], xlabel="epoch", ylabel="training loss");

# %% [markdown]
# ## Settings

# %%
import os

import matplotlib.pyplot as plt
import numpy as np

from neurolearn.studies.rnnfit_sweep import recorded_fraction_sweep

SMALL = os.environ.get("NEUROLEARN_LAB_SMALL", "0") == "1"
N_NEURONS = 100 if SMALL else 200
EPOCHS = 400 if SMALL else 600
FRACTIONS = (0.0, 0.1, 0.5) if SMALL else (0.0, 0.05, 0.25, 1.0)
SEEDS = (0,) if SMALL else (0, 1)
sizes = [f"task.n_neurons={N_NEURONS}", f"network.n_units={N_NEURONS}", f"rule.n_epochs={EPOCHS}"]

# %% [markdown]
# ## The setting
#
# **The circuit** (the "brain"): a stability-optimised E/I rate network (Hennequin, Vogels &
# Gerstner 2014), $\tau \dot x = -x + W g(x) + h(t)$, whose inhibitory weights were tuned
# until the network is stable but strongly amplifying. Started from different initial
# states (one per reach direction), it produces large, rotating transients; a linear readout
# of its rates gives two muscle-like outputs.
#
# **The student**: a rate RNN $\tau \dot x = -x + J \tanh(x) + B u + b$ with output
# $z = W_{out} \tanh(x)$, trained by backpropagation through time on
#
# $$ L = \langle \lvert z - z^* \rvert^2 \rangle
#    + \lambda\, \frac{1}{\lvert S \rvert} \sum_{i \in S} \langle (\tanh(x_i) - r^*_i)^2 \rangle , $$
#
# the output error plus the error on the recorded subset $S$ of the circuit's neurons (each
# mapped to one student unit; the model `sparse-rnn` has $\lambda = 1$, the model
# `output-only-rnn` has $\lambda = 0$). It is judged on **held-out reach conditions**, on what it
# was not trained on: the outputs, and the activity of **all** circuit neurons, read out from
# the student by a linear map fitted on the training conditions.
#
# ## 1. The movement on new reaches

# %%
fig, axes = plt.subplots(1, 2, figsize=(10, 3.5), sharey=True)
for k, ax in enumerate(axes):
    colors = plt.cm.viridis(np.linspace(0, 0.9, 4))
    for c, color in zip(ds["condition"].values[:4], colors, strict=True):
        ax.plot(ds["t_ms"], ds["teacher_outputs"].sel(condition=c)[:, k], color=color, lw=1.5)
        ax.plot(ds["t_ms"], ds["student_outputs"].sel(condition=c)[:, k], "--", color=color)
    ax.set(xlabel="time (ms)", ylabel=f"output {k + 1}", title="circuit (solid), RNN (dashed)")
fig.tight_layout()
print(f"held-out output R^2: {float(ds['output_r2_test']):.2f}")

# %% [markdown]
# ## 2. The population dynamics on new reaches
#
# Project the circuit's activity on its first two principal components, and the student's
# activity (mapped to the circuit's neurons) on the same axes.

# %%
fig, ax = plt.subplots(figsize=(5, 4))
colors = plt.cm.viridis(np.linspace(0, 0.9, ds.sizes["condition"]))
for c, color in zip(ds["condition"].values, colors, strict=True):
    teacher, student = ds["teacher_pcs"].sel(condition=c), ds["student_pcs"].sel(condition=c)
    ax.plot(teacher[:, 0], teacher[:, 1], color=color, lw=1.5)
    ax.plot(student[:, 0], student[:, 1], "--", color=color, lw=1)
ax.set(xlabel="PC 1", ylabel="PC 2", title="held-out reaches: circuit (solid), RNN (dashed)")
print(f"unrecorded neurons, R^2 of the linear map: {float(ds['map_r2_unrecorded']):.2f}")
print(f"unrecorded neurons, mean canonical correlation: {float(ds['cca_unrecorded']):.2f}")

# %% [markdown]
# ## 3. How many neurons must be recorded?
#
# Fit one network per recorded fraction (0 means output-only training) and compare, on
# held-out reaches, the output and the activity of the **unrecorded** neurons.

# %%
sweep = recorded_fraction_sweep(
    fractions=FRACTIONS, seeds=SEEDS, overrides=sizes + ["metric.fixed_points=false"]
)
fig, ax = plt.subplots(figsize=(5, 3.8))
labels = {
    "output_r2_test": "output R^2",
    "map_r2_unrecorded": "unrecorded neurons, map R^2",
    "cca_unrecorded": "unrecorded neurons, CCA",
}
for name, label in labels.items():
    values = sweep[name]
    ax.errorbar(
        np.arange(len(FRACTIONS)), values.mean("seed"), yerr=values.std("seed"), marker="o",
        capsize=3, label=label,
    )
ax.set_xticks(np.arange(len(FRACTIONS)), [f"{f:g}" for f in FRACTIONS])
ax.set(xlabel="fraction of neurons recorded", ylabel="held-out score")
ax.legend(fontsize=8)
for name in labels:
    print(f"{labels[name]:>30}: " + "  ".join(
        f"{f:g} -> {v:.2f}" for f, v in zip(FRACTIONS, sweep[name].mean("seed").values, strict=True)))

# %% [markdown]
# **What to look for.** Salatiello & Giese (2020) report that a small recorded subset already
# brings the internal dynamics of the fitted network close to the circuit's, and that the
# output on new conditions improves too. In neurolearn's small run (100 neurons, one seed)
# recording 10% and 50% raised the held-out output $R^2$ from 0.59 to 0.74 and 0.76, and the
# map $R^2$ of the unrecorded neurons from 0.30 to 0.48 and 0.59. One seed is noisy; the
# full setting uses two.
#
# ## 4. Same activity, same dynamics?
#
# Reproducing recorded traces does not guarantee the same dynamical system: partial
# observation can create spurious attractors (Qian et al. 2024). Compare the fixed points
# and the stability of the rest state of circuit and student.

# %%
for who in ("teacher", "student"):
    print(
        f"{who:>8}: {int(ds[f'{who}_n_fixed_points'])} fixed point(s) found, "
        f"{int(ds[f'{who}_n_stable'])} stable; largest real part of the eigenvalues at rest "
        f"{float(ds[f'{who}_rest_abscissa']):+.2f}"
    )

# %% [markdown]
# The circuit has one stable rest state. If the student's rest state is unstable (a positive
# largest real part), it reproduces the transients of the training reaches with different
# dynamics around rest, a warning to check fixed points before interpreting a fitted network.
#
# ## Exercises
#
# Solutions are in `solutions/rnnfit_lab_solutions.py`.
#
# 1. **The weight of the recorded neurons.** Change $\lambda$ (`rule.recorded_weight`) to
#    0.1 and 10 at a recorded fraction of 0.1. Which score moves?
# 2. **FORCE instead of backprop.** Fit the same data with the `force-rnn` model (recursive
#    least squares, Sussillo & Abbott 2009) and compare the held-out scores.
# 3. **Train longer.** Double `rule.n_epochs` for the output-only student. Does its held-out
#    output improve, and its unrecorded-neuron score?
