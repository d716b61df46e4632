"""Quality of gradient estimates against the true gradient (computed on the side by backprop)."""

from __future__ import annotations

import numpy as np

from neurolearn._params import Interval, check_param
from neurolearn._rng import as_generator

__all__ = ["estimate_quality"]


def estimate_quality(net, rule, theta, X, Y, *, n_samples: int = 100, seed=None) -> dict:
    r"""Cosine similarity and variance of ``n_samples`` independent estimates of ``rule``.

    Returns a dict with

    - ``cosine``: mean cosine between a single estimate and the true gradient ``g``;
    - ``cosine_of_mean``: cosine between the mean of all estimates and ``g`` (-> 1 for an
      unbiased estimator as ``n_samples`` grows);
    - ``relative_variance``: :math:`E|\hat g - g|^2 / |g|^2`;
    - ``relative_bias``: :math:`|\bar{\hat g} - g| / |g|`;
    - ``queries``: forward passes per estimate; ``n_params``: ``d``.

    Examples
    --------
    >>> import numpy as np
    >>> from neurolearn.zo import MLP, ForwardGradient
    >>> net = MLP(layer_sizes=(3, 2), activation="linear", loss="squared", seed=0).initialize()
    >>> rng = np.random.default_rng(0)
    >>> X, Y = rng.standard_normal((10, 3)), rng.standard_normal((10, 2))
    >>> q = estimate_quality(net, ForwardGradient(), net.theta_, X, Y, n_samples=2000,
    ...                      seed=1)
    >>> bool(q["cosine_of_mean"] > 0.98)
    True
    """
    n_samples = check_param("estimate_quality", "n_samples", n_samples, Interval(int, 1, None))
    rng = as_generator(seed, "estimate_quality")
    theta = net.check_theta(theta)
    _, grad = net.gradient(theta, X, Y)
    norm = float(np.linalg.norm(grad))
    estimates = np.empty((n_samples, grad.shape[0]))
    queries = 0
    for i, child in enumerate(rng.spawn(n_samples)):
        estimates[i], queries = rule.estimate(net, theta, X, Y, seed=child)
    est_norms = np.linalg.norm(estimates, axis=1)
    cos = estimates @ grad / np.maximum(est_norms * norm, 1e-300)
    mean = estimates.mean(axis=0)
    return {
        "cosine": float(cos.mean()),
        "cosine_of_mean": float(mean @ grad / max(np.linalg.norm(mean) * norm, 1e-300)),
        "relative_variance": float(np.mean(np.sum((estimates - grad) ** 2, axis=1)) / norm**2),
        "relative_bias": float(np.linalg.norm(mean - grad) / norm),
        "queries": int(queries),
        "n_params": int(grad.shape[0]),
    }
