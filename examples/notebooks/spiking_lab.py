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
# # Lab: a spiking E/I network that balances itself with inhibitory plasticity
#
# **The question.** A network of spiking excitatory (E) and inhibitory (I) neurons, driven
# hard, fires far too much. Vogels et al. (2011) proposed a plasticity rule on the I -> E
# synapses alone, a symmetric spike-timing rule with one parameter, the target rate. Does this
# rule bring every excitatory neuron to the target rate, and what does the network's activity
# look like afterwards?
#
# **Start here** (three lines: simulate 1 s without plasticity, then 20 s with it, and plot
# the excitatory population rate; the dashed line is the target of 5 Hz):

# %%
from neurolearn import plots, run

ds = run("spiking-ei", "rate-homeostasis", seed=0)
plots.population_rate(ds["t"], ds["population_rate_exc"], target=5.0, label="excitatory");

# %% [markdown]
# ## Settings

# %%
import os

import matplotlib.pyplot as plt
import numpy as np

import neurolearn as nl

SMALL = os.environ.get("NEUROLEARN_LAB_SMALL", "0") == "1"
PLASTIC_MS = 8000 if SMALL else 20000  # how long the plasticity runs
TARGETS_HZ = (3.0, 8.0) if SMALL else (2.0, 3.0, 5.0, 8.0, 12.0)
SEEDS = 1 if SMALL else 3
task = [f"task.plastic_ms={PLASTIC_MS}", f"task.measure_ms={min(5000, PLASTIC_MS // 2)}"]

# %% [markdown]
# ## The model
#
# 400 E and 100 I leaky integrate-and-fire neurons with conductance-based synapses, connected
# at random with probability 0.2, each driven by a constant current and by Poisson input.
# Every I -> E synapse $w_{ij}$ (from inhibitory neuron $j$ to excitatory neuron $i$) carries
# two spike traces $x_i, x_j$ (decay time $\tau_{STDP} = 20$ ms) and changes at every spike:
#
# $$ \text{pre spike: } w_{ij} \leftarrow w_{ij} + \eta\,(x_i - \alpha), \qquad
#    \text{post spike: } w_{ij} \leftarrow w_{ij} + \eta\, x_j, \qquad
#    \alpha = 2 \rho_0 \tau_{STDP}. $$
#
# Near-coincident pre and post spikes strengthen inhibition, a lone presynaptic spike weakens
# it by $\eta\alpha$. On average the weight stops changing when the postsynaptic neuron fires
# at $\rho_0$: each excitatory neuron gets just as much inhibition as it needs.
#
# ## 1. Before and after: rasters

# %%
fig, axes = plt.subplots(1, 2, figsize=(10, 3.5), sharey=True)
n_exc = ds.attrs["n_exc"]
plots.raster(ds["raster_baseline_t"], ds["raster_baseline_i"], n_exc=n_exc, ax=axes[0])
plots.raster(ds["raster_final_t"], ds["raster_final_i"], n_exc=n_exc, ax=axes[1])
axes[0].set_title(f"before plasticity: E rate {float(ds['rate_baseline_hz']):.1f} Hz")
axes[1].set_title(f"after: E rate {float(ds['rate_final_hz']):.1f} Hz")
fig.tight_layout()

# %% [markdown]
# Before plasticity the network fires at tens of hertz. After 20 s of inhibitory plasticity
# the excitatory neurons fire sparsely and irregularly: the coefficient of variation of the
# inter-spike intervals is close to 1, as for a Poisson process.

# %%
print(f"CV of the inter-spike intervals after learning: {float(ds['cv_isi_final']):.2f}")

# %% [markdown]
# ## 2. Every neuron, not only the average
#
# The rule acts on each neuron separately. Compare the distribution of single-neuron rates
# and of the I -> E weights before and after.

# %%
fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
bins = np.linspace(0, float(ds["rate_baseline"].max()) + 1, 40)
axes[0].hist(ds["rate_baseline"], bins=bins, alpha=0.6, label="before")
axes[0].hist(ds["rate_final"], bins=bins, alpha=0.6, label="after")
axes[0].axvline(5.0, color="k", ls="--", label="target")
axes[0].set(xlabel="rate of one E neuron (Hz)", ylabel="neurons")
axes[0].legend()
axes[1].hist(ds["weight_before"], bins=30, alpha=0.6, label="before")
axes[1].hist(ds["weight_after"], bins=30, alpha=0.6, label="after")
axes[1].set(xlabel="I -> E weight", ylabel="synapses")
axes[1].legend()
fig.tight_layout()
print(
    f"spread of E rates: {float(ds['rate_std_baseline_hz']):.2f} Hz before, "
    f"{float(ds['rate_std_final_hz']):.2f} Hz after"
)

# %% [markdown]
# ## 3. Does the network follow the target?
#
# The theory says the fixed point is the target rate $\rho_0$, whatever it is. Sweep the
# target and compare the measured rate with it.

# %%
measured = np.zeros((len(TARGETS_HZ), SEEDS))
for i, target in enumerate(TARGETS_HZ):
    for seed in range(SEEDS):
        result = nl.run(
            "spiking-ei",
            "rate-homeostasis",
            seed=seed,
            overrides=task + [f"rule.target_rate_hz={target}"],
        )
        measured[i, seed] = float(result["rate_final_hz"])
ax = plots.rates_vs_targets(
    np.repeat(TARGETS_HZ, SEEDS), measured.ravel(), label="E population rate"
)
ax.set(xlabel="target rate (Hz)", ylabel="measured rate (Hz)", xlim=(0, 14), ylim=(0, 14))
for target, row in zip(TARGETS_HZ, measured, strict=True):
    print(f"target {target:5.1f} Hz: measured {row.mean():5.2f} Hz")

# %% [markdown]
# **What to look for.** The points should lie near the diagonal. Where they do not, ask
# whether the plasticity has had enough time (the learning rate sets how fast the weights
# move) and whether the target is reachable at all (inhibition cannot be negative, so a
# neuron driven weakly cannot be pushed *up* to a high target by removing inhibition alone).
#
# ## Exercises
#
# Solutions are in `solutions/spiking_lab_solutions.py`.
#
# 1. **No plasticity.** Run the same network with `rule.kind=none` and the initial I -> E
#    weight raised by hand (`network.w_inh_exc`) until the mean E rate is about 5 Hz. Compare
#    the spread of single-neuron rates with the plastic network's: what does a global knob
#    miss?
# 2. **Learning rate.** Change `rule.learning_rate` by a factor of 4 up and down. How long
#    does the population rate take to settle, and how much does it fluctuate afterwards?
# 3. **Current-based synapses.** Set `network.synapse=current`. Does the rule still reach
#    its target?
