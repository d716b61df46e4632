r"""Two-layer student and teacher networks ``y = phi_out(W2 phi(W1 x))``, and their math.

The plain functions here (:func:`two_layer_forward`, :func:`two_layer_backward`,
:func:`mean_squared_error`) are the reference math of the family, in numpy, reusable by any
learning rule (gradient-based, rule-flipped or zeroth-order). :class:`TwoLayerNetwork` holds one
network's weights; :func:`make_teacher` draws a teacher.

Shapes: ``W1`` is ``(n_hidden, n_inputs)``, ``W2`` is ``(n_outputs, n_hidden)``, inputs ``x`` are
``(n_samples, n_inputs)`` and outputs ``(n_samples, n_outputs)``. No biases.

Activations: ``"linear"``, ``"tanh"``, ``"relu"``, ``"sigmoid"`` (logistic) and ``"erf"``, which
means ``erf(u / sqrt(2))`` (the Saad-Solla choice, with closed-form order-parameter integrals).
"""

from __future__ import annotations

import math

import numpy as np

from neurolearn import _mlp
from neurolearn._declare import Estimator
from neurolearn._params import (
    Options,
    changed_params,
    check_array,
    check_param,
    refuse_changed,
    snapshot_params,
)
from neurolearn._rng import as_generator
from neurolearn.teacher import _declared as D

__all__ = [
    "ACTIVATIONS",
    "activation_code",
    "activation_functions",
    "two_layer_forward",
    "two_layer_backward",
    "mean_squared_error",
    "initial_weights",
    "TwoLayerNetwork",
    "make_teacher",
]

#: activation name -> integer code used by the kernels
ACTIVATIONS = {name: code for code, name in enumerate(D.ACTIVATION_NAMES)}
INITS = D.INITS


def activation_code(name: str, owner: str = "TwoLayerNetwork", param: str = "activation") -> int:
    """Integer kernel code of an activation name, with a clear error on an unknown name.

    Examples
    --------
    >>> activation_code("tanh")
    1
    """
    check_param(owner, param, name, Options(tuple(ACTIVATIONS)))
    return ACTIVATIONS[name]


def activation_functions(name: str):
    """``(phi, phi_prime)`` as vectorised numpy functions (those of ``neurolearn._mlp``).

    Examples
    --------
    >>> phi, dphi = activation_functions("relu")
    >>> phi(np.array([-1.0, 2.0])).tolist(), dphi(np.array([-1.0, 2.0])).tolist()
    ([0.0, 2.0], [0.0, 1.0])
    """
    activation_code(name, "activation_functions", "name")
    return _mlp.activation_functions(name)


def two_layer_forward(w1, w2, x, activation="tanh", output_activation=None):
    """Forward pass of a two-layer network (``neurolearn._mlp.forward`` on ``W1, W2``).

    Parameters
    ----------
    w1 : ndarray of shape (n_hidden, n_inputs)
    w2 : ndarray of shape (n_outputs, n_hidden)
    x : ndarray of shape (n_samples, n_inputs)
    activation : str, default="tanh"
        Hidden activation ``phi``.
    output_activation : str or None, default=None
        Output activation; None means the same as ``activation``.

    Returns
    -------
    pre : ndarray (n_samples, n_hidden)
        Hidden pre-activations ``W1 x``.
    hidden : ndarray (n_samples, n_hidden)
        ``phi(W1 x)``.
    output : ndarray (n_samples, n_outputs)
        ``phi_out(W2 phi(W1 x))``.

    Examples
    --------
    >>> w1, w2 = np.eye(2), np.ones((1, 2))
    >>> two_layer_forward(w1, w2, np.array([[1.0, -2.0]]), "linear")[2].tolist()
    [[-1.0]]
    """
    activation_code(activation, "two_layer_forward", "activation")
    out_act = output_activation or activation
    activation_code(out_act, "two_layer_forward", "output_activation")
    pres, acts = _mlp.forward([(w1, None), (w2, None)], x, activation, out_act)
    return pres[0], acts[1], acts[2]


