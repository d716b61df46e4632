"""A multi-layer perceptron on a flat parameter vector: what every zeroth-order rule trains.

The rules only need three things from a network: a parameter vector, the mini-batch loss at
any parameter vector (one *query*), and, for node perturbation, a forward pass with noise on the
pre-activations. Backprop and the diagnostics also use the exact gradient.
"""

from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass

import numpy as np

from neurolearn import _mlp
from neurolearn._declare import Estimator
from neurolearn._params import check_array, check_param
from neurolearn._rng import as_generator
from neurolearn.errors import ParameterError
from neurolearn.zo import _declared as D

__all__ = ["MLP", "Layout", "ACTIVATIONS", "LOSSES"]

ACTIVATIONS = {"linear": 0, "tanh": 1, "relu": 2, "sigmoid": 3}
LOSSES = {"squared": 0, "cross-entropy": 1}


@dataclass(frozen=True)
class Layout:
    """Where each layer's weights and biases sit in the flat parameter vector."""

    sizes: np.ndarray
    w_off: np.ndarray
    b_off: np.ndarray
    n_params: int


def _layout(sizes, bias: bool) -> Layout:
    sizes = np.asarray(sizes, dtype=np.int64)
    w_off = np.zeros(len(sizes) - 1, dtype=np.int64)
    b_off = np.full(len(sizes) - 1, -1, dtype=np.int64)
    pos = 0
    for layer in range(len(sizes) - 1):
        w_off[layer] = pos
        pos += int(sizes[layer] * sizes[layer + 1])
        if bias:
            b_off[layer] = pos
            pos += int(sizes[layer + 1])
    return Layout(sizes, w_off, b_off, pos)


