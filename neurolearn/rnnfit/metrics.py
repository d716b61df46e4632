"""How well a student matches its teacher on what it was not trained on.

* :func:`r2_score`: variance-weighted R^2 (outputs on held-out conditions).
* :func:`cca_similarity`: mean canonical correlation between two populations' trajectories
  (each reduced to its top principal components first).
* :func:`linear_map_r2`: R^2 of a ridge map from student to teacher rates, fitted on training
  conditions and evaluated on held-out ones.
* :func:`jpca`: rotational structure (Churchland et al. 2012).
* :func:`find_fixed_points` / :func:`fixed_point_summary`: fixed points and their linearisation,
  to expose spurious attractors.

Every population array is ``(conditions, time, neurons)``.
"""

from __future__ import annotations

import numpy as np

from neurolearn._linalg import ridge_solve
from neurolearn.errors import ParameterError

__all__ = [
    "r2_score",
    "cca_similarity",
    "linear_map_r2",
    "jpca",
    "find_fixed_points",
    "fixed_point_summary",
]


def _flat(a, name):
    a = np.asarray(a, dtype=np.float64)
    if a.ndim != 3:
        raise ParameterError(
            f"'{name}' must have shape (conditions, time, neurons). Got {a.shape}."
        )
    return a.reshape(a.shape[0] * a.shape[1], a.shape[2])


def r2_score(prediction, target) -> float:
    """``1 - SSE / SST`` pooled over every column, SST about each column's mean.

    Examples
    --------
    >>> import numpy as np
    >>> y = np.arange(12.0).reshape(2, 3, 2)
    >>> r2_score(y, y), round(r2_score(y + 1.0, y), 3)
    (1.0, 0.914)
    """
    p, y = _flat(prediction, "prediction"), _flat(target, "target")
    if p.shape != y.shape:
        raise ParameterError(f"prediction {p.shape} and target {y.shape} differ in shape.")
    sst = np.sum((y - y.mean(axis=0)) ** 2)
    return float(1.0 - np.sum((p - y) ** 2) / sst) if sst > 0 else float("nan")


def _pcs(x, k):
    x = x - x.mean(axis=0)
    u, s, _ = np.linalg.svd(x, full_matrices=False)
    keep = s > s[0] * 1e-9 if s.size and s[0] > 0 else np.zeros(s.size, bool)
    k = min(k, int(keep.sum()))
    return u[:, :k] * s[:k]


def cca_similarity(a, b, n_components: int = 10) -> float:
    """Mean canonical correlation of two populations' trajectories.

    Both are flattened over conditions and time, centred and reduced to their top
    ``n_components`` principal components; the canonical correlations are the singular values
    of ``Qa^T Qb`` for orthonormal bases ``Qa``, ``Qb`` of the two reduced spaces.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(0).normal(size=(4, 50, 3))
    >>> round(cca_similarity(x, x @ np.diag([2.0, -1.0, 0.5]), 3), 6)   # invariant to linear maps
    1.0
    """
    pa, pb = _pcs(_flat(a, "a"), n_components), _pcs(_flat(b, "b"), n_components)
    k = min(pa.shape[1], pb.shape[1])
    if k == 0:
        return 0.0
    qa, _ = np.linalg.qr(pa)
    qb, _ = np.linalg.qr(pb)
    s = np.linalg.svd(qa.T @ qb, compute_uv=False)
    return float(np.mean(np.clip(s[:k], 0.0, 1.0)))


