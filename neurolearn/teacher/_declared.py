"""The parameters of the student-teacher family, each declared once.

The public classes (:class:`~neurolearn.teacher.TwoLayerNetwork`, the learning rules, the
trainers) and the spec tables of ``models/*.toml`` and ``tasks/teacher*.toml`` are built from
these declarations; this module imports nothing heavy so that reading a spec stays fast.
"""

from __future__ import annotations

import dataclasses
import numbers

import numpy as np

from neurolearn import _mlp
from neurolearn._declare import Param, SeedLike, common_params, declare
from neurolearn._params import Boolean, Constraint, Interval, NoneOr, Options, _Invalid

#: hidden and output activations (``"erf"`` is ``erf(u / sqrt(2))``), in kernel-code order
ACTIVATION_NAMES = _mlp.ACTIVATIONS
#: weight distributions of :func:`~neurolearn.teacher.networks.initial_weights`
INITS = ("uniform", "normal")

_POS = Interval(float, 0, None, "neither")


@dataclasses.dataclass(frozen=True)
class Flips(Constraint):
    """A count of flipped neurons (int >= 0) or a list of distinct neuron indices."""

    description = "an int >= 0 (how many neurons, the first ones) or a list of distinct int indices"

    def check(self, value):
        if isinstance(value, bool):
            raise _Invalid(True)
        if isinstance(value, numbers.Integral):
            if value < 0:
                raise _Invalid(False)
            return int(value)
        if isinstance(value, list | tuple):
            if not all(isinstance(i, numbers.Integral) and not isinstance(i, bool) for i in value):
                raise _Invalid(True)
            if any(i < 0 for i in value) or len(set(value)) != len(value):
                raise _Invalid(False)
            return [int(i) for i in value]
        raise _Invalid(True)


@dataclasses.dataclass(frozen=True)
class _FlipsOrArray(Flips):
    """What Python also takes: a 1-D integer array of indices (a TOML file holds lists only)."""

    def check(self, value):
        if isinstance(value, np.ndarray):
            if value.ndim != 1:
                raise _Invalid(True)
            value = value.tolist()
        return super().check(value)


class _Rule(Constraint):
    """A learning-rule object, or None (gradient descent)."""

    description = "a LearningRule (GradientDescent, CurlDescent, FeedbackAlignment) or None"

    def check(self, value):
        from neurolearn.teacher.rules import LearningRule

        if value is None or isinstance(value, LearningRule):
            return value
        raise _Invalid(True)


class _Rules(Constraint):
    """One learning rule for every member, a list of them (one per member), or None."""

    description = "a LearningRule, a non-empty list of LearningRule objects, or None"

    def check(self, value):
        from neurolearn.teacher.rules import LearningRule

        if value is None or isinstance(value, LearningRule):
            return value
        if isinstance(value, list | tuple) and value:
            if all(isinstance(r, LearningRule) for r in value):
                return value
        raise _Invalid(True)


class _Seeds(Constraint):
    """A seed, or a list of seeds (one per member)."""

    description = (
        "a non-negative int, a numpy.random.Generator, a SeedSequence, None, or a list of those"
    )

    def check(self, value):
        if isinstance(value, list | tuple):
            return [SeedLike().check(v) for v in value]
        return SeedLike().check(value)


_COMMON = common_params(backends=("numba", "torch", "numpy"), device=True)

