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
# # Lab: curl descent, when some neurons learn with the wrong sign
#
# **The question.** Gradient descent changes every synapse so as to lower the error. In the
# brain, some synapses follow anti-Hebbian rules: their change has the *opposite* sign. If a
# few neurons of a network learn with the flipped sign ("rule-flipped" neurons), the updates
# are no longer the gradient of anything: they have a *curl*. Can such a network still learn a
# task, when does it fail, and can the curl even speed learning up?
#
# **Start here** (three lines: a student network learns online from a teacher network by
# gradient descent; the dashed line is the theory, ordinary differential equations for a few
# order parameters, which predicts the whole learning curve):

# %%
from neurolearn import plots, run

ds = run("backprop", "teacher-online", overrides=["network.activation=erf", "network.n_hidden=2"])
plots.learning_curve(ds["alpha"], ds["generalisation_error"], theory=ds["ode_generalisation_error"]);

# %% [markdown]
# The horizontal axis is training time $\alpha$ = number of examples / input dimension; the
# curve shows a *plateau* (the hidden units are still symmetric) before the error drops.
#
# ## Settings

# %%
import os

import matplotlib.pyplot as plt
import numpy as np

import neurolearn as nl
from neurolearn.tasks.teacher import make_teacher_data
from neurolearn.teacher import CurlDescent, MinibatchTrainer, TwoLayerNetwork, make_teacher
from neurolearn.teacher.diagnostics import curl_diagnostics
from neurolearn.teacher.theory import critical_flip_fraction, smallest_eigenvalue

SMALL = os.environ.get("NEUROLEARN_LAB_SMALL", "0") == "1"
N_INPUTS = 200 if SMALL else 500  # online task
ALPHA_MAX = 40 if SMALL else 100
N_TOTAL = 30 if SMALL else 80  # M + N of the linear networks in part 3
PHASE_EPOCHS = 200 if SMALL else 1000
SPEEDUP_SIZES = (100,) if SMALL else (100, 500, 2000)
SEEDS = 2 if SMALL else 5

# %% [markdown]
# ## The model
#
# A two-layer student $\hat y = \phi(W_2\, \phi(W_1 x))$ ($M$ inputs, $N$ hidden units) learns
# the labels of a teacher of the same form. With error $e = \hat y - y$ and hidden activity
# $h = \phi(W_1 x)$, the **rule-flipped** update is
#
# $$ \Delta W_2 = -\eta\, e\, h^\top D_2, \qquad
#    \Delta W_1 = -\eta\, \bigl((W_2^\top e) \odot \phi'(W_1 x)\bigr)\, x^\top D_1, $$
#
# where $D_1$ ($M \times M$) and $D_2$ ($N \times N$) are diagonal with entries $\pm 1$: $-1$
# marks a rule-flipped input neuron (all its outgoing synapses) or hidden neuron (its output
# synapse). With all entries $+1$ this is gradient descent (Ninou, Kadmon & Cayco-Gajic 2025).
#
# ## 1. Theory beside simulation, with and without a flipped neuron
#
# Train the second layer too (`task.committee=false`, linear output) and flip one hidden
# neuron. The order-parameter ODEs still close, so theory and simulation can be compared for
# both rules.

# %%
online = [
    "network.activation=erf",
    "network.output_activation=linear",
    "network.n_hidden=3",
    "task.teacher_hidden=3",
    "task.committee=false",
    "train.learning_rate=0.5",
    f"task.n_inputs={N_INPUTS}",
    f"task.alpha_max={ALPHA_MAX}",
]
fig, ax = plt.subplots(figsize=(5, 3.5))
for model, color in (("backprop", "C0"), ("curl-descent", "C3")):
    result = nl.run(model, "teacher-online", seed=0, overrides=online)
    plots.learning_curve(
        result["alpha"], result["generalisation_error"], label=model, color=color, ax=ax
    )
    ax.plot(result["alpha"], result["ode_generalisation_error"], "k--", lw=1)
