"""Zeroth-order learning rules beside backprop: weight and node perturbation, SPSA (MeZO form),
forward gradient, evolution strategies and reward-modulated Ornstein-Uhlenbeck weight noise.

Every rule trains the same :class:`MLP` (a flat parameter vector), counts its forward passes
(queries) and can report single gradient estimates for diagnostics against the true gradient.
"""

from neurolearn._lazy import lazy_exports

# public name -> defining module, imported on first use so that reading a spec file
# (which imports the family's spec tables) stays fast
_WHERE = {
    "minimize": "neurolearn.zo.generic",
    "zo_gradient": "neurolearn.zo.generic",
    "MLP": "neurolearn.zo.network",
    "RULES": "neurolearn.zo.rules",
    "SPSA": "neurolearn.zo.rules",
    "Backprop": "neurolearn.zo.rules",
    "EvolutionStrategies": "neurolearn.zo.rules",
    "ForwardGradient": "neurolearn.zo.rules",
    "NodePerturbation": "neurolearn.zo.rules",
    "OUWeightNoise": "neurolearn.zo.rules",
    "Rule": "neurolearn.zo.rules",
    "WeightPerturbation": "neurolearn.zo.rules",
    "train": "neurolearn.zo.training",
    # deprecated: train returns a neurolearn._history.History (warns on access)
    "TrainResult": "neurolearn.zo.training",
}


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
    "zo_gradient",
    "minimize",
]

__getattr__, __dir__ = lazy_exports(__name__, _WHERE, __all__)
