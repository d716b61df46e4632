"""Benchmark time series: NARMA, Mackey-Glass, Lorenz, delayed-recall targets."""

from __future__ import annotations

import numpy as np

from neurolearn._kernels.numba import timeseries as ts_kernels
from neurolearn._params import Interval, check_array, check_param
from neurolearn._rng import as_generator
from neurolearn.errors import DivergenceError, ParameterError
from neurolearn.tasks.specs import LORENZ_LYAPUNOV  # with the task tables (no numba there)

__all__ = ["narma", "mackey_glass", "lorenz", "delayed_targets", "LORENZ_LYAPUNOV"]


def narma(u, order: int = 10) -> np.ndarray:
    r"""The canonical NARMA series driven by ``u`` (shape (T,) or (T, 1)).

    .. math::
        y(t+1) = 0.3\, y(t) + 0.05\, y(t) \sum_{i=0}^{n-1} y(t-i) + 1.5\, u(t-n+1)\, u(t) + 0.1

    ``y[t+1]`` is the target for a model that has seen ``u[0..t]``; ``y[0..n-1] = 0``.
    Raises :class:`DivergenceError` if the series blows up (possible for large inputs).

    Examples
    --------
    >>> y = narma(np.full(30, 0.25))
    >>> float(round(y[10], 6))
    0.19375
    """
    order = check_param("narma", "order", order, Interval(int, 1, None))
    u = np.ravel(check_array("narma", "u", u))
    y = np.zeros(u.shape[0])
    bad = ts_kernels.narma_fill(u, order, y)
    if bad >= 0:
        raise DivergenceError(f"NARMA-{order} series diverged at step {bad}.", step=bad)
    return y


def delayed_targets(u, max_delay: int, start: int) -> np.ndarray:
    """``Y[t - start, k - 1] = u[t - k]`` for ``t >= start``, ``k = 1..max_delay``.

    Examples
    --------
    >>> delayed_targets(np.arange(6.0), 2, 2).tolist()
    [[1.0, 0.0], [2.0, 1.0], [3.0, 2.0], [4.0, 3.0]]
    """
    u = np.ravel(check_array("delayed_targets", "u", u))
    if start < max_delay:
        raise ValueError(f"start ({start}) must be >= max_delay ({max_delay}).")
    t = np.arange(start, u.shape[0])
    return u[t[:, None] - np.arange(1, max_delay + 1)[None, :]]


def mackey_glass(
    n_samples: int,
    *,
    tau: float = 17.0,
    beta: float = 0.2,
    gamma: float = 0.1,
    exponent: float = 10.0,
    dt: float = 0.1,
    sample_every: float = 1.0,
    transient: float = 500.0,
    seed=None,
) -> np.ndarray:
    r"""Mackey-Glass series sampled every ``sample_every`` time units (RK4 with step ``dt``).

    .. math:: \dot x = \beta \frac{x(t-\tau)}{1 + x(t-\tau)^{n}} - \gamma x(t)

    The initial history is ``1.2`` plus a small seeded perturbation; the first ``transient``
    time units are discarded. The delayed value at RK4 half steps is the mean of its two
    neighbours on the grid.

    Examples
    --------
    >>> x = mackey_glass(300, seed=0)
    >>> x.shape, bool(0.2 < x.min() and x.max() < 1.5)
    ((300,), True)
    """
    n_samples = check_param("mackey_glass", "n_samples", n_samples, Interval(int, 1, None))
    dt = check_param("mackey_glass", "dt", dt, Interval(float, 0, None, "neither"))
    positive, finite = Interval(float, 0, None, "neither"), Interval(float)
    for name, value, rule in (
        ("tau", tau, positive),
        ("beta", beta, finite),
        ("gamma", gamma, finite),
        ("exponent", exponent, finite),
        ("sample_every", sample_every, positive),
        ("transient", transient, Interval(float, 0, None)),
    ):
        check_param("mackey_glass", name, value, rule)
    rng = as_generator(seed, "mackey_glass")
    lag = int(round(tau / dt))
    every = int(round(sample_every / dt))
    if lag < 1 or every < 1:
        raise ParameterError(
            "The 'tau' and 'sample_every' parameters of mackey_glass must be at least one "
            f"integration step dt={dt}. Got tau={tau}, sample_every={sample_every} instead."
        )
    n_transient = int(round(transient / dt))
    total = n_transient + n_samples * every
    x = np.empty(lag + total + 1)
    x[: lag + 1] = 1.2 + 0.01 * rng.standard_normal(lag + 1)
    ts_kernels.mackey_glass_fill(x, lag, float(beta), float(gamma), float(exponent), dt)
    return x[lag + n_transient + every :: every][:n_samples].copy()


def lorenz(
    n_samples: int,
    *,
    dt: float = 0.02,
    sigma: float = 10.0,
    rho: float = 28.0,
    beta: float = 8.0 / 3.0,
    transient: float = 50.0,
    substeps: int = 4,
    seed=None,
) -> np.ndarray:
    r"""Lorenz-63 trajectory (RK4), shape ``(n_samples, 3)``, sampled every ``dt``.

    .. math:: \dot x = \sigma (y - x), \quad \dot y = x (\rho - z) - y, \quad \dot z = x y - \beta z

    Starts from a seeded random point, integrates ``transient`` time units onto the attractor
    and discards them. Each sample step is ``substeps`` RK4 steps.

    Examples
    --------
    >>> xyz = lorenz(100, seed=0)
    >>> xyz.shape, bool(xyz[:, 2].min() > 0)
    ((100, 3), True)
    """
    n_samples = check_param("lorenz", "n_samples", n_samples, Interval(int, 1, None))
    dt = check_param("lorenz", "dt", dt, Interval(float, 0, None, "neither"))
    for name, value in (("sigma", sigma), ("rho", rho), ("beta", beta)):
        check_param("lorenz", name, value, Interval(float))
    check_param("lorenz", "transient", transient, Interval(float, 0, None))
    substeps = check_param("lorenz", "substeps", substeps, Interval(int, 1, None))
    rng = as_generator(seed, "lorenz")
    state = np.array([1.0, 1.0, 20.0]) + rng.standard_normal(3)
    out = np.empty((n_samples, 3))
    n_transient = int(round(transient / dt))
    ts_kernels.lorenz_fill(
        state, n_transient, int(substeps), dt / substeps, float(sigma), float(rho), float(beta), out
    )
    return out