def two_layer_backward(w1, w2, x, y, activation="tanh", output_activation=None, feedback=None):
    r"""Batch-mean error-signal products of the two-layer network (unsigned updates).

    With ``e = y_hat - y`` (the output derivative is dropped, as in the curl-descent paper)::

        grad_w2 = mean_p  e_p h_p^T
        grad_w1 = mean_p  ((F^T e_p) * phi'(W1 x_p)) x_p^T

    ``F = W2`` gives the gradient of ``0.5 * mean |y_hat - y|^2`` (exact for a linear output);
    a fixed random ``feedback`` matrix gives feedback alignment. A rule applies
    ``W2 -= eta * grad_w2 D2`` and ``W1 -= eta * grad_w1 D1``. This is
    ``neurolearn._mlp.backward`` with the error ``e`` as the output signal.

    Returns
    -------
    grad_w1 : ndarray (n_hidden, n_inputs)
    grad_w2 : ndarray (n_outputs, n_hidden)

    Examples
    --------
    >>> w1, w2 = np.eye(2), np.ones((1, 2))
    >>> g1, g2 = two_layer_backward(w1, w2, np.array([[1.0, 0.0]]), np.array([[0.0]]), "linear")
    >>> g1.tolist(), g2.tolist()
    ([[1.0, 0.0], [1.0, 0.0]], [[1.0, 0.0]])
    """
    layers = [(w1, None), (w2, None)]
    activation_code(activation, "two_layer_backward", "activation")
    out_act = output_activation or activation
    activation_code(out_act, "two_layer_backward", "output_activation")
    pres, acts = _mlp.forward(layers, x, activation, out_act)
    (g1, _), (g2, _) = _mlp.backward(
        layers, pres, acts, acts[-1] - y, activation, feedback=[None, feedback]
    )
    return g1, g2


def mean_squared_error(w1, w2, x, y, activation="tanh", output_activation=None) -> float:
    """``0.5 * mean_p |phi_out(W2 phi(W1 x_p)) - y_p|^2`` (the paper's training/test error).

    Examples
    --------
    >>> mean_squared_error(np.eye(1), np.ones((1, 1)), np.ones((4, 1)), np.zeros((4, 1)), "linear")
    0.5
    """
    out = two_layer_forward(w1, w2, x, activation, output_activation)[2]
    return float(np.mean(_mlp.sample_losses(out, y, "squared")))


def initial_weights(n_inputs, n_hidden, n_outputs, init, init_scale, rng):
    """Draw ``(W1, W2)``: uniform ``U(-r/sqrt(fan_in), r/sqrt(fan_in))`` or normal with std
    ``r/sqrt(fan_in)``, ``r = init_scale`` (the curl-descent paper's initialisation).

    Examples
    --------
    >>> w1, w2 = initial_weights(4, 3, 1, "uniform", 2.0, np.random.default_rng(0))
    >>> w1.shape, w2.shape, bool(np.abs(w1).max() <= 1.0)
    ((3, 4), (1, 3), True)
    """
    if init == "uniform":
        b1, b2 = init_scale / math.sqrt(n_inputs), init_scale / math.sqrt(n_hidden)
        w1 = rng.uniform(-b1, b1, size=(n_hidden, n_inputs))
        w2 = rng.uniform(-b2, b2, size=(n_outputs, n_hidden))
    else:
        w1 = rng.normal(0.0, init_scale / math.sqrt(n_inputs), size=(n_hidden, n_inputs))
        w2 = rng.normal(0.0, init_scale / math.sqrt(n_hidden), size=(n_outputs, n_hidden))
    return w1, w2


#: parameters the weights are drawn from (the activations are not among them)
_STRUCTURAL = tuple(name for name, p in D.NETWORK.items() if not p.runtime)