# ------------------------------------------------------------------------- the network
NETWORK = declare(
    n_inputs=Param(
        100,
        Interval(int, 1, None),
        "Number of input neurons M (in a spec: task.n_inputs).",
    ),
    n_hidden=Param(10, Interval(int, 1, None), "Number of hidden neurons N."),
    n_outputs=Param(1, Interval(int, 1, None), "Number of outputs."),
    activation=Param(
        "tanh",
        Options(ACTIVATION_NAMES),
        "Hidden activation phi ('erf' is erf(u / sqrt(2)), the Saad-Solla choice).",
        runtime=True,
    ),
    output_activation=Param(
        None,
        NoneOr(Options(ACTIVATION_NAMES)),
        "Output activation; None (in a spec: 'same') means the same as activation, as in the "
        "curl-descent paper; 'linear' gives a soft committee machine (Saad-Solla).",
        runtime=True,
        spec_default="same",
        spec_constraint=Options(("same",) + ACTIVATION_NAMES),
    ),
    init=Param(
        "uniform", Options(INITS), "Weight distribution, of scale init_scale / sqrt(fan_in)."
    ),
    init_scale=Param(
        1.0,
        _POS,
        "r in U(-r/sqrt(fan_in), r/sqrt(fan_in)) (normal init: the standard deviation "
        "r/sqrt(fan_in)). The curl-descent paper uses r = 1 for teachers (the constructor's and "
        "make_teacher's default) and r = 2 for students (the default of a spec's "
        "network.init_scale, which always describes a student).",
        spec_default=2.0,
    ),
    seed=dataclasses.replace(
        _COMMON["seed"],
        doc="Seed of the weights drawn by initialize() (an int: the same every time).",
    ),
)

# ------------------------------------------------------------------------- the rules
_FLIPPED_INPUTS = Param(
    0,
    _FlipsOrArray(),
    "Rule-flipped input neurons (D1: the updates of all their outgoing synapses change sign): a "
    "count (the first ones) or indices.",
    runtime=True,
    spec_constraint=Flips(),
    type_doc="int or sequence of int",
)
_FLIPPED_HIDDEN = Param(
    0,
    _FlipsOrArray(),
    "Rule-flipped hidden neurons (D2: the updates of their output synapses change sign): a "
    "count (the first ones) or indices.",
    runtime=True,
    spec_constraint=Flips(),
    type_doc="int or sequence of int",
)

CURL_DESCENT = declare(
    flipped_inputs=_FLIPPED_INPUTS,
    flipped_hidden=dataclasses.replace(
        _FLIPPED_HIDDEN,
        doc=_FLIPPED_HIDDEN.doc + " A curl-descent spec flips one hidden neuron by default "
        "(the paper's setting); the class's 0 is plain gradient descent.",
        spec_default=1,
    ),
)

FEEDBACK_ALIGNMENT = declare(
    feedback_scale=Param(
        1.0,
        _POS,
        "B ~ feedback_scale * U(-1/sqrt(N), 1/sqrt(N)), shape (n_outputs, n_hidden).",
        runtime=True,
    ),
    flipped_inputs=_FLIPPED_INPUTS,
    flipped_hidden=_FLIPPED_HIDDEN,
)

# ------------------------------------------------------------------------- the trainers
#: what every mini-batch trainer (one student or an ensemble) takes; a spec's [train] table too
MINIBATCH = declare(
    learning_rate=Param(
        0.1,
        _POS,
        "eta; each mini-batch step uses eta * batch_size / n_train on the batch-mean update (the "
        "paper's convention: one epoch integrates time eta). In a spec, also the online task's "
        "eta (step eta / n_inputs).",
        runtime=True,
    ),
    batch_size=Param(10, Interval(int, 1, None), "Mini-batch size B.", runtime=True),
    epochs=Param(
        100,
        Interval(int, 0, None),
        "Training epochs (a spec runs 1000, the length of the paper's learning curves).",
        runtime=True,
        spec_default=1000,
    ),
    rescale_norms=Param(
        True,
        Boolean(),
        "After every step rescale W1 and W2 to their initial Frobenius norms (the paper).",
        runtime=True,
    ),
    record_every=Param(
        1,
        Interval(int, 1, None),
        "Record training and test error every this many epochs (a spec records every 10th).",
        runtime=True,
        spec_default=10,
    ),
    threshold=Param(
        None,
        NoneOr(_POS),
        "Training-error threshold: epochs_to_threshold is the first epoch below it (None: not "
        "tracked). A spec's metric.threshold (default 1e-3) is also the online task's "
        "test-error threshold of alpha_to_threshold.",
        runtime=True,
        spec_default=1e-3,
        spec_constraint=_POS,
    ),
    stop_at_threshold=Param(
        False, Boolean(), "Stop as soon as the training error is below threshold.", runtime=True
    ),
)

