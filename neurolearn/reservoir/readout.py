"""Ridge-regression readout, fitted on reservoir states (one or many sequences, or streamed)."""

from __future__ import annotations

import numpy as np

from neurolearn._declare import Estimator
from neurolearn._linalg import solve_normal_equations
from neurolearn._params import check_array
from neurolearn.errors import NotFittedError, ParameterError
from neurolearn.reservoir import _declared as D

__all__ = ["Readout"]


class Readout(Estimator):
    r"""Linear readout fitted by ridge regression, with an unpenalised intercept.

    Parameters
    ----------
    {parameters}

    Parameters are validated at every :meth:`fit`, :meth:`partial_fit` and solve: a changed
    ``ridge`` or ``fit_intercept`` takes effect at the next solve (a :meth:`partial_fit` keeps
    its accumulated statistics), ``washout`` at the next :meth:`fit`.

    Attributes
    ----------
    coef_ : ndarray of shape (n_states, n_outputs)
    intercept_ : ndarray of shape (n_outputs,)
    n_samples_ : int
        Number of time steps the fit used (over all sequences and partial fits).

    Notes
    -----
    With centred states :math:`X_c` and targets :math:`Y_c`,
    :math:`W = (X_c^T X_c + \lambda I)^{-1} X_c^T Y_c` and :math:`b = \bar y - \bar x W`.
    :meth:`partial_fit` keeps only :math:`\sum x`, :math:`\sum y`, :math:`X^T X`, :math:`X^T Y`,
    so a long run never needs its ``T x n`` state history.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 5)); y = X @ np.arange(5.0) + 3.0
    >>> ro = Readout(ridge=1e-9).fit(X, y)
    >>> np.round(ro.coef_[:, 0], 6).tolist()[1:], round(float(ro.intercept_[0]), 6)
    ([1.0, 2.0, 3.0, 4.0], 3.0)
    """

    params = D.READOUT

    @staticmethod
    def _sequences(states, targets, washout):
        """Normalise to lists of (T_i, n) states and (T_i, k) targets, washout removed."""
        if isinstance(states, list | tuple):
            if not states:
                raise ParameterError(
                    "The 'states' parameter of Readout must be an array or a non-empty list of "
                    "state sequences. Got an empty list instead."
                )
            xs = [check_array("Readout", "states", s, ndim=2, shape_doc="(T, n)") for s in states]
            if not isinstance(targets, list | tuple) or len(targets) != len(xs):
                raise ParameterError(
                    "The 'targets' parameter of Readout must be a list with one array per "
                    f"state sequence ({len(xs)}). Got {type(targets).__name__} instead."
                )
            ys = [check_array("Readout", "targets", t, ndim=(1, 2)) for t in targets]
        else:
            x = check_array(
                "Readout", "states", states, ndim=(2, 3), shape_doc="(T, n) or (B, T, n)"
            )
            y = check_array("Readout", "targets", targets, ndim=(1, 2, 3))
            if x.ndim == 3:
                xs = list(x)
                ys = list(y) if y.ndim >= 2 and y.shape[0] == x.shape[0] else None
                if ys is None:
                    raise ParameterError(
                        f"The 'targets' parameter of Readout must have shape (B, T) or (B, T, k) "
                        f"for states of shape {x.shape}. Got shape {y.shape} instead."
                    )
            else:
                xs, ys = [x], [y]
        out_x, out_y = [], []
        for x, y in zip(xs, ys, strict=True):
            if x.shape[0] == 0 or x.shape[1] == 0:
                raise ParameterError(
                    "The 'states' parameter of Readout must have at least one time step and one "
                    f"state. Got shape {x.shape} instead."
                )
            y = check_array("Readout", "targets", y[:, None] if y.ndim == 1 else y, ndim=2)
            if y.shape[0] != x.shape[0]:
                raise ParameterError(
                    f"The 'targets' parameter of Readout must have {x.shape[0]} time steps (one "
                    f"per state). Got shape {y.shape} instead."
                )
            if washout >= x.shape[0]:
                raise ParameterError(
                    f"The 'washout' parameter of Readout ({washout}) must be smaller than the "
                    f"sequence length ({x.shape[0]})."
                )
            out_x.append(x[washout:])
            out_y.append(y[washout:])
        return out_x, out_y

    def fit(self, states, targets):
        """Fit on states (T, n), a batch (B, T, n) or a list of sequences; returns self."""
        for attr in ("_xtx", "coef_"):
            if hasattr(self, attr):
                delattr(self, attr)
        p = self._check_params()
        xs, ys = self._sequences(states, targets, p["washout"])
        for x, y in zip(xs, ys, strict=True):
            self._accumulate(x, y)
        return self._solve()

    def partial_fit(self, states, targets):
        """Add one chunk (T, n) of a stream to the statistics and refit; returns self.

        Washout is the caller's business here (skip the first chunk's leading steps).

        Examples
        --------
        >>> rng = np.random.default_rng(0)
        >>> X = rng.normal(size=(300, 4)); y = X @ np.ones(4)
        >>> ro = Readout(ridge=0.0)
        >>> for k in range(3):
        ...     _ = ro.partial_fit(X[100 * k:100 * (k + 1)], y[100 * k:100 * (k + 1)])
        >>> bool(np.allclose(ro.coef_, Readout(ridge=0.0).fit(X, y).coef_))
        True
        """
        self._check_params()
        xs, ys = self._sequences(states, targets, 0)
        for x, y in zip(xs, ys, strict=True):
            self._accumulate(x, y)
        return self._solve()

    def _accumulate(self, x, y):
        if not hasattr(self, "_xtx"):
            n, k = x.shape[1], y.shape[1]
            self._xtx = np.zeros((n, n))
            self._xty = np.zeros((n, k))
            self._sx = np.zeros(n)
            self._sy = np.zeros(k)
            self._count = 0
        if x.shape[1] != self._xtx.shape[0] or y.shape[1] != self._xty.shape[1]:
            raise ParameterError(
                f"Readout was fitted with {self._xtx.shape[0]} states and {self._xty.shape[1]} "
                f"outputs. Got {x.shape[1]} states and {y.shape[1]} outputs instead."
            )
        self._xtx += x.T @ x
        self._xty += x.T @ y
        self._sx += x.sum(axis=0)
        self._sy += y.sum(axis=0)
        self._count += x.shape[0]

    def _solve(self):
        p = self._check_params()
        xtx, xty = self._xtx.copy(), self._xty.copy()
        if p["fit_intercept"]:
            mx = self._sx / self._count
            my = self._sy / self._count
            xtx -= self._count * np.outer(mx, mx)
            xty -= self._count * np.outer(mx, my)
        coef = solve_normal_equations(xtx, xty, p["ridge"])
        self.coef_ = coef
        self.intercept_ = (my - mx @ coef) if p["fit_intercept"] else np.zeros(xty.shape[1])
        self.n_samples_ = self._count
        return self

    def predict(self, states):
        """Outputs for states (T, n) -> (T, k), or (B, T, n) -> (B, T, k)."""
        if not hasattr(self, "coef_"):
            raise NotFittedError("This Readout is not fitted yet: call fit or partial_fit first.")
        x = check_array("Readout", "states", states, ndim=(2, 3), shape_doc="(T, n) or (B, T, n)")
        if x.shape[-1] != self.coef_.shape[0]:
            raise ParameterError(
                f"The 'states' parameter of Readout must have {self.coef_.shape[0]} columns "
                f"(as in fit). Got shape {x.shape} instead."
            )
        return x @ self.coef_ + self.intercept_
