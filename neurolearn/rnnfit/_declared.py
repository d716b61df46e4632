"""The parameters of the rnnfit family, each declared once.

The model classes (:class:`~neurolearn.rnnfit.SOCircuit`, :class:`~neurolearn.rnnfit.RateCircuit`,
:class:`~neurolearn.rnnfit.RNNStudent`, :class:`~neurolearn.rnnfit.ForceStudent`) and the spec
tables of ``models/*-rnn.toml`` and ``tasks/soc-reaching.toml`` are built from these
declarations; this module imports nothing heavy so that reading a spec stays fast.

A spec file has no ``None``: where the Python value ``None`` means "off" (no batching, no
clipping, no early stopping, no checkpoint), the spec key writes ``0`` or ``""`` for it
(``spec_default`` and ``spec_constraint`` below), and the run maps it back.
"""

from __future__ import annotations

import os

import numpy as np

from neurolearn._declare import Param, common_params, declare
from neurolearn._params import Boolean, Constraint, Interval, NoneOr, Options, Text, _Invalid

_POS = Interval(float, 0, None, "neither")


class _Path(Constraint):
    """A file path: a string or an ``os.PathLike``."""

    description = "a path (str or os.PathLike)"

    def check(self, value):
        if not isinstance(value, str | os.PathLike):
            raise _Invalid(True)
        return value


class _Matrix(Constraint):
    """An array-like of numbers (its shape is checked where it is used)."""

    description = "an array of numbers"

    def check(self, value):
        if value is None or isinstance(value, str | bytes | dict):
            raise _Invalid(True)
        try:
            arr = np.asarray(value)
        except (TypeError, ValueError):
            raise _Invalid(True) from None
        if arr.dtype.kind not in "biuf":
            raise _Invalid(True)
        return value


SEED = common_params(backends=None, device=False)

# ---------------------------------------------------------------- the ground-truth circuit
RATES = declare(
    tau_ms=Param(200.0, _POS, "Membrane time constant tau of the circuit (ms).", runtime=True),
    baseline_rate_hz=Param(
        5.0,
        _POS,
        "Rate r0 at zero state: the gain is r0 tanh(x / r0) below zero, so rates stay >= 0.",
        runtime=True,
    ),
    max_rate_hz=Param(
        100.0,
        Interval(float, 0, None),
        "Largest rate rmax: above zero the gain is (rmax - r0) tanh(x / (rmax - r0)); must "
        "exceed baseline_rate_hz.",
        runtime=True,
    ),
)

SOC = declare(
    n=Param(200, Interval(int, 4, None), "Number of neurons N of the circuit."),
    excitatory_fraction=Param(
        0.5,
        Interval(float, 0, 1, "neither"),
        "Fraction of excitatory neurons (the first round(f N) ones).",
    ),
    density=Param(
        0.1, Interval(float, 0, 1, "neither"), "Connection probability p (no self-connections)."
    ),
    radius=Param(
        10.0,
        _POS,
        "Initial spectral radius scale R in w0 = sqrt(2) R / sqrt(p (1 - p) (1 + gamma^2)).",
    ),
    inhibition_ratio=Param(
        3.0,
        _POS,
        "gamma: inhibitory weights start at -gamma w0 / sqrt(N), excitatory ones at "
        "w0 / sqrt(N); the ratio of total inhibition to total excitation is kept fixed.",
    ),
    target_abscissa=Param(
        0.15,
        Interval(float, None, 1, "neither"),
        "The stability optimisation stops once the spectral abscissa of W is at or below this.",
    ),
    learning_rate=Param(
        10.0, _POS, "Step of the stability optimisation on the normalised gradient Q P / tr(Q P)."
    ),
    max_iter=Param(
        3000,
        Interval(int, 0, None),
        "Most steps of the stability optimisation (a spec experiment needs at least one).",
        spec_constraint=Interval(int, 1, None),
    ),
)

#: parameters of the SOCircuit class, in constructor order
SOC_PARAMS = SOC | RATES | SEED

