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
# # Solutions: curl descent
#
# Solutions to the exercises of `curl_descent_lab.py`.

# %%
import os

import matplotlib.pyplot as plt
import numpy as np

import neurolearn as nl
from neurolearn import plots
from neurolearn.tasks.teacher import make_teacher_data
from neurolearn.teacher import CurlDescent, MinibatchTrainer, TwoLayerNetwork, make_teacher
from neurolearn.teacher.diagnostics import lyapunov_exponent
from neurolearn.teacher.theory import critical_flip_fraction, smallest_eigenvalue

SMALL = os.environ.get("NEUROLEARN_LAB_SMALL", "0") == "1"
EPOCHS = 200 if SMALL else 1000
rng = np.random.default_rng(0)

# %% [markdown]
# ## 1. Flipped hidden neurons
#
# With hidden flips, $A = W_1^\top D_2 W_1 + \lVert w_2 \rVert^2 I$: a flipped hidden neuron
# subtracts its own rank-one term $w_i w_i^\top$ (row $i$ of $W_1$).

# %%
for n_hidden, n_inputs in ((40, 10), (10, 40)):
    w1 = rng.standard_normal((n_hidden, n_inputs)) / np.sqrt(n_inputs)
    w2 = rng.standard_normal(n_hidden)
    w2 /= np.linalg.norm(w2)
    lams = []
    for flipped in range(n_hidden + 1):
        signs = np.r_[-np.ones(flipped), np.ones(n_hidden - flipped)]
        lams.append(smallest_eigenvalue(w1, w2, hidden_signs=signs))
    first_negative = next((k for k, lam in enumerate(lams) if lam < 0), None)
    c = n_inputs / n_hidden
    print(
        f"N = {n_hidden}, M = {n_inputs} (c = {c:.2f}): lambda_min < 0 from "
        f"{first_negative} flipped hidden neurons on"
    )
    theory = critical_flip_fraction(c, layer="hidden", n_total=n_hidden + n_inputs, seed=0)
    print(f"    sampled critical fraction: {theory:.2f}")

# %% [markdown]
# The expanding network (many hidden units, $c = 1/4$) tolerates a larger fraction of flipped
# hidden neurons than the compressive one ($c = 4$): with more hidden units each flipped
# rank-one term removes less from the spectrum of $W_1^\top W_1$.
#
# ## 2. Beyond the boundary


# %%
def linear_run(n_in, n_hid, n_flipped, seed=1):
    streams = np.random.default_rng([n_in, n_flipped, seed]).spawn(4)
    teacher = make_teacher(n_in, n_hid, activation="linear", seed=streams[0])
    data = make_teacher_data(teacher, n_train=250, n_test=100, seed=streams[1])
    student = TwoLayerNetwork(n_inputs=n_in, n_hidden=n_hid, activation="linear", seed=streams[2])
    trainer = MinibatchTrainer(
        rule=CurlDescent(flipped_inputs=n_flipped),
        learning_rate=0.1,
        batch_size=10,
        epochs=EPOCHS,
        record_every=10,
        seed=streams[3],
    ).fit(student.initialize(), data)
    return student, data, trainer.history_


fig, ax = plt.subplots(figsize=(5, 3.5))
n_in, n_hid = 24, 6  # c = 4: compressive
for n_flipped, color in ((0, "C0"), (n_in // 2, "C3")):
    student, data, history = linear_run(n_in, n_hid, n_flipped)
    plots.learning_curve(
        history.epochs,
        history.train_error,
        label=f"{n_flipped} of {n_in} inputs flipped",
        xlabel="epoch",
        ylabel="training error",
        color=color,
        ax=ax,
    )
    lam = lyapunov_exponent(
        student, data, CurlDescent(flipped_inputs=n_flipped), epochs=100, seed=2
    )
    print(
        f"{n_flipped:>2} flipped: final training error {history.train_error[-1]:.2e}, "
        f"largest Lyapunov exponent {lam:+.4f} per epoch"
    )

# %% [markdown]
# Without flips the error falls steadily and the Lyapunov exponent is negative (nearby
# trajectories converge). With half the inputs flipped, far beyond the critical fraction for
# $c = 4$, the error does not converge; compare the sign of the printed exponent: a positive
# value means nearby weight trajectories separate, the signature of chaotic learning.
#
# ## 3. Learning rate and theory

# %%
base = [
    "network.activation=erf",
    "network.output_activation=linear",
    "network.n_hidden=3",
    "task.teacher_hidden=3",
    "task.committee=false",
    f"task.alpha_max={30 if SMALL else 60}",
]
cases = {
    "M = 500, eta = 0.5": ["task.n_inputs=500", "train.learning_rate=0.5"],
    "M = 50, eta = 0.5": ["task.n_inputs=50", "train.learning_rate=0.5"],
    "M = 500, eta = 1.0": ["task.n_inputs=500", "train.learning_rate=1.0"],
}
fig, axes = plt.subplots(1, 3, figsize=(12, 3.5), sharey=True)
for ax, (title, extra) in zip(axes, cases.items(), strict=True):
    result = nl.run("curl-descent", "teacher-online", seed=0, overrides=base + extra)
    plots.learning_curve(
        result["alpha"],
        result["generalisation_error"],
        theory=result["ode_generalisation_error"],
        label="simulation",
        xlabel="alpha",
        ax=ax,
    )
    ax.set_title(title)
    gap = np.abs(result["generalisation_error"] - result["ode_generalisation_error"]).max()
    print(f"{title}: largest |simulation - theory| = {float(gap):.2e}")
fig.tight_layout()

# %% [markdown]
# The ODEs describe the limit $M \to \infty$: with $M = 50$ the simulation fluctuates around
# the theory (finite-size noise of order $1/\sqrt{M}$), and a larger learning rate amplifies
# these fluctuations, so compare the printed gaps of the three cases.
