r"""The multi-layer perceptron's forward and backward pass, in numpy: one code path for all.

Both model families with a feed-forward network use these functions for their numpy-level
math: the student-teacher family (:func:`neurolearn.teacher.networks.two_layer_forward`,
:func:`~neurolearn.teacher.networks.two_layer_backward`, a two-layer network without biases)
and the zeroth-order family (:meth:`neurolearn.zo.MLP.predict`, ``mean_loss``, ``gradient``,
any depth, optional biases). Their jitted training kernels are tested against these functions.

A network is a sequence ``layers = [(W_1, b_1), ..., (W_L, b_L)]`` with ``W_l`` of shape
``(n_out, n_in)`` and ``b_l`` of shape ``(n_out,)`` or None (no bias). Inputs ``x`` are
``(n_samples, n_in)``. The functions do not validate: their callers do.

.. math::

    a_l = h_{l-1} W_l^T + b_l, \quad h_l = \phi(a_l)\ (l < L), \quad h_L = \phi_{out}(a_L),
    \qquad \delta_{l-1} = (\delta_l B_l) \odot \phi'(a_{l-1})

with ``B_l = W_l`` (backpropagation) or a fixed feedback matrix (feedback alignment).

Activations: ``"linear"``, ``"tanh"``, ``"relu"``, ``"sigmoid"`` (logistic) and ``"erf"``, which
means ``erf(u / sqrt(2))`` (the Saad-Solla choice).
"""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "ACTIVATIONS",
    "activation_functions",
    "forward",
    "backward",
    "sample_losses",
    "output_delta",
]

ACTIVATIONS = ("linear", "tanh", "relu", "sigmoid", "erf")


def activation_functions(name: str):
    """``(phi, phi_prime)`` of an activation name (one of :data:`ACTIVATIONS`), vectorised.

    Examples
    --------
    >>> phi, dphi = activation_functions("relu")
    >>> phi(np.array([-1.0, 2.0])).tolist(), dphi(np.array([-1.0, 2.0])).tolist()
    ([0.0, 2.0], [0.0, 1.0])
    """
    if name == "linear":
        return (lambda u: np.asarray(u, dtype=float) * 1.0), (lambda u: np.ones_like(u, float))
    if name == "tanh":
        return np.tanh, (lambda u: 1.0 - np.tanh(u) ** 2)
    if name == "relu":
        return (lambda u: np.maximum(u, 0.0)), (lambda u: (np.asarray(u) > 0).astype(float))
    if name == "sigmoid":
        from scipy.special import expit

        return expit, (lambda u: expit(u) * (1.0 - expit(u)))
    if name == "erf":
        from scipy.special import erf

        return (
            lambda u: erf(np.asarray(u) / math.sqrt(2.0)),
            lambda u: math.sqrt(2.0 / math.pi) * np.exp(-0.5 * np.asarray(u) ** 2),
        )
    from neurolearn.errors import ParameterError

    raise ParameterError(
        f"The 'name' parameter of activation_functions must be one of {', '.join(ACTIVATIONS)}. "
        f"Got {name!r} instead."
    )


def forward(layers, x, activation: str, output_activation: str):
    """Pre-activations and activities of every layer.

    Parameters
    ----------
    layers : sequence of (ndarray (n_out, n_in), ndarray (n_out,) or None)
    x : ndarray (n_samples, n_in)
    activation, output_activation : str
        Hidden and output nonlinearity.

    Returns
    -------
    pres : list of ndarray
        ``pres[l]`` is layer ``l + 1``'s pre-activation ``a_{l+1}``.
    acts : list of ndarray
        ``acts[0] = x`` and ``acts[l + 1] = phi(pres[l])`` (the output nonlinearity last).

    Examples
    --------
    >>> layers = [(np.eye(2), None), (np.ones((1, 2)), np.array([0.5]))]
    >>> pres, acts = forward(layers, np.array([[1.0, -2.0]]), "relu", "linear")
    >>> acts[-1].tolist()
    [[1.5]]
    """
    phi, _ = activation_functions(activation)
    phi_out, _ = activation_functions(output_activation)
    pres, acts = [], [x]
    for i, (w, b) in enumerate(layers):
        a = acts[-1] @ w.T
        if b is not None:
            a = a + b
        pres.append(a)
        acts.append(phi_out(a) if i == len(layers) - 1 else phi(a))
    return pres, acts