#: parameters of the RateCircuit class, in constructor order
RATE_CIRCUIT_PARAMS = declare(
    weights=Param(
        None,
        _Matrix(),
        "Recurrent weights W of shape (N, N), row = postsynaptic (required).",
        type_doc="array of shape (N, N)",
    ),
    readout=Param(
        None,
        NoneOr(_Matrix()),
        "Output weights C of shape (O, N), applied to the rate deviations from baseline: the "
        "outputs are C g(x).",
        type_doc="array of shape (O, N) or None",
    ),
    tau_ms=RATES["tau_ms"],
    gain=Param(
        "soc",
        Options(("soc", "tanh")),
        "'soc': piecewise tanh between 0 and max_rate_hz around baseline_rate_hz; "
        "'tanh': r = tanh(x) (baseline 0).",
        runtime=True,
    ),
    baseline_rate_hz=RATES["baseline_rate_hz"],
    max_rate_hz=RATES["max_rate_hz"],
)

# ---------------------------------------------------------------- the students
STUDENT = declare(
    n_units=Param(
        200,
        Interval(int, 1, None),
        "Student size, at least the number of recorded neurons (the default is the default "
        "circuit's size, so every neuron of it can be recorded).",
    ),
    tau_ms=Param(
        200.0, _POS, "Student time constant tau (ms); takes effect in predict.", runtime=True
    ),
    dt_ms=Param(
        20.0,
        _POS,
        "Euler step (ms); must equal the recording's and not exceed tau_ms; takes effect in "
        "predict.",
        runtime=True,
    ),
    target_amplitude=Param(
        0.5,
        Interval(float, 0, 1, "neither"),
        "Largest scaled recorded-rate deviation, in tanh units (see target_transform).",
    ),
)

BPTT_NETWORK = declare(
    init_gain=Param(
        1.0, Interval(float, 0, None), "J starts as init_gain N(0, 1) / sqrt(n_units)."
    ),
)

BPTT = declare(
    recorded_weight=Param(
        1.0,
        Interval(float, 0, None),
        "lambda: weight of the recorded-unit error; 0 trains on the outputs only.",
    ),
    learning_rate=Param(3e-3, _POS, "Adam step."),
    n_epochs=Param(1000, Interval(int, 0, None), "Epochs (passes over the training conditions)."),
    batch_size=Param(
        None,
        NoneOr(Interval(int, 1, None)),
        "Conditions per Adam step, drawn from the seeded stream; None (0 in a spec file) uses "
        "all of them.",
        spec_default=0,
        spec_constraint=Interval(int, 0, None),
    ),
    grad_clip=Param(
        1.0,
        NoneOr(_POS),
        "Clip the gradient norm to this value; None (0 in a spec file) does not clip.",
        spec_constraint=Interval(float, 0, None),
    ),
    patience=Param(
        None,
        NoneOr(Interval(int, 1, None)),
        "Early stopping: stop after this many validations without improvement of the "
        "validation loss and keep the best weights (needs a validation Recording); None (0 in "
        "a spec file) never stops early.",
        spec_default=0,
        spec_constraint=Interval(int, 0, None),
    ),
    validate_every=Param(20, Interval(int, 1, None), "Epochs between validations."),
    loop=Param(
        "fused",
        Options(("fused", "autograd")),
        "The time loop (neurolearn._kernels.torch.rnnfit): a hand-written backward pass, or "
        "plain autograd over a Python loop.",
    ),
    dtype=Param("float32", Options(("float32", "float64")), "Tensor dtype of the training."),
)

CHECKPOINT = declare(
    checkpoint=Param(
        None,
        NoneOr(_Path()),
        "File written every checkpoint_every epochs and at the end; when it exists at fit, "
        "training resumes from it (the same final weights as an uninterrupted run). None ('' in "
        "a spec file): no checkpoint.",
        spec_default="",
        spec_constraint=Text(),
        type_doc="path or None",
    ),
    checkpoint_every=Param(100, Interval(int, 1, None), "Epochs between checkpoints."),
)

TORCH = declare(
    device=Param(
        None,
        NoneOr(Text()),
        "Torch device: 'cpu' or 'cuda[:N]'; None is the CPU.",
    ),
    n_threads=Param(
        1,
        NoneOr(Interval(int, 1, None)),
        "CPU threads torch uses during fit (restored afterwards). One thread is fastest for "
        "the small matrices of a few hundred units; None keeps torch's setting.",
    ),
)

