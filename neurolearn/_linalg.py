"""Ridge regression: one solver for every linear readout and linear map in the package."""

from __future__ import annotations

import numpy as np
import scipy.linalg

__all__ = ["ridge_solve", "solve_normal_equations"]


def solve_normal_equations(gram, cross, penalty: float):
    """Solve ``(gram + penalty * I) @ W = cross`` for ``W``.

    The system is symmetric positive (semi-)definite, so it is solved by Cholesky; a singular
    system (no penalty and collinear columns) falls back to the minimum-norm least-squares
    solution.

    Parameters
    ----------
    gram : ndarray of shape (n, n)
        ``X.T @ X`` (left unchanged).
    cross : ndarray of shape (n, k)
        ``X.T @ Y``.
    penalty : float
        Added to the diagonal of ``gram``.

    Returns
    -------
    ndarray of shape (n, k)

    Examples
    --------
    >>> import numpy as np
    >>> w = solve_normal_equations(np.eye(2), np.ones((2, 1)), 1.0)
    >>> bool(np.allclose(w, 0.5))
    True
    """
    a = np.array(gram, dtype=float, copy=True)
    a[np.diag_indices_from(a)] += penalty
    try:
        return scipy.linalg.solve(a, cross, assume_a="pos")
    except (np.linalg.LinAlgError, scipy.linalg.LinAlgError):
        return np.linalg.lstsq(a, cross, rcond=None)[0]


def ridge_solve(x, y, ridge: float, *, fit_intercept: bool = True, relative: bool = False):
    r"""Ridge regression ``y ~ x @ coef + intercept``.

    Minimises :math:`\|y - x W - c\|^2 + \lambda \|W\|^2` with an unpenalised intercept
    :math:`c` (when ``fit_intercept``, by centring ``x`` and ``y``).

    Parameters
    ----------
    x : ndarray of shape (T, n)
    y : ndarray of shape (T, k)
    ridge : float
        The penalty :math:`\lambda`, or with ``relative`` its size relative to the data:
        :math:`\lambda` = ``ridge`` times the mean square of the (centred) ``x`` times ``T``
        (an all-zero ``x`` counts as mean square 1).
    fit_intercept : bool, default=True
        Fit an unpenalised intercept; otherwise the intercept is zero.
    relative : bool, default=False
        Scale ``ridge`` by the data as above.

    Returns
    -------
    coef : ndarray of shape (n, k)
    intercept : ndarray of shape (k,)

    Examples
    --------
    >>> import numpy as np
    >>> x = np.arange(8.0).reshape(4, 2); y = x @ np.array([[1.0], [2.0]]) + 3.0
    >>> coef, intercept = ridge_solve(x, y, 0.0)
    >>> bool(np.allclose(x @ coef + intercept, y))
    True
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if fit_intercept:
        mx, my = x.mean(axis=0), y.mean(axis=0)
        x, y = x - mx, y - my
    penalty = float(ridge)
    if relative:
        scale = float(np.mean(x**2))
        penalty *= (scale if scale > 0.0 else 1.0) * x.shape[0]
    coef = solve_normal_equations(x.T @ x, x.T @ y, penalty)
    intercept = my - mx @ coef if fit_intercept else np.zeros(y.shape[1:])
    return coef, intercept
