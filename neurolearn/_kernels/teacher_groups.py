"""Named argument groups of the student-teacher kernels (plain named tuples of arrays/scalars).

The numba kernels receive them as structured arguments; the torch kernels and the Python
drivers build them in one place each, so that two step sizes or two sign vectors cannot be
swapped unnoticed. Activation fields hold the integer codes of
:data:`neurolearn.teacher.networks.ACTIVATIONS`.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

__all__ = ["Dataset", "MinibatchRule", "Recording", "OnlineRule", "TeacherWeights"]


class Dataset(NamedTuple):
    """Training inputs/targets ``x (P, M)``, ``y (P, K)`` and the test set (same layout)."""

    x: np.ndarray
    y: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


class MinibatchRule(NamedTuple):
    """One sign-flipped mini-batch learning rule.

    ``step_size`` is the per-batch step (learning rate scaled by the batch fraction),
    ``input_signs (M,)``/``hidden_signs (N,)`` the diagonals of ``D1``/``D2``, ``feedback
    (K, N)`` the fixed feedback matrix used when ``use_feedback`` (feedback alignment), and
    ``norm1``/``norm2`` the Frobenius norms each layer is rescaled to after every step
    (``norm1 = 0`` for no rescaling).
    """

    step_size: float
    batch_size: int
    activation: int
    output_activation: int
    input_signs: np.ndarray
    hidden_signs: np.ndarray
    feedback: np.ndarray
    use_feedback: bool
    norm1: float
    norm2: float


class Recording(NamedTuple):
    """Error curves written every ``record_every`` epochs (slot ``epoch // record_every``)."""

    record_every: int
    train_curve: np.ndarray
    test_curve: np.ndarray


class OnlineRule(NamedTuple):
    """Online (one fresh sample per step) learning rule: learning rate, whether the second
    layer learns, activation codes and the sign vectors ``input_signs (M,)``,
    ``hidden_in_signs (N,)`` (rows of the first-layer update) and ``hidden_signs (N,)``."""

    learning_rate: float
    train_second_layer: bool
    activation: int
    output_activation: int
    input_signs: np.ndarray
    hidden_in_signs: np.ndarray
    hidden_signs: np.ndarray


class TeacherWeights(NamedTuple):
    """The teacher network ``w1 (M*, N_in)``, ``w2 (K, M*)`` that labels online samples."""

    w1: np.ndarray
    w2: np.ndarray