def linear_map_r2(
    source_train,
    target_train,
    source_test,
    target_test,
    *,
    n_components: int | None = None,
    ridge: float = 1e-2,
):
    """R^2 on held-out data of a ridge map ``target ~ source @ M + c`` fitted on training data.

    With ``n_components`` the source is first projected onto its top principal components of
    the training data (None, the default, keeps every unit); ``ridge`` (relative to the mean
    source variance times the number of samples) keeps a large student from overfitting the
    map.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> s = rng.normal(size=(6, 30, 4)); m = rng.normal(size=(4, 5))
    >>> round(linear_map_r2(s[:4], s[:4] @ m, s[4:], s[4:] @ m, ridge=1e-9), 6)
    1.0
    """
    xs, ys = _flat(source_train, "source_train"), _flat(target_train, "target_train")
    xt, yt = _flat(source_test, "source_test"), _flat(target_test, "target_test")
    if yt.shape[1] == 0:
        return float("nan")
    mx, my = xs.mean(axis=0), ys.mean(axis=0)
    x = xs - mx
    xt = xt - mx
    if n_components is not None:
        _, _, vt = np.linalg.svd(x, full_matrices=False)
        basis = vt[: min(n_components, vt.shape[0])].T
        x, xt = x @ basis, xt @ basis
    m, _ = ridge_solve(x, ys - my, ridge, fit_intercept=False, relative=True)
    pred = xt @ m + my
    sst = np.sum((yt - yt.mean(axis=0)) ** 2)
    return float(1.0 - np.sum((pred - yt) ** 2) / sst)


def _skew_fit(y, dy):
    """Least-squares ``dy ~ y M`` over skew-symmetric ``M``."""
    k = y.shape[1]
    iu = np.triu_indices(k, 1)
    cols = []
    for i, j in zip(*iu, strict=True):
        basis = np.zeros((k, k))
        basis[i, j], basis[j, i] = 1.0, -1.0
        cols.append((y @ basis).ravel())
    design = np.stack(cols, axis=1)
    coef = np.linalg.lstsq(design, dy.ravel(), rcond=None)[0]
    m = np.zeros((k, k))
    m[iu] = coef
    return m - m.T


def jpca(rates, *, dt_ms: float, start: int = 0, n_pcs: int = 6, soft_norm: float = 5.0):
    """Rotational dynamics of population trajectories (jPCA, Churchland et al. 2012).

    Each neuron is soft-normalised (``rate / (range + soft_norm)``), the cross-condition mean
    is subtracted, the data from step ``start`` on are projected onto ``n_pcs`` principal
    components ``X`` and ``dX/dt = X M`` is fitted by least squares with ``M`` unconstrained and
    with ``M`` skew-symmetric.

    Returns
    -------
    dict
        ``r2_full``, ``r2_skew``, ``rotation_ratio`` (= r2_skew / r2_full), ``plane_variance``
        (fraction of the data's variance in the top jPC plane, the plane of the skew fit's
        fastest rotation) and ``frequency_hz`` of that rotation.

    Examples
    --------
    >>> import numpy as np
    >>> t = np.arange(100) * 0.01
    >>> ph = np.linspace(0, 2 * np.pi, 8, endpoint=False)[:, None]
    >>> x = np.stack([np.cos(2 * np.pi * t + ph), np.sin(2 * np.pi * t + ph)], axis=2)
    >>> out = jpca(np.concatenate([x, x * 0.5], axis=2), dt_ms=10.0, n_pcs=2)
    >>> round(out["r2_skew"], 2), round(out["frequency_hz"], 2)
    (1.0, 1.0)
    """
    r = np.asarray(rates, dtype=np.float64)
    if r.ndim != 3:
        raise ParameterError(f"'rates' must have shape (conditions, time, neurons). Got {r.shape}.")
    span = r.max(axis=(0, 1)) - r.min(axis=(0, 1))
    r = r / (span + soft_norm)
    r = r - r.mean(axis=0, keepdims=True)
    r = r[:, start:]
    c, t, n = r.shape
    flat = r.reshape(-1, n)
    total_var = float(np.sum(flat**2))
    _, _, vt = np.linalg.svd(flat, full_matrices=False)
    k = min(n_pcs, vt.shape[0])
    k -= k % 2
    if k < 2 or total_var == 0:
        nan = float("nan")
        return {
            "r2_full": nan,
            "r2_skew": nan,
            "rotation_ratio": nan,
            "plane_variance": nan,
            "frequency_hz": nan,
        }
    proj = (flat @ vt[:k].T).reshape(c, t, k)
    dt = dt_ms / 1000.0
    dx = (np.diff(proj, axis=1) / dt).reshape(-1, k)
    xm = (0.5 * (proj[:, 1:] + proj[:, :-1])).reshape(-1, k)
    m_full = np.linalg.lstsq(xm, dx, rcond=None)[0]
    m_skew = _skew_fit(xm, dx)
    sst = float(np.sum(dx**2))
    r2_full = 1.0 - float(np.sum((dx - xm @ m_full) ** 2)) / sst
    r2_skew = 1.0 - float(np.sum((dx - xm @ m_skew) ** 2)) / sst
    vals, vecs = np.linalg.eig(m_skew)
    top = int(np.argmax(np.abs(vals.imag)))
    plane = np.stack([vecs[:, top].real, vecs[:, top].imag], axis=1)
    plane, _ = np.linalg.qr(plane)
    in_plane = proj.reshape(-1, k) @ plane
    return {
        "r2_full": r2_full,
        "r2_skew": r2_skew,
        "rotation_ratio": r2_skew / r2_full if r2_full > 0 else float("nan"),
        "plane_variance": float(np.sum(in_plane**2)) / total_var,
        "frequency_hz": float(np.abs(vals[top].imag) / (2 * np.pi)),
    }


