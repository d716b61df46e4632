"""Student-teacher networks, learning rules (incl. rule-flipped "curl descent") and ODE theory.

Public API::

    from neurolearn.teacher import TwoLayerNetwork, make_teacher, CurlDescent, MinibatchTrainer
    from neurolearn.tasks.teacher import make_teacher_data
"""

from neurolearn.teacher.ensemble import EnsembleTrainer
from neurolearn.teacher.networks import (
    TwoLayerNetwork,
    make_teacher,
    mean_squared_error,
    two_layer_backward,
    two_layer_forward,
)
from neurolearn.teacher.online import OnlineTrainer
from neurolearn.teacher.rules import CurlDescent, FeedbackAlignment, GradientDescent, LearningRule
from neurolearn.teacher.training import MinibatchTrainer

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
