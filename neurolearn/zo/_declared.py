"""The parameters of the zeroth-order family, each declared once.

The model classes (:class:`~neurolearn.zo.MLP` and the rules of :mod:`neurolearn.zo.rules`) and
the spec tables of ``models/*.toml`` are both built from these declarations; this module imports
nothing heavy so that reading a spec stays fast.
"""

from __future__ import annotations

import numbers

import numpy as np

from neurolearn._declare import Param, common_params, declare
from neurolearn._params import AnyOf, Boolean, Constraint, Interval, ListOf, Options, _Invalid

_POS = Interval(float, 0, None, "neither")
_PROBES = Interval(int, 1, None)
_WIDTH = Interval(int, 1, None)

#: hidden and output nonlinearities of the MLP
ACTIVATION_NAMES = ("tanh", "relu", "sigmoid", "linear")
#: losses of the MLP, averaged over the mini-batch
LOSS_NAMES = ("squared", "cross-entropy")
#: engines of the training loop; the family has no numpy engine (the numba kernels are checked
#: against backprop and closed-form gradients instead)
BACKENDS = ("numba", "torch")


class LayerSizes(Constraint):
    """A sequence (tuple, list or 1-D array) of at least two ints >= 1, returned as a tuple."""

    description = "a sequence of at least two ints >= 1 (input to output widths), e.g. (64, 64, 10)"

    def check(self, value):
        if (
            isinstance(value, str | bytes)
            or not hasattr(value, "__len__")
            or (isinstance(value, np.ndarray) and value.ndim != 1)
        ):
            raise _Invalid(True)
        if len(value) < 2:
            raise _Invalid(False)
        sizes = []
        for s in value:
            if isinstance(s, bool | np.bool_) or not isinstance(s, numbers.Integral):
                raise _Invalid(True)
            if s < 1:
                raise _Invalid(False)
            sizes.append(int(s))
        return tuple(sizes)


MLP_NETWORK = declare(
    layer_sizes=Param(
        (64, 64, 10),
        LayerSizes(),
        "Widths from input to output, e.g. (64, 64, 10); two entries give a linear map.",
        type_doc="sequence of int",
    ),
    activation=Param(
        "tanh", Options(ACTIVATION_NAMES), "Nonlinearity of the hidden layers.", runtime=True
    ),
    output_activation=Param(
        "linear",
        Options(ACTIVATION_NAMES),
        "Nonlinearity of the output layer (linear with cross-entropy, whose outputs are logits). "
        "In a spec, 'task' (the default there) means linear on digits and, on teacher tasks, "
        "the teacher's output activation.",
        runtime=True,
        spec_default="task",
        spec_constraint=Options(("task", *ACTIVATION_NAMES)),
    ),
    loss=Param(
        "cross-entropy",
        Options(LOSS_NAMES),
        "Softmax cross-entropy against one-hot targets, or half the squared error summed over "
        "the outputs; both averaged over the mini-batch.",
        runtime=True,
    ),
    bias=Param(
        True,
        Boolean(),
        "Whether every layer has a bias. In a spec, 'task' (the default there) means true on "
        "digits and false on teacher tasks (the teacher has none).",
        spec_default="task",
        spec_constraint=AnyOf((Boolean(), Options(("task",)))),
    ),
    init=Param(
        "normal",
        Options(("normal", "uniform")),
        "Weights start as N(0, (r / sqrt(fan_in))^2) or U(-r / sqrt(fan_in), r / sqrt(fan_in)) "
        "with r = init_scale, drawn layer by layer (the draws of "
        "neurolearn.teacher.networks.initial_weights for a two-layer network without biases); "
        "biases start at zero. In a spec, 'task' (the default there) means normal on digits "
        "and uniform on teacher tasks.",
        spec_default="task",
        spec_constraint=Options(("task", "normal", "uniform")),
    ),
    init_scale=Param(1.0, _POS, "r of the initial weights (see init)."),
)

#: parameters of the MLP class, in constructor order
MLP_PARAMS = MLP_NETWORK | common_params(backends=None, device=False)

#: the ``[network] kind = "mlp"`` spec table: hidden widths (input and output come from the
#: task) and the MLP parameters a spec sets
MLP_SPEC = declare(
    hidden=Param(
        (32,),
        ListOf(_WIDTH),
        "Hidden widths, input to output (the input and output widths come from the task).",
    ),
) | {
    name: MLP_NETWORK[name]
    for name in ("activation", "output_activation", "bias", "init", "init_scale")
}


def _learning_rate(default: float, doc: str = "Learning rate eta.") -> Param:
    return Param(default, _POS, doc, runtime=True)


def _sigma(default: float, doc: str) -> Param:
    return Param(default, _POS, doc, runtime=True)


BACKPROP = declare(learning_rate=_learning_rate(0.1))

WEIGHT_PERTURBATION = declare(
    learning_rate=_learning_rate(0.01),
    sigma=_sigma(1e-3, "Perturbation size."),
    n_probes=Param(1, _PROBES, "Perturbations averaged per step.", runtime=True),
    antithetic=Param(
        False,
        Boolean(),
        "Central difference L(theta + sigma xi) - L(theta - sigma xi) over 2 sigma instead of "
        "the forward difference from L(theta).",
        runtime=True,
    ),
)

NODE_PERTURBATION = declare(
    learning_rate=_learning_rate(0.05),
    sigma=_sigma(1e-3, "Size of the noise on every pre-activation."),
    n_probes=Param(
        1,
        _PROBES,
        "Noisy forward passes per step (each with fresh node noise).",
        runtime=True,
    ),
)

SPSA = declare(
    learning_rate=_learning_rate(0.01),
    sigma=_sigma(1e-3, "Perturbation size."),
    n_probes=Param(1, _PROBES, "Directions per step.", runtime=True),
    direction=Param(
        "rademacher",
        Options(("rademacher", "gaussian")),
        "Law of the directions z_k: random signs or standard normal.",
        runtime=True,
    ),
)

FORWARD_GRADIENT = declare(
    learning_rate=_learning_rate(0.01),
    n_probes=Param(
        1, _PROBES, "Gaussian directions per step (one forward-mode pass each).", runtime=True
    ),
)

EVOLUTION_STRATEGIES = declare(
    learning_rate=_learning_rate(0.01),
    sigma=_sigma(0.01, "Perturbation size."),
    population=Param(8, _PROBES, "Number of antithetic pairs per step.", runtime=True),
    fitness_shaping=Param(
        "none",
        Options(("none", "centered-ranks")),
        "The loss itself, or its centred rank in [-0.5, 0.5] over the 2 * population "
        "evaluations of the step (invariant to monotone transformations of the loss).",
        runtime=True,
    ),
)

OU_WEIGHT_NOISE = declare(
    learning_rate=_learning_rate(1.0, "eta: mean update per unit reward-prediction error."),
    sigma=_sigma(0.01, "Weight noise per step."),
    mean_reversion=Param(
        0.5,
        Interval(float, 0, 1, "right"),
        "lambda: pull of the weights towards their mean per step.",
        runtime=True,
    ),
    reward_rate=Param(
        0.1,
        Interval(float, 0, 1, "right"),
        "rho: rate of the running reward average.",
        runtime=True,
    ),
)