class MLP(Estimator):
    """Fully connected network ``y = phi_out(W_L phi(... phi(W_1 x + b_1) ...) + b_L)``.

    Parameters
    ----------
    {parameters}

    Every call takes the parameter vector ``theta``, so every parameter is validated and takes
    effect at the next call. :meth:`initialize` draws a parameter vector ``theta_`` from
    ``seed`` (``layer_sizes``, ``bias``, ``init`` and ``init_scale`` shape the draw; a change of
    one of them takes effect at the next :meth:`initialize`). ``layer_sizes`` is also checked at
    construction: a layer of width 0 is refused where it is written.

    Attributes
    ----------
    theta_ : ndarray of shape (n_params,)
        The parameter vector drawn by :meth:`initialize`.
    layout_ : Layout
        Offsets of each layer in the parameter vector (set by :meth:`initialize` or any call).

    Examples
    --------
    >>> import numpy as np
    >>> net = MLP(layer_sizes=(3, 4, 2), loss="squared", seed=0).initialize()
    >>> theta = net.theta_
    >>> theta.shape
    (26,)
    >>> X, Y = np.ones((5, 3)), np.zeros((5, 2))
    >>> loss, grad = net.gradient(theta, X, Y)
    >>> bool(np.isclose(net.mean_loss(theta, X, Y), loss))
    True
    """

    params = D.MLP_PARAMS

    def _validate(self):
        p = self._check_params()
        if p["loss"] == "cross-entropy" and p["output_activation"] != "linear":
            raise ParameterError(
                "The 'output_activation' parameter of MLP must be 'linear' with "
                f"loss='cross-entropy' (the outputs are logits). Got "
                f"{self.output_activation!r} instead."
            )
        self.layout_ = _layout(p["layer_sizes"], p["bias"])
        return self.layout_

    @property
    def n_params(self) -> int:
        """Number of parameters ``d``."""
        return self._validate().n_params

    @property
    def codes(self) -> tuple[int, int]:
        """Kernel codes of (activation, loss); the activation code packs hidden + 8 * output."""
        self._validate()
        act = ACTIVATIONS[self.activation] + 8 * ACTIVATIONS[self.output_activation]
        return act, LOSSES[self.loss]

    def initialize(self):
        """Draw a parameter vector ``theta_`` from ``seed`` (see ``init``). Returns self."""
        self.theta_ = self._draw(self.seed)
        return self

    def init_params(self, seed=None) -> np.ndarray:
        """Deprecated: use ``MLP(..., seed=seed).initialize().theta_``.

        A fresh parameter vector drawn from ``seed`` (this network is not changed).
        """
        warnings.warn(
            "MLP.init_params(seed) is deprecated; use MLP(..., seed=seed).initialize() and its "
            "theta_",
            DeprecationWarning,
            stacklevel=2,
        )
        return self.clone().set_params(seed=seed).initialize().theta_

    def _draw(self, seed) -> np.ndarray:
        """A parameter vector drawn from ``seed`` (see ``init``), zero biases."""
        lay = self._validate()
        rng = as_generator(seed, "MLP.initialize")
        theta = np.zeros(lay.n_params)
        for layer in range(len(lay.sizes) - 1):
            n_in, n_out = int(lay.sizes[layer]), int(lay.sizes[layer + 1])
            bound = self.init_scale / np.sqrt(n_in)
            if self.init == "uniform":
                w = rng.uniform(-bound, bound, size=(n_out, n_in))
            else:
                w = rng.normal(0.0, bound, size=(n_out, n_in))
            theta[lay.w_off[layer] : lay.w_off[layer] + n_in * n_out] = w.T.ravel()
        return theta

    def weights(self, theta) -> list[tuple[np.ndarray, np.ndarray | None]]:
        """Views ``[(W_1, b_1), ...]`` into ``theta``, ``W_l`` of shape ``(n_out, n_in)`` (``theta``
        stores it transposed); ``b`` is None without biases."""
        lay = self._validate()
        theta = self.check_theta(theta)
        out = []
        for layer in range(len(lay.sizes) - 1):
            n_in, n_out = int(lay.sizes[layer]), int(lay.sizes[layer + 1])
            w = theta[lay.w_off[layer] : lay.w_off[layer] + n_in * n_out].reshape(n_in, n_out).T
            b = (
                theta[lay.b_off[layer] : lay.b_off[layer] + n_out]
                if lay.b_off[layer] >= 0
                else None
            )
            out.append((w, b))
        return out

    def check_theta(self, theta) -> np.ndarray:
        lay = self._validate()
        return check_array(
            "MLP", "theta", theta, ndim=1, shape=(lay.n_params,), shape_doc=f"({lay.n_params},)"
        )

    def check_data(self, X, Y=None):
        """Validate inputs ``(n, n_in)`` and targets ``(n, n_out)``."""
        lay = self._validate()
        n_in, n_out = int(lay.sizes[0]), int(lay.sizes[-1])
        X = check_array("MLP", "X", X, ndim=2, shape=(None, n_in), shape_doc=f"(n, {n_in})")
        if Y is None:
            return X
        if X.shape[0] == 0:
            raise ParameterError(
                "The 'X' parameter of MLP must have at least one row for a loss. "
                f"Got shape {X.shape} instead."
            )
        Y = check_array(
            "MLP", "Y", Y, ndim=2, shape=(X.shape[0], n_out), shape_doc=f"({X.shape[0]}, {n_out})"
        )
        return X, Y

    def predict(self, theta, X) -> np.ndarray:
        """Network output (logits for cross-entropy) for every row of ``X``
        (``neurolearn._mlp.forward``)."""
        theta = self.check_theta(theta)
        X = self.check_data(X)
        _, acts = _mlp.forward(self.weights(theta), X, self.activation, self.output_activation)
        return acts[-1].copy()

    def mean_loss(self, theta, X, Y) -> float:
        """Mean loss over the rows of ``X`` (one query)."""
        theta = self.check_theta(theta)
        X, Y = self.check_data(X, Y)
        _, acts = _mlp.forward(self.weights(theta), X, self.activation, self.output_activation)
        return float(np.mean(_mlp.sample_losses(acts[-1], Y, self.loss)))

    def gradient(self, theta, X, Y) -> tuple[float, np.ndarray]:
        """``(loss, exact gradient)`` by backpropagation (``neurolearn._mlp.backward``)."""
        theta = self.check_theta(theta)
        X, Y = self.check_data(X, Y)
        layers = self.weights(theta)
        pres, acts = _mlp.forward(layers, X, self.activation, self.output_activation)
        value = float(np.mean(_mlp.sample_losses(acts[-1], Y, self.loss)))
        delta = _mlp.output_delta(pres[-1], acts[-1], Y, self.loss, self.output_activation)
        grads = _mlp.backward(layers, pres, acts, delta, self.activation)
        grad = np.zeros(self.layout_.n_params)
        for (w, b), (gw, gb) in zip(self.weights(grad), grads, strict=True):
            w[...] = gw
            if b is not None:
                b[...] = gb
        return value, grad

    def accuracy(self, theta, X, labels) -> float:
        """Fraction of rows whose largest output is the label."""
        return float(np.mean(np.argmax(self.predict(theta, X), axis=1) == np.asarray(labels)))


def _checked_at_construction(init):
    """``MLP.__init__`` plus the one check done at construction: a zero-width layer is never a
    valid network, and refusing it there names the mistake where it was written."""

    @functools.wraps(init)
    def __init__(self, **params):
        init(self, **params)
        check_param("MLP", "layer_sizes", self.layer_sizes, D.LayerSizes())

    return __init__


MLP.__init__ = _checked_at_construction(MLP.__init__)
