r"""Learning rules for two-layer networks: gradient descent, curl descent, feedback alignment.

A rule turns the error-signal products of :func:`~neurolearn.teacher.networks.two_layer_backward`
into weight changes. Rule-flipped ("curl") plasticity multiplies the update of every outgoing
synapse of a flipped input neuron (``D1``) and the output synapse of a flipped hidden neuron
(``D2``) by -1::

    dW2 = -eta * grad_w2 D2,    dW1 = -eta * grad_w1 D1

Flips are given as a count ``k`` (the first ``k`` neurons, as in the paper; with random weights
which ones does not matter) or as a sequence of neuron indices.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence

import numpy as np

from neurolearn._declare import Estimator
from neurolearn.errors import ParameterError, ParameterTypeError
from neurolearn.teacher import _declared as D
from neurolearn.teacher.networks import two_layer_backward

__all__ = ["LearningRule", "GradientDescent", "CurlDescent", "FeedbackAlignment", "flip_signs"]


def flip_signs(flips, size: int, owner: str, name: str) -> np.ndarray:
    """Sign vector of length ``size``: -1 at flipped neurons, +1 elsewhere.

    ``flips`` is a count (the first ``flips`` neurons) or a sequence of distinct indices.

    Examples
    --------
    >>> flip_signs(2, 4, "CurlDescent", "flipped_inputs").tolist()
    [-1.0, -1.0, 1.0, 1.0]
    >>> flip_signs([3], 4, "CurlDescent", "flipped_inputs").tolist()
    [1.0, 1.0, 1.0, -1.0]
    """
    signs = np.ones(size)
    if isinstance(flips, numbers.Integral) and not isinstance(flips, bool):
        if not 0 <= flips <= size:
            raise ParameterError(
                f"The '{name}' parameter of {owner} must be a count in [0, {size}] or a list of "
                f"indices in [0, {size - 1}]. Got {flips!r} instead."
            )
        signs[: int(flips)] = -1.0
        return signs
    if isinstance(flips, Sequence | np.ndarray) and not isinstance(flips, str):
        idx = list(flips)
        if not all(isinstance(i, numbers.Integral) and not isinstance(i, bool) for i in idx):
            raise ParameterTypeError(
                f"The '{name}' parameter of {owner} must be an int count or a list of int "
                f"indices. Got {flips!r} instead."
            )
        bad = [int(i) for i in idx if not 0 <= i < size]
        if bad or len(set(idx)) != len(idx):
            raise ParameterError(
                f"The '{name}' parameter of {owner} must hold distinct neuron indices in "
                f"[0, {size - 1}]. Got {flips!r} instead"
                + (f" ({bad} out of range)." if bad else " (repeated index).")
            )
        signs[np.asarray(idx, dtype=int)] = -1.0
        return signs
    raise ParameterTypeError(
        f"The '{name}' parameter of {owner} must be an int count or a list of int indices. "
        f"Got {flips!r} instead."
    )


class LearningRule(Estimator):
    """Base class: sign vectors, optional fixed feedback, and one numpy step.

    Subclasses declare their parameters (``params``, e.g. ``flipped_inputs``/``flipped_hidden``)
    and set ``uses_feedback``; the base class itself behaves as gradient descent. Parameters are
    validated at every use (a trainer's ``fit``, :meth:`signs`, :meth:`direction`), so a change
    takes effect at the next one.

    Examples
    --------
    >>> class FlipAllHidden(LearningRule):
    ...     def signs(self, n_inputs, n_hidden):
    ...         return np.ones(n_inputs), -np.ones(n_hidden)
    >>> FlipAllHidden().signs(2, 2)[1].tolist()
    [-1.0, -1.0]
    """

    uses_feedback = False
    flipped_inputs = 0
    flipped_hidden = 0

    def signs(self, n_inputs: int, n_hidden: int) -> tuple[np.ndarray, np.ndarray]:
        """``(input_signs (M,), hidden_signs (N,))``: the diagonals of ``D1`` and ``D2``."""
        self._check_params()
        owner = type(self).__name__
        return (
            flip_signs(self.flipped_inputs, n_inputs, owner, "flipped_inputs"),
            flip_signs(self.flipped_hidden, n_hidden, owner, "flipped_hidden"),
        )

    def feedback(self, n_outputs: int, n_hidden: int, rng) -> np.ndarray | None:
        """Fixed feedback matrix (n_outputs, n_hidden), or None when the rule backpropagates."""
        return None

    def direction(self, w1, w2, x, y, activation="tanh", output_activation=None, feedback=None):
        """Signed batch-mean update direction ``(dW1, dW2)``; a step is ``W += eta * d``.

        Examples
        --------
        >>> w1, w2 = np.eye(2), np.ones((1, 2))
        >>> d1, d2 = CurlDescent(flipped_hidden=1).direction(
        ...     w1, w2, np.array([[1.0, 0.0]]), np.array([[0.0]]), "linear")
        >>> d2.tolist()
        [[1.0, -0.0]]
        """
        if self.uses_feedback and feedback is None:
            raise ParameterError(
                f"{type(self).__name__}.direction needs the fixed 'feedback' matrix "
                "(draw it once with rule.feedback(n_outputs, n_hidden, rng))."
            )
        g1, g2 = two_layer_backward(
            w1,
            w2,
            x,
            y,
            activation,
            output_activation,
            feedback if self.uses_feedback else None,
        )
        s1, s2 = self.signs(w1.shape[1], w1.shape[0])
        return -g1 * s1[None, :], -g2 * s2[None, :]

    def __repr__(self) -> str:
        # every parameter, defaults included: the repr names the rule in result attributes
        args = ", ".join(f"{k}={getattr(self, k)!r}" for k in self._declared)
        return f"{type(self).__name__}({args})"


class GradientDescent(LearningRule):
    """Gradient descent on ``0.5 * mean |y_hat - y|^2`` (output derivative dropped, as in the
    curl-descent paper's baseline; exact gradient for a linear output).

    Examples
    --------
    >>> [s.tolist() for s in GradientDescent().signs(2, 1)]
    [[1.0, 1.0], [1.0]]
    """


class CurlDescent(LearningRule):
    r"""Rule-flipped plasticity: anti-Hebbian updates at flipped input/hidden neurons.

    Parameters
    ----------
    {parameters}

    Notes
    -----
    .. math:: \Delta W_2 = -\eta\, e\, h^\top D_2, \qquad
              \Delta W_1 = -\eta\, ((W_2^\top e) \odot \phi'(W_1 x))\, x^\top D_1

    With no flips this is exactly :class:`GradientDescent`.

    Examples
    --------
    >>> [s.tolist() for s in CurlDescent(flipped_inputs=[1], flipped_hidden=1).signs(3, 2)]
    [[1.0, -1.0, 1.0], [-1.0, 1.0]]
    """

    params = D.CURL_DESCENT


class FeedbackAlignment(LearningRule):
    """Feedback alignment: the hidden error comes through a fixed random matrix ``B``.

    Parameters
    ----------
    {parameters}

    Examples
    --------
    >>> fa = FeedbackAlignment()
    >>> fa.feedback(1, 4, np.random.default_rng(0)).shape
    (1, 4)
    """

    uses_feedback = True
    params = D.FEEDBACK_ALIGNMENT

    def feedback(self, n_outputs: int, n_hidden: int, rng) -> np.ndarray:
        scale = self._check_params(["feedback_scale"])["feedback_scale"]
        bound = scale / math.sqrt(n_hidden)
        return rng.uniform(-bound, bound, size=(n_outputs, n_hidden))
