"""Metrics: NRMSE, memory capacity, valid prediction time."""

from __future__ import annotations

import numpy as np

__all__ = ["nrmse", "memory_capacity_curve", "valid_prediction_time"]


def _2d(a):
    a = np.asarray(a, dtype=np.float64)
    return a[:, None] if a.ndim == 1 else a


def nrmse(y_true, y_pred) -> float:
    """RMSE / std(y_true), averaged over output columns.

    Examples
    --------
    >>> nrmse([0.0, 1.0, 2.0, 3.0], [0.0, 1.0, 2.0, 3.0])
    0.0
    """
    t, p = _2d(y_true), _2d(y_pred)
    if t.shape != p.shape:
        raise ValueError(
            f"y_true and y_pred must have the same shape. Got {t.shape} and {p.shape}."
        )
    rmse = np.sqrt(np.mean((t - p) ** 2, axis=0))
    return float(np.mean(rmse / np.std(t, axis=0)))


def memory_capacity_curve(targets, predictions) -> np.ndarray:
    r"""``MC_k = cov^2(u(t-k), y_k(t)) / (var u(t-k) var y_k(t))`` for every column k.

    Examples
    --------
    >>> u = np.random.default_rng(0).normal(size=(100, 2))
    >>> memory_capacity_curve(u, 2 * u + 1).round(12).tolist()
    [1.0, 1.0]
    """
    t, p = _2d(targets), _2d(predictions)
    tc = t - t.mean(axis=0)
    pc = p - p.mean(axis=0)
    cov = (tc * pc).mean(axis=0)
    var_t = (tc**2).mean(axis=0)
    var_p = (pc**2).mean(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mc = cov**2 / (var_t * var_p)
    return np.where(var_p > 0, mc, 0.0)


def valid_prediction_time(y_true, y_pred, threshold: float = 0.4, scale=None) -> int:
    """Number of steps before the normalised error first exceeds ``threshold``.

    The error at step t is ``sqrt(mean_k ((y_k - yhat_k) / s_k)^2)`` with ``s_k`` the standard
    deviation of each variable (``scale``, default: of ``y_true``).

    Examples
    --------
    >>> truth = np.sin(np.arange(50.0))
    >>> valid_prediction_time(truth, truth + np.arange(50) * 0.02)
    15
    """
    t, p = _2d(y_true), _2d(y_pred)
    s = np.std(t, axis=0) if scale is None else np.asarray(scale, dtype=float)
    err = np.sqrt(np.mean(((t - p) / s) ** 2, axis=1))
    over = np.flatnonzero(~(err <= threshold))
    return int(over[0]) if over.size else int(t.shape[0])
