"""Quality of gradient estimates against the true gradient (computed on the side by backprop)."""

from __future__ import annotations

import numpy as np

from neurolearn._params import Boolean, Interval, check_param
from neurolearn._rng import as_generator

__all__ = ["estimate_quality"]


def estimate_quality(
    net, rule, theta, X, Y, *, n_samples: int = 100, seed=None, running_mean: bool = False
) -> dict:
    r"""Cosine similarity and variance of ``n_samples`` independent estimates of ``rule``.

    Returns a dict with

    - ``cosine``: mean cosine between a single estimate and the true gradient ``g``;
    - ``cosine_of_mean``: cosine between the mean of all estimates and ``g`` (-> 1 for an
      unbiased estimator as ``n_samples`` grows);
    - ``relative_variance``: :math:`E|\hat g - g|^2 / |g|^2`;
    - ``relative_bias``: :math:`|ar{\hat g} - g| / |g|`;
    - ``queries``: forward passes per estimate; ``n_params``: ``d``;
    - with ``running_mean=True`` also ``cosine_of_running_mean``, an array of ``n_samples``
      values: the cosine between the mean of the first ``k`` estimates and ``g``, ``k = 1 ..
      n_samples`` (for an unbiased estimator it tends to 1, with
      :math:`1 - \cos pprox \mathrm{relative\_variance} / (2k)` once small).

    Parameters
    ----------
    net : MLP
    rule : Rule
        Any rule with :meth:`~neurolearn.zo.rules.Rule.estimate`.
    theta : ndarray (d,)
    X, Y : ndarray
        The mini-batch the loss is averaged over.
    n_samples : int, default=100
    seed : int, numpy.random.Generator or None, default=None
        One child stream per estimate.
    running_mean : bool, default=False
        Accumulate running sums instead of keeping every estimate: memory ``O(d)`` instead of
        ``O(n_samples d)`` (for large networks), the same numbers up to rounding, and the
        ``cosine_of_running_mean`` curve.

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
    >>> r = estimate_quality(net, ForwardGradient(), net.theta_, X, Y, n_samples=2000,
    ...                      seed=1, running_mean=True)
    >>> bool(np.isclose(r["cosine_of_mean"], q["cosine_of_mean"], rtol=1e-12))
    True
    """
    n_samples = check_param("estimate_quality", "n_samples", n_samples, Interval(int, 1, None))
    running_mean = check_param("estimate_quality", "running_mean", running_mean, Boolean())
    rng = as_generator(seed, "estimate_quality")
    theta = net.check_theta(theta)
    _, grad = net.gradient(theta, X, Y)
    norm = float(np.linalg.norm(grad))
    if running_mean:
        return _running_quality(net, rule, theta, X, Y, grad, rng.spawn(n_samples))
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


def _cosine(a, b) -> float:
    return float(a @ b / max(np.linalg.norm(a) * np.linalg.norm(b), 1e-300))


def _running_quality(net, rule, theta, X, Y, grad, children) -> dict:
    """:func:`estimate_quality` from running sums (one estimate in memory at a time)."""
    n = len(children)
    norm = float(np.linalg.norm(grad))
    total = np.zeros_like(grad)
    cos_sum = sq_err_sum = 0.0
    curve = np.empty(n)
    queries = 0
    for k, child in enumerate(children):
        estimate, queries = rule.estimate(net, theta, X, Y, seed=child)
        cos_sum += _cosine(estimate, grad)
        sq_err_sum += float(np.sum((estimate - grad) ** 2))
        total += estimate
        curve[k] = _cosine(total / (k + 1), grad)
    mean = total / n
    return {
        "cosine": cos_sum / n,
        "cosine_of_mean": _cosine(mean, grad),
        "relative_variance": sq_err_sum / n / norm**2,
        "relative_bias": float(np.linalg.norm(mean - grad) / norm),
        "queries": int(queries),
        "n_params": int(grad.shape[0]),
        "cosine_of_running_mean": curve,
    }
