"""A multi-layer perceptron on a flat parameter vector: what every zeroth-order rule trains.

The rules only need three things from a network: a parameter vector, the mini-batch loss at
any parameter vector (one *query*), and, for node perturbation, a forward pass with noise on the
pre-activations. Backprop and the diagnostics also use the exact gradient.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from neurolearn import _mlp
from neurolearn._params import Boolean, Interval, Options, check_array, check_param
from neurolearn._rng import as_generator
from neurolearn.errors import ParameterError, ParameterTypeError

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


def _check_layer_sizes(sizes) -> list[int]:
    owner = "MLP"
    if (
        isinstance(sizes, str | bytes)
        or not hasattr(sizes, "__len__")
        or (isinstance(sizes, np.ndarray) and sizes.ndim != 1)
    ):
        raise ParameterTypeError(
            f"The 'layer_sizes' parameter of {owner} must be a sequence of ints such as "
            f"(64, 64, 10). Got {sizes!r} instead."
        )
    if len(sizes) < 2:
        raise ParameterError(
            f"The 'layer_sizes' parameter of {owner} needs at least an input and an output "
            f"width. Got {sizes!r} instead."
        )
    return [check_param(owner, "layer_sizes", s, Interval(int, 1, None)) for s in sizes]


class MLP:
    """Fully connected network ``y = phi_out(W_L phi(... phi(W_1 x + b_1) ...) + b_L)``.

    Parameters
    ----------
    layer_sizes : sequence of int
        Widths from input to output, e.g. ``(64, 64, 10)``; two entries give a linear map.
    activation : {"tanh", "relu", "sigmoid", "linear"}, default="tanh"
        Nonlinearity of the hidden layers.
    output_activation : {"linear", "tanh", "relu", "sigmoid"}, default="linear"
        Nonlinearity of the output layer (must be linear with cross-entropy, whose outputs are
        logits).
    loss : {"cross-entropy", "squared"}, default="cross-entropy"
        Softmax cross-entropy against one-hot targets, or ``0.5 |y - t|^2``; both averaged over
        the mini-batch.
    bias : bool, default=True
        Whether every layer has a bias.
    init : {"normal", "uniform"}, default="normal"
        Weights start as ``N(0, (r / sqrt(fan_in))^2)`` or ``U(-r / sqrt(fan_in),
        r / sqrt(fan_in))`` with ``r = init_scale``, drawn layer by layer (the draws of
        :func:`neurolearn.teacher.networks.initial_weights` for a two-layer network without
        biases); biases start at zero.
    init_scale : float, default=1.0

    The network holds no weights (``theta`` is passed to every call), so every parameter is
    validated and takes effect at the next call. ``layer_sizes`` is also checked at
    construction: a layer of width 0 is refused where it is written.

    Attributes
    ----------
    layout_ : Layout
        Offsets of each layer in the parameter vector (set by :meth:`init_params` or any call).

    Examples
    --------
    >>> import numpy as np
    >>> net = MLP(layer_sizes=(3, 4, 2), loss="squared")
    >>> theta = net.init_params(seed=0)
    >>> theta.shape
    (26,)
    >>> X, Y = np.ones((5, 3)), np.zeros((5, 2))
    >>> loss, grad = net.gradient(theta, X, Y)
    >>> bool(np.isclose(net.mean_loss(theta, X, Y), loss))
    True
    """

    def __init__(
        self,
        *,
        layer_sizes=(64, 64, 10),
        activation: str = "tanh",
        output_activation: str = "linear",
        loss: str = "cross-entropy",
        bias: bool = True,
        init: str = "normal",
        init_scale: float = 1.0,
    ):
        # the one check done at construction: a zero-width layer is never a valid network, and
        # refusing it here names the mistake where it was written (the rest is checked at use)
        _check_layer_sizes(layer_sizes)
        self.layer_sizes = layer_sizes
        self.activation = activation
        self.output_activation = output_activation
        self.loss = loss
        self.bias = bias
        self.init = init
        self.init_scale = init_scale

    def get_params(self) -> dict:
        """The constructor parameters."""
        return {
            "layer_sizes": self.layer_sizes,
            "activation": self.activation,
            "output_activation": self.output_activation,
            "loss": self.loss,
            "bias": self.bias,
            "init": self.init,
            "init_scale": self.init_scale,
        }

    def _validate(self):
        owner = "MLP"
        sizes = _check_layer_sizes(self.layer_sizes)
        check_param(owner, "activation", self.activation, Options(tuple(ACTIVATIONS)))
        check_param(owner, "output_activation", self.output_activation, Options(tuple(ACTIVATIONS)))
        check_param(owner, "loss", self.loss, Options(tuple(LOSSES)))
        if self.loss == "cross-entropy" and self.output_activation != "linear":
            raise ParameterError(
                "The 'output_activation' parameter of MLP must be 'linear' with "
                f"loss='cross-entropy' (the outputs are logits). Got "
                f"{self.output_activation!r} instead."
            )
        bias = check_param(owner, "bias", self.bias, Boolean())
        check_param(owner, "init", self.init, Options(("normal", "uniform")))
        check_param(owner, "init_scale", self.init_scale, Interval(float, 0, None, "neither"))
        self.layout_ = _layout(sizes, bias)
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

    def init_params(self, seed=None) -> np.ndarray:
        """A fresh parameter vector (see ``init``), zero biases."""
        lay = self._validate()
        rng = as_generator(seed, "MLP.init_params")
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
