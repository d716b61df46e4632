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
# # Solutions: a spiking E/I network that balances itself
#
# Solutions to the exercises of `spiking_lab.py`.

# %%
import os

import matplotlib.pyplot as plt
import numpy as np

import neurolearn as nl
from neurolearn import plots

SMALL = os.environ.get("NEUROLEARN_LAB_SMALL", "0") == "1"
PLASTIC_MS = 8000 if SMALL else 20000
task = [f"task.plastic_ms={PLASTIC_MS}", f"task.measure_ms={min(5000, PLASTIC_MS // 2)}"]


def summary(result):
    return (
        f"E rate {float(result['rate_final_hz']):5.2f} Hz, spread (std over neurons) "
        f"{float(result['rate_std_final_hz']):5.2f} Hz, CV {float(result['cv_isi_final']):.2f}"
    )


# %% [markdown]
# ## 1. No plasticity: one global knob
#
# Raise the I -> E weight of the static network step by step and keep the value whose mean
# rate is closest to 5 Hz.

# %%
plastic = nl.run("spiking-ei", "rate-homeostasis", seed=0, overrides=task)
static = {}
for w in (0.15, 0.25, 0.4, 0.6):
    static[w] = nl.run(
        "spiking-ei",
        "rate-homeostasis",
        seed=0,
        overrides=task + ["rule.kind=none", f"network.w_inh_exc={w}"],
    )
    print(f"static, w_inh_exc = {w:4.2f}: {summary(static[w])}")
best = min(static, key=lambda w: abs(float(static[w]["rate_final_hz"]) - 5.0))
print(f"plastic (iSTDP):          {summary(plastic)}")

fig, ax = plt.subplots(figsize=(5, 3.5))
bins = np.linspace(0, 40, 41)
ax.hist(plastic["rate_final"], bins=bins, alpha=0.6, label="iSTDP")
ax.hist(static[best]["rate_final"], bins=bins, alpha=0.6, label=f"static, w = {best}")
ax.set(xlabel="rate of one E neuron (Hz)", ylabel="neurons")
ax.legend()
# %% [markdown]
# One global inhibitory weight can set the *mean* rate, but every neuron keeps its own
# rate, set by its own drive (the constant currents differ by +-5 mV): the spread stays
# large. Inhibitory plasticity gives each neuron the inhibition it needs, so the spread
# shrinks several-fold (below 1 Hz after the full 20 s of plasticity). Compare the printed
# spreads.
#
# ## 2. Learning rate

# %%
fig, ax = plt.subplots(figsize=(6, 3.5))
for factor, color in ((0.25, "C0"), (1.0, "C1"), (4.0, "C3")):
    eta = 2e-3 * factor
    result = nl.run(
        "spiking-ei", "rate-homeostasis", seed=0, overrides=task + [f"rule.learning_rate={eta}"]
    )
    plots.population_rate(
        result["t"], result["population_rate_exc"], label=f"eta = {eta:g}", color=color, ax=ax
    )
    print(f"eta = {eta:g}: {summary(result)}")
ax.axhline(5.0, color="k", ls="--", lw=1)
ax.set_yscale("log")
# %% [markdown]
# A larger learning rate settles faster; a smaller one may not reach the target within the
# run (its final rate and spread stay higher). The weights themselves fluctuate with every
# spike pair, more so at a high learning rate; compare the printed numbers and the curves.
#
# ## 3. Current-based synapses

# %%
current = nl.run(
    "spiking-ei", "rate-homeostasis", seed=0, overrides=task + ["network.synapse=current"]
)
print(f"current-based: {summary(current)}")
print(
    f"mean I -> E weight after learning: {float(current['w_inh_exc_after']):.3f} "
    f"(conductance-based: {float(plastic['w_inh_exc_after']):.3f})"
)
plots.population_rate(current["t"], current["population_rate_exc"], target=5.0)

# %% [markdown]
# The rule is the same, but with current-based synapses an inhibitory spike has a fixed
# effect, independent of the membrane potential, and needs much larger weights: in
# neurolearn's run at the full setting (seed 0, 20 s of plasticity) the rate came down from
# 37 Hz to about 10 Hz, not yet to 5 Hz, with inhibitory weights still growing. Run longer
# (`task.plastic_ms`) to see whether it gets there.