def backward(layers, pres, acts, delta, activation: str, feedback=None):
    """Batch-mean weight and bias products of the error signal ``delta`` sent back through
    the network.

    Parameters
    ----------
    layers : sequence of (W, b or None)
        The network of :func:`forward`.
    pres, acts : lists
        :func:`forward`'s output for the same inputs.
    delta : ndarray (n_samples, n_out)
        Error signal at the output pre-activation: :func:`output_delta` for the exact
        gradient, or ``y_hat - y`` for the curl-descent paper's products (output
        derivative dropped).
    activation : str
        Hidden nonlinearity (its derivative gates the signal at every hidden layer).
    feedback : sequence of ndarray or None, default=None
        Matrix ``B_l`` that carries the signal down through layer ``l`` (entry ``l``; None
        entries, or ``feedback=None``, mean ``W_l``, backpropagation).

    Returns
    -------
    list of (ndarray (n_out, n_in), ndarray (n_out,) or None)
        ``(mean_n delta_l,n h_(l-1),n^T, mean_n delta_l,n)`` per layer; the bias entry is None
        for a layer without bias.

    Examples
    --------
    >>> layers = [(np.eye(2), None), (np.ones((1, 2)), None)]
    >>> x, y = np.array([[1.0, 0.0]]), np.array([[0.0]])
    >>> pres, acts = forward(layers, x, "linear", "linear")
    >>> [g.tolist() for g, _ in backward(layers, pres, acts, acts[-1] - y, "linear")]
    [[[1.0, 0.0], [1.0, 0.0]], [[1.0, 0.0]]]
    """
    _, dphi = activation_functions(activation)
    n = acts[0].shape[0]
    grads = [None] * len(layers)
    for i in range(len(layers) - 1, -1, -1):
        w, b = layers[i]
        grads[i] = (delta.T @ acts[i] / n, None if b is None else delta.sum(axis=0) / n)
        if i > 0:
            back = w if feedback is None or feedback[i] is None else feedback[i]
            delta = (delta @ back) * dphi(pres[i - 1])
    return grads


def sample_losses(out, y, loss: str) -> np.ndarray:
    """Per-sample loss: ``"squared"`` ``0.5 |out - y|^2`` or ``"cross-entropy"`` of the
    softmax of the logits ``out`` against (one-hot) targets ``y``.

    Examples
    --------
    >>> sample_losses(np.array([[1.0, 3.0]]), np.array([[0.0, 1.0]]), "squared").tolist()
    [2.5]
    """
    if loss == "squared":
        return 0.5 * np.sum((out - y) ** 2, axis=1)
    m = out.max(axis=1, keepdims=True)
    log_z = m[:, 0] + np.log(np.exp(out - m).sum(axis=1))
    return np.sum(y * (log_z[:, None] - out), axis=1)


def output_delta(pre, out, y, loss: str, output_activation: str) -> np.ndarray:
    """Per-sample derivative of :func:`sample_losses` with respect to the output
    pre-activation ``pre`` (``out = phi_out(pre)``; cross-entropy takes ``out`` as logits).

    Examples
    --------
    >>> output_delta(np.zeros((1, 2)), np.zeros((1, 2)), np.array([[1.0, 0.0]]),
    ...              "cross-entropy", "linear").tolist()
    [[-0.5, 0.5]]
    """
    if loss == "squared":
        _, dphi_out = activation_functions(output_activation)
        return (out - y) * dphi_out(pre)
    p = np.exp(out - out.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    return p * y.sum(axis=1, keepdims=True) - y
