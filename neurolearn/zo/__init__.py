"""Zeroth-order learning rules beside backprop: weight and node perturbation, SPSA (MeZO form),
forward gradient, evolution strategies and reward-modulated Ornstein-Uhlenbeck weight noise.

Every rule trains the same :class:`MLP` (a flat parameter vector), counts its forward passes
(queries) and can report single gradient estimates for diagnostics against the true gradient.
"""

from neurolearn.zo.generic import minimize, zo_gradient
from neurolearn.zo.network import MLP
from neurolearn.zo.rules import (
    RULES,
    SPSA,
    Backprop,
    EvolutionStrategies,
    ForwardGradient,
    NodePerturbation,
    OUWeightNoise,
    Rule,
    WeightPerturbation,
)
from neurolearn.zo.training import TrainResult, train

__all__ = [
    "MLP",
    "Rule",
    "RULES",
    "Backprop",
    "WeightPerturbation",
    "NodePerturbation",
    "SPSA",
    "ForwardGradient",
    "EvolutionStrategies",
    "OUWeightNoise",
    "train",
    "TrainResult",
    "zo_gradient",
    "minimize",
]
