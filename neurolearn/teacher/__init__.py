"""Student-teacher networks, learning rules (incl. rule-flipped "curl descent") and ODE theory.

Public API::

    from neurolearn.teacher import TwoLayerNetwork, make_teacher, CurlDescent, MinibatchTrainer
    from neurolearn.tasks.teacher import make_teacher_data
"""

from neurolearn._lazy import lazy_exports

# public name -> defining module, imported on first use so that reading a spec file
# (which imports the family's spec tables) stays fast
_WHERE = {
    "EnsembleTrainer": "neurolearn.teacher.ensemble",
    "TwoLayerNetwork": "neurolearn.teacher.networks",
    "make_teacher": "neurolearn.teacher.networks",
    "mean_squared_error": "neurolearn.teacher.networks",
    "two_layer_backward": "neurolearn.teacher.networks",
    "two_layer_forward": "neurolearn.teacher.networks",
    "OnlineTrainer": "neurolearn.teacher.online",
    "CurlDescent": "neurolearn.teacher.rules",
    "FeedbackAlignment": "neurolearn.teacher.rules",
    "GradientDescent": "neurolearn.teacher.rules",
    "LearningRule": "neurolearn.teacher.rules",
    "MinibatchTrainer": "neurolearn.teacher.training",
}


__all__ = [
    "TwoLayerNetwork",
    "make_teacher",
    "two_layer_forward",
    "two_layer_backward",
    "mean_squared_error",
    "LearningRule",
    "GradientDescent",
    "CurlDescent",
    "FeedbackAlignment",
    "MinibatchTrainer",
    "OnlineTrainer",
    "EnsembleTrainer",
]

__getattr__, __dir__ = lazy_exports(__name__, _WHERE, __all__)