def find_fixed_points(
    velocity, jacobian, initial_states, *, tol: float = 1e-8, merge_distance: float = 1e-3
):
    """Fixed points of ``dx/dt = velocity(x)`` found by Newton-type root finding.

    Parameters
    ----------
    velocity, jacobian : callables of one state ``(N,)``
    initial_states : array (M, N)
        Starting guesses (e.g. states visited by the trajectories).
    tol : float, default=1e-8
        A root counts when ``|velocity(x)| <= tol * sqrt(N)`` after solving.
    merge_distance : float, default=1e-3
        Roots closer than ``merge_distance * sqrt(N)`` are one fixed point.

    Returns
    -------
    points : ndarray (P, N)
    eigenvalues : list of ndarray
        Eigenvalues of the Jacobian at each point (real part < 0: stable direction).

    Examples
    --------
    >>> import numpy as np
    >>> pts, eigs = find_fixed_points(lambda x: x - x**3, lambda x: np.diag(1 - 3 * x**2),
    ...                               np.array([[-2.0], [0.1], [2.0]]))
    >>> np.round(np.sort(pts[:, 0]), 6).tolist()
    [-1.0, 0.0, 1.0]
    """
    from scipy.optimize import root

    x0s = np.atleast_2d(np.asarray(initial_states, dtype=np.float64))
    n = x0s.shape[1]
    found: list[np.ndarray] = []
    for x0 in x0s:
        sol = root(velocity, x0, jac=jacobian, method="hybr", tol=1e-12)
        x = sol.x
        if not np.all(np.isfinite(x)) or np.linalg.norm(velocity(x)) > tol * np.sqrt(n) * 1e3:
            continue
        if all(np.linalg.norm(x - f) > merge_distance * np.sqrt(n) for f in found):
            found.append(x)
    eigs = [np.linalg.eigvals(jacobian(x)) for x in found]
    pts = np.array(found) if found else np.zeros((0, n))
    return pts, eigs


def fixed_point_summary(points, eigenvalues, rest_state):
    """Counts and the linearisation at the fixed point nearest ``rest_state``.

    Returns
    -------
    dict
        ``n_fixed_points``, ``n_stable`` (every eigenvalue's real part < 0),
        ``rest_abscissa`` (largest real part at the rest fixed point, in units of 1/tau; the
        slowest decay), ``rest_rotation`` (largest imaginary part there, radians per tau).
    """
    n_pts = len(points)
    stable = [bool(np.max(e.real) < 0) for e in eigenvalues]
    out = {
        "n_fixed_points": float(n_pts),
        "n_stable": float(sum(stable)),
        "rest_abscissa": float("nan"),
        "rest_rotation": float("nan"),
    }
    if n_pts:
        i = int(np.argmin(np.linalg.norm(points - rest_state, axis=1)))
        out["rest_abscissa"] = float(np.max(eigenvalues[i].real))
        out["rest_rotation"] = float(np.max(np.abs(eigenvalues[i].imag)))
    return out