MINIBATCH_TRAINER = declare(
    rule=Param(
        None,
        _Rule(),
        "The learning rule; None is GradientDescent().",
        runtime=True,
        type_doc="LearningRule or None",
    ),
    **MINIBATCH,
    backend=dataclasses.replace(
        _COMMON["backend"],
        doc="Engine: 'numba' (the jitted whole loop), 'numpy' (plain per-batch numpy, the slow "
        "reference) or 'torch' (the ensemble trainer with one member); None picks the default "
        "(numba on CPU).",
    ),
    device=_COMMON["device"],
    seed=dataclasses.replace(
        _COMMON["seed"],
        doc="Seed of the epoch permutations and of the feedback matrix (feedback alignment).",
        runtime=True,
    ),
)

ENSEMBLE_TRAINER = declare(
    rules=Param(
        None,
        _Rules(),
        "One rule for all members, or one per member (any mix of gradient descent and curl "
        "descent with different flips; feedback alignment only with itself); None is "
        "GradientDescent() for every member.",
        runtime=True,
        type_doc="LearningRule, list of LearningRule or None",
    ),
    **MINIBATCH,
    device=dataclasses.replace(
        _COMMON["device"], doc="Torch device such as 'cpu' or 'cuda'; None is the CPU."
    ),
    dtype=Param(
        "float64", Options(("float64", "float32")), "Precision of the weights.", runtime=True
    ),
    num_threads=Param(
        1,
        NoneOr(Interval(int, 1, None)),
        "Torch intra-op threads on the CPU during fit (restored afterwards). The per-step "
        "matrices are small, so one thread is fastest; None keeps torch's setting.",
        runtime=True,
    ),
    seed=Param(
        None,
        _Seeds(),
        "A list gives member i the streams of MinibatchTrainer(seed=seed[i]); a single seed is "
        "spawned into one child per member.",
        runtime=True,
        type_doc="int, Generator, None or list of those",
    ),
)

ONLINE_TRAINER = declare(
    rule=Param(
        None,
        _Rule(),
        "GradientDescent or CurlDescent (None: gradient descent); the flips apply per input "
        "neuron (flipped_inputs) and on the second layer (flipped_hidden).",
        runtime=True,
        type_doc="LearningRule or None",
    ),
    learning_rate=Param(
        0.5,
        _POS,
        "eta; each step moves the weights by eta / n_inputs times the update.",
        runtime=True,
    ),
    alpha_max=Param(
        100.0,
        _POS,
        "Training time alpha = steps / n_inputs (round(alpha_max M) steps).",
        runtime=True,
    ),
    record_every_alpha=Param(
        1.0, _POS, "Interval between recorded points, in alpha.", runtime=True
    ),
    train_second_layer=Param(True, Boolean(), "Train W2 as well as W1.", runtime=True),
    hidden_input_flips=Param(
        0,
        _FlipsOrArray(),
        "Hidden units whose incoming weights learn with the flipped sign (the order-parameter "
        "ODEs stay closed for these).",
        runtime=True,
        type_doc="int or sequence of int",
    ),
    label_noise_std=Param(
        0.0, Interval(float, 0, None), "Standard deviation sigma of the label noise.", runtime=True
    ),
    n_test=Param(
        2000, Interval(int, 1, None), "Size of the fixed noiseless test set.", runtime=True
    ),
    backend=Param(
        None,
        NoneOr(Options(("numba", "numpy"))),
        "Engine: 'numba' (the jitted loop; it labels samples with the student's activations, "
        "so the teacher must share them) or 'numpy' (plain numpy, the reference, any teacher); "
        "None picks the default (numba).",
        runtime=True,
    ),
    seed=dataclasses.replace(
        _COMMON["seed"],
        doc="Seed of the training samples, the label noise and the test set.",
        runtime=True,
    ),
)


def only(params: dict, *names: str) -> dict:
    """The declarations ``names`` of ``params`` (a spec table that takes some of them)."""
    return {name: params[name] for name in names}


def spec_field(p: Param, **changes):
    """A spec-table field from a declaration, for a table whose own fields come in between.

    ``changes`` replace fields of the declaration (``spec_default=...`` for a table that starts
    from another value).
    """
    from neurolearn._schema import param

    if changes:
        p = dataclasses.replace(p, **changes)
    return param(p.spec_value, p.spec_check, p.doc)