class TwoLayerNetwork(Estimator):
    r"""A two-layer network ``y = phi_out(W2 phi(W1 x))`` without biases (student or teacher).

    Parameters
    ----------
    {parameters}

    Parameters are validated on every use. ``activation`` and ``output_activation`` take
    effect on the next prediction or training run. The other parameters define the weights: after
    a change, :meth:`predict` and :meth:`error` raise until :meth:`initialize` redraws them, and a
    trainer's ``fit`` redraws them itself (weights given by :meth:`set_weights` are never
    redrawn: a trainer raises instead).

    Attributes
    ----------
    w1_ : ndarray (n_hidden, n_inputs)
    w2_ : ndarray (n_outputs, n_hidden)

    Notes
    -----
    .. math:: \hat y = \phi_{out}(W_2\, \phi(W_1 x))

    Examples
    --------
    >>> net = TwoLayerNetwork(n_inputs=5, n_hidden=3, seed=0).initialize()
    >>> net.predict(np.zeros((2, 5))).shape
    (2, 1)
    """

    params = D.NETWORK

    def _validate(self) -> None:
        self._check_params()

    @property
    def output_activation_(self) -> str:
        """The output activation actually used (``activation`` when None was given)."""
        return self.output_activation or self.activation

    def initialize(self) -> TwoLayerNetwork:
        """Draw ``w1_`` and ``w2_`` from ``seed``; returns ``self``."""
        self._validate()
        rng = as_generator(self.seed, type(self).__name__)
        self.w1_, self.w2_ = initial_weights(
            self.n_inputs, self.n_hidden, self.n_outputs, self.init, float(self.init_scale), rng
        )
        self._weights_given_ = False
        self._built_params_ = snapshot_params(self, _STRUCTURAL)
        return self

    def set_weights(self, w1, w2) -> TwoLayerNetwork:
        """Use given weights (checked against the declared sizes); returns ``self``.

        Examples
        --------
        >>> net = TwoLayerNetwork(n_inputs=2, n_hidden=2).set_weights(np.eye(2), np.ones((1, 2)))
        >>> float(net.predict(np.array([[0.0, 0.0]]))[0, 0])
        0.0
        """
        self._validate()
        owner = type(self).__name__
        self.w1_ = check_array(
            owner, "w1", w1, shape=(self.n_hidden, self.n_inputs), shape_doc="(n_hidden, n_inputs)"
        ).copy()
        self.w2_ = check_array(
            owner,
            "w2",
            w2,
            shape=(self.n_outputs, self.n_hidden),
            shape_doc="(n_outputs, n_hidden)",
        ).copy()
        self._weights_given_ = True
        self._built_params_ = snapshot_params(self, _STRUCTURAL)
        return self

    def _check_fitted(self):
        """Validate the parameters and the weights before they reach a kernel."""
        owner = type(self).__name__
        if not hasattr(self, "w1_"):
            from neurolearn.errors import NotFittedError

            raise NotFittedError(
                f"This {owner} has no weights yet. Call initialize() or set_weights() first."
            )
        self._validate()
        refuse_changed(
            owner,
            getattr(self, "_built_params_", {}),
            self,
            _STRUCTURAL,
            "after the weights were made. Call initialize() to redraw them or set_weights() "
            "to give new ones.",
        )
        self.w1_ = check_array(
            owner,
            "w1_",
            self.w1_,
            shape=(self.n_hidden, self.n_inputs),
            shape_doc=f"({self.n_hidden}, {self.n_inputs})",
        )
        self.w2_ = check_array(
            owner,
            "w2_",
            self.w2_,
            shape=(self.n_outputs, self.n_hidden),
            shape_doc=f"({self.n_outputs}, {self.n_hidden})",
        )

    def _prepare_for_training(self):
        """Weights for a trainer: drawn on first use, redrawn after a structural change."""
        if not hasattr(self, "w1_"):
            self.initialize()
            return
        # both branches validate the parameters (initialize() and _check_fitted())
        built = getattr(self, "_built_params_", {})
        if changed_params(built, self, _STRUCTURAL) and not getattr(self, "_weights_given_", True):
            self.initialize()
            return
        self._check_fitted()

    def check_inputs(self, x, name: str = "x") -> np.ndarray:
        """``x`` as a float array of shape (n_samples, n_inputs), finite."""
        return check_array(
            type(self).__name__,
            name,
            x,
            ndim=2,
            shape=(None, self.n_inputs),
            shape_doc=f"(n_samples, {self.n_inputs})",
        )

    def predict(self, x) -> np.ndarray:
        """Outputs for inputs ``x`` of shape (n_samples, n_inputs) -> (n_samples, n_outputs)."""
        self._check_fitted()
        x = self.check_inputs(x)
        return two_layer_forward(self.w1_, self.w2_, x, self.activation, self.output_activation_)[2]

    def error(self, x, y) -> float:
        """``0.5 * mean |predict(x) - y|^2``."""
        self._check_fitted()
        x = self.check_inputs(x)
        y = check_array(type(self).__name__, "y", y, shape=(x.shape[0], self.n_outputs))
        return mean_squared_error(
            self.w1_, self.w2_, x, y, self.activation, self.output_activation_
        )


def make_teacher(
    n_inputs: int,
    n_hidden: int,
    n_outputs: int = 1,
    *,
    activation: str = "tanh",
    output_activation: str | None = None,
    init: str = "uniform",
    init_scale: float = 1.0,
    seed=None,
) -> TwoLayerNetwork:
    """A teacher network with drawn weights (the paper: uniform, r = 1).

    Examples
    --------
    >>> teacher = make_teacher(10, 4, seed=0)
    >>> teacher.w1_.shape
    (4, 10)
    """
    return TwoLayerNetwork(
        n_inputs=n_inputs,
        n_hidden=n_hidden,
        n_outputs=n_outputs,
        activation=activation,
        output_activation=output_activation,
        init=init,
        init_scale=init_scale,
        seed=seed,
    ).initialize()