ax.set(xlabel="alpha (examples / input dimension)", ylabel="generalisation error")
ax.set_title("simulation (solid) and ODE theory (dashed)")

# %% [markdown]
# ## 2. The update is not a gradient
#
# The update field $F(W)$ of gradient descent is $-\nabla L$: its Jacobian is the (negative)
# Hessian, a symmetric matrix. Flipping signs multiplies it by a diagonal sign matrix $S$,
# and $-SH$ is not symmetric when $S$ and $H$ do not commute. The antisymmetric part of the
# Jacobian measures the curl.

# %%
rng = np.random.default_rng(0)
teacher = make_teacher(20, 4, activation="tanh", seed=rng)
data = make_teacher_data(teacher, n_train=200, n_test=50, seed=rng)
student = TwoLayerNetwork(n_inputs=20, n_hidden=4, activation="tanh", seed=rng).initialize()
for rule in (CurlDescent(), CurlDescent(flipped_hidden=1), CurlDescent(flipped_inputs=5)):
    diag = curl_diagnostics(
        rule, student.w1_, student.w2_, data.x_train, data.y_train, "tanh", "tanh"
    )
    print(f"{rule!r:>45}: curl ratio {diag['curl_ratio']:.3f}")

# %% [markdown]
# ## 3. When does learning survive? The stability of the solution manifold
#
# For a *linear* network the solutions form a manifold, $W_2 W_1 = $ teacher. Near it the
# error evolves as $\dot v = -v A$ with
#
# $$ A = W_1^\top D_2 W_1 + \lVert w_2\rVert^2 D_1 , $$
#
# and the manifold is stable when $A$ is positive definite. With input flips, random-matrix
# theory gives $\lambda_{\min}(W_1^\top W_1) \to (1/\sqrt{c} - 1)^2$ for aspect ratio
# $c = M/N$: an *expanding* network (few inputs, many hidden units, $c < 1/4$) tolerates any
# fraction of flipped inputs, a compressive one almost none. Below, every cell of the phase
# diagram is one simulated linear network (final test error), and the white line is the
# critical fraction at which $\lambda_{\min}(A)$ turns negative.

# %%
ratios = np.logspace(-1, 1.5, 6)
fractions = np.linspace(0, 1, 5)


def final_log_error(ratio, fraction, seed=0):
    n_in = max(1, min(N_TOTAL - 1, round(N_TOTAL * ratio / (1 + ratio))))
    n_hid = N_TOTAL - n_in
    streams = np.random.default_rng([n_in, seed]).spawn(4)
    teacher = make_teacher(n_in, n_hid, activation="linear", seed=streams[0])
    data = make_teacher_data(teacher, n_train=250, n_test=100, seed=streams[1])
    student = TwoLayerNetwork(n_inputs=n_in, n_hidden=n_hid, activation="linear", seed=streams[2])
    trainer = MinibatchTrainer(
        rule=CurlDescent(flipped_inputs=round(fraction * n_in)),
        learning_rate=0.1,
        batch_size=10,
        epochs=PHASE_EPOCHS,
        record_every=PHASE_EPOCHS,
        seed=streams[3],
    )
    try:
        trainer.fit(student.initialize(), data)
    except nl.errors.DivergenceError:
        return 3.0  # diverged: shown as the largest error
    return float(np.log10(np.clip(student.error(data.x_test, data.y_test), 1e-16, 1e3)))


log_error = np.array([[final_log_error(c, f) for c in ratios] for f in fractions])
boundary = [critical_flip_fraction(c, n_total=N_TOTAL, n_samples=10, seed=0) for c in ratios]
ax = plots.phase_diagram(
    np.log10(ratios),
    fractions,
    log_error,
    xlabel="log10 c = log10(M / N)",
    ylabel="fraction of flipped inputs",
    colorbar_label="log10 final test error",
    boundary=(np.log10(ratios), boundary),
)