FORCE = declare(
    init_gain=Param(
        1.5,
        Interval(float, 0, None),
        "Gain g of the initial random recurrent weights g N(0, 1) / sqrt(n_units) (> 1: chaotic).",
    ),
    feedback_scale=Param(
        1.0,
        Interval(float, 0, None),
        "Output feedback weights are uniform in [-feedback_scale, feedback_scale].",
    ),
    alpha=Param(1.0, _POS, "The RLS matrix P starts as I / alpha (the regulariser)."),
    n_epochs=Param(
        30, Interval(int, 0, None), "Passes over the training conditions (in a seeded order)."
    ),
    update_every=Param(1, Interval(int, 1, None), "Steps between RLS updates."),
    fit_recorded=Param(
        True, Boolean(), "Also fit the recorded units (False: classic output-only FORCE)."
    ),
)

#: parameters of the RNNStudent class, in constructor order
RNN_STUDENT_PARAMS = STUDENT | BPTT_NETWORK | BPTT | CHECKPOINT | TORCH | SEED
#: parameters of the ForceStudent class, in constructor order
FORCE_STUDENT_PARAMS = STUDENT | FORCE | SEED

#: the ``[network] kind = "rate-rnn"`` table, in its key order
RATE_RNN_NETWORK = (
    {k: STUDENT[k] for k in ("n_units", "tau_ms", "dt_ms")}
    | BPTT_NETWORK
    | {"target_amplitude": STUDENT["target_amplitude"]}
)

# ---------------------------------------------------------------- reach conditions and muscles
REACH = declare(
    n_conditions=Param(
        8,
        Interval(int, 1, None),
        "Reach conditions (in a spec, the training ring, which needs at least two).",
        spec_constraint=Interval(int, 2, None),
    ),
    layout=Param(
        "ring",
        Options(("ring", "modes")),
        "'ring': points (cos theta, sin theta) on the circle through the two most amplified "
        "states; 'modes': one amplified state per condition.",
    ),
    offset=Param(
        0.0,
        Interval(float),
        "Ring angles are 2 pi (c + offset) / n_conditions: offset=0.5 gives the conditions "
        "between the default ones (held-out reaches).",
    ),
    initial_state_rms=Param(
        0.5,
        Interval(float, 0, None),
        "Root-mean-square over neurons of the preparatory target state x0 (in the units of "
        "the gain; a spec needs it > 0, or nothing moves).",
        spec_constraint=_POS,
    ),
    prep_ms=Param(
        600.0,
        Interval(float, 0, None),
        "Preparatory period (ms): the input ramps up and holds the condition's initial state.",
    ),
    move_ms=Param(800.0, _POS, "Movement period (ms): input off, the circuit relaxes freely."),
    ramp_ms=Param(
        200.0,
        Interval(float, 0, None),
        "Time constant of the preparatory input ramp (ms; 0: a step).",
    ),
    dt_ms=Param(20.0, _POS, "Euler step of the circuit and time step of the data (ms)."),
)

MUSCLES = declare(
    n_outputs=Param(
        2, Interval(int, 1, None), "Muscle-like outputs (preferred angles 2 pi m / O)."
    ),
)

#: the held-out condition sets of a soc-reaching task
SPLITS = declare(
    n_test_conditions=Param(
        8, Interval(int, 1, None), "Held-out test conditions (halfway between the training ones)."
    ),
    n_validation_conditions=Param(
        4,
        Interval(int, 1, None),
        "Early-stopping conditions (a quarter of the way between the training ones).",
    ),
)

#: the ``[task] kind = "soc-reaching"`` keys that are SOCircuit parameters (spec key: name)
SOC_TASK_NAMES = {
    "n_neurons": "n",
    "excitatory_fraction": "excitatory_fraction",
    "density": "density",
    "radius": "radius",
    "inhibition_ratio": "inhibition_ratio",
    "target_abscissa": "target_abscissa",
    "soc_learning_rate": "learning_rate",
    "soc_max_iter": "max_iter",
    "tau_ms": "tau_ms",
}
#: their declarations, under the spec key
SOC_TASK = {key: SOC_PARAMS[name] for key, name in SOC_TASK_NAMES.items()}

#: the declared keys of the ``[task] kind = "soc-reaching"`` table, in its key order
SOC_REACHING_TASK = (
    SOC_TASK
    | {"n_conditions": REACH["n_conditions"]}
    | SPLITS
    | {k: REACH[k] for k in ("initial_state_rms", "prep_ms", "move_ms", "ramp_ms", "dt_ms")}
    | MUSCLES
)