# %% [markdown]
# The smallest eigenvalue can also be checked on one network directly:

# %%
w1 = rng.standard_normal((40, 10)) / np.sqrt(10)  # N = 40 hidden, M = 10 inputs: c = 1/4
w2 = rng.standard_normal(40)
w2 /= np.linalg.norm(w2)
for flipped in (0, 5, 10):
    signs = np.r_[-np.ones(flipped), np.ones(10 - flipped)]
    lam = smallest_eigenvalue(w1, w2, input_signs=signs)
    print(f"{flipped:>2} of 10 inputs flipped: lambda_min(A) = {lam:+.3f}")

# %% [markdown]
# ## 4. Can curl speed learning up?
#
# The paper's setting: tanh networks, $M = 100$ inputs, $N = 10$ hidden units, one flipped
# hidden neuron, $P$ training examples. Count the epochs until the training error is below
# $10^{-3}$, for the same teacher, data and initial student under both rules (a paired
# comparison).

# %%
epochs = {model: np.zeros((len(SPEEDUP_SIZES), SEEDS)) for model in ("backprop", "curl-descent")}
for i, n_train in enumerate(SPEEDUP_SIZES):
    for model in epochs:
        for seed in range(SEEDS):
            result = nl.run(
                model,
                "teacher",
                seed=seed,
                overrides=[
                    f"task.n_train={n_train}",
                    "train.epochs=5000",
                    "train.stop_at_threshold=true",
                    "train.record_every=50",
                ],
            )
            epochs[model][i, seed] = float(result["epochs_to_threshold"])

fig, ax = plt.subplots(figsize=(4.5, 3.5))
for model, color in (("backprop", "C0"), ("curl-descent", "C3")):
    values = np.where(epochs[model] < 0, np.nan, epochs[model])
    ax.errorbar(
        SPEEDUP_SIZES,
        np.nanmean(values, axis=1),
        yerr=np.nanstd(values, axis=1),
        marker="o",
        capsize=3,
        color=color,
        label=model,
    )
ax.set(xlabel="training set size P", ylabel="epochs to train error 1e-3", xscale="log")
ax.legend()
for i, n_train in enumerate(SPEEDUP_SIZES):
    ratio = np.mean(epochs["backprop"][i]) / np.mean(epochs["curl-descent"][i])
    print(f"P = {n_train:>5}: gradient descent / curl descent epochs = {ratio:.2f}")

# %% [markdown]
# **What to look for.** With little data the two rules need about the same number of epochs.
# The paper reports that with much data gradient descent slows down while curl descent does
# not (about 2.7 times fewer epochs at $P = 2000$). neurolearn's own measurement (10 seeds,
# README of the teacher family) finds a ratio of 0.86 at $P = 100$ and about 1.8 at
# $P = 2000$: a real speed-up, smaller than reported. A run that never reached the threshold
# within 5000 epochs is recorded as $-1$ and left out of the means.
#
# ## Exercises
#
# Solutions are in `solutions/curl_descent_lab_solutions.py`.
#
# 1. **Flipped hidden neurons.** Repeat the eigenvalue check of part 3 with flipped *hidden*
#    neurons (`hidden_signs`) instead of inputs, for an expanding ($N = 40$, $M = 10$) and a
#    compressive ($N = 10$, $M = 40$) network. Which tolerates more flips?
# 2. **Beyond the boundary.** Train one linear network with $c = 4$ and half of its inputs
#    flipped. Plot the training error over epochs: does it converge? Compare the largest
#    Lyapunov exponent of the weight dynamics (`neurolearn.teacher.diagnostics.lyapunov_exponent`)
#    below and above the boundary.
# 3. **Learning rate and theory.** The ODEs are exact in the limit of large input dimension.
#    Rerun part 1 with `task.n_inputs=50` and with `train.learning_rate=1.0`. Where does the
#    simulation leave the theory?
