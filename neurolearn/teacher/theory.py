r"""Theory beside simulation: order-parameter ODEs and linear stability of the solution manifold.

**Online learning (Saad & Solla 1995; Goldt et al. 2019).** For a soft committee machine
``y = sum_i v_i g(w_i . x)`` with inputs ``x ~ N(0, I_M)`` (our weight convention: ``W1`` rows
``w_i`` have norms of order 1, so the local fields are ``lambda = W1 x``), the order parameters
``Q = W1 W1^T``, ``R = W1 B^T``, ``T = B B^T`` (B the teacher's first layer) and the second-layer
weights ``v`` obey closed ODEs in ``alpha = steps / M`` for ``g = erf(u / sqrt(2))`` and linear
``g``. Rule flips enter as signs: ``s_i`` (hidden unit ``i``'s incoming weights learn with the
flipped sign) multiplies its ``R``/``Q`` drift (``s_i s_k`` in the ``eta^2`` term), ``t_i``
(its output synapse flipped, ``D2``) multiplies ``dv_i``.

**Linear networks, finite data.** Around the manifold of solutions, ``v = w2 W1`` relaxes as
``dv/dt ~ -dv A`` with ``A = W1^T D2 W1 + |w2|^2 D1``; the manifold is stable iff ``A`` is
positive definite. :func:`critical_flip_fraction` finds, by sampling, the flipped fraction at
which ``A`` stops being positive definite; :func:`spectral_left_edge` and
:func:`critical_flip_fraction_theory` give the same in the random-matrix limit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from neurolearn._params import Interval, Options, check_array, check_param
from neurolearn._rng import as_generator
from neurolearn.errors import ParameterError

__all__ = [
    "order_parameters",
    "field_integrals",
    "generalisation_error",
    "ode_rhs",
    "ODESolution",
    "ODE_RTOL",
    "ODE_ATOL",
    "integrate_odes",
    "stability_matrix",
    "smallest_eigenvalue",
    "input_flip_safe_ratio",
    "critical_flip_fraction",
    "spectral_left_edge",
    "critical_flip_fraction_theory",
]

_THEORY_ACTIVATIONS = ("erf", "linear")


def order_parameters(w1, teacher_w1):
    """``(Q, R, T) = (W1 W1^T, W1 B^T, B B^T)`` for inputs ``x ~ N(0, I)``.

    Examples
    --------
    >>> q, r, t = order_parameters(np.eye(2), 2 * np.eye(2))
    >>> r.tolist()
    [[2.0, 0.0], [0.0, 2.0]]
    """
    w1 = np.asarray(w1, dtype=float)
    b = np.asarray(teacher_w1, dtype=float)
    return w1 @ w1.T, w1 @ b.T, b @ b.T


def _full_cov(q, r, t):
    return np.block([[q, r], [r.T, t]])


def field_integrals(cov, n_student: int, activation: str = "erf"):
    r"""Gaussian averages over the local fields with covariance ``cov`` (students first).

    Returns ``I2 (K, D)``, ``I3 (K, D, D)``, ``I4 (K, K, D, D)``, ``J2 (K, K)`` and the output
    correlation ``G (D, D) = E[g(u_a) g(u_b)]``, with ``D`` fields of which the first ``K`` are
    the student's:

    .. math:: I_2 = E[g(u_i) g(u_a)],\ I_3 = E[g'(u_i) u_k g(u_a)],\
              I_4 = E[g'(u_i) g'(u_k) g(u_a) g(u_b)],\ J_2 = E[g'(u_i) g'(u_k)]

    Examples
    --------
    >>> i2, i3, i4, j2, g = field_integrals(np.eye(2), 1, "linear")
    >>> i2.tolist(), float(j2[0, 0])
    ([[1.0, 0.0]], 1.0)
    """
    c = np.asarray(cov, dtype=float)
    k = n_student
    d = c.shape[0]
    diag = np.diag(c)
    if activation == "linear":
        i2 = c[:k, :].copy()
        i3 = np.broadcast_to(c[None, :, :], (k, d, d)).copy()
        i4 = np.broadcast_to(c[None, None, :, :], (k, k, d, d)).copy()
        j2 = np.ones((k, k))
        return i2, i3, i4, j2, c.copy()
    if activation != "erf":
        raise ParameterError(
            f"The 'activation' parameter of field_integrals must be one of 'erf', 'linear' "
            f"(closed forms exist only for these). Got {activation!r} instead."
        )
    one = 1.0 + diag
    g = (2 / math.pi) * np.arcsin(np.clip(c / np.sqrt(np.outer(one, one)), -1, 1))
    i2 = g[:k, :]
    c11 = one[:k, None, None]
    c12 = c[:k, :, None]
    c13 = c[:k, None, :]
    c23 = c[None, :, :]
    c33 = one[None, None, :]
    l3 = c11 * c33 - c13**2
    i3 = (2 / math.pi) * (c23 * c11 - c12 * c13) / (c11 * np.sqrt(l3))
    a11 = one[:k, None, None, None]
    a22 = one[None, :k, None, None]
    a12 = c[:k, :k][:, :, None, None]
    a13 = c[:k, None, :, None]
    a14 = c[:k, None, None, :]
    a23 = c[None, :k, :, None]
    a24 = c[None, :k, None, :]
    a33 = one[None, None, :, None]
    a44 = one[None, None, None, :]
    a34 = c[None, None, :, :]
    l4 = a11 * a22 - a12**2
    l0 = l4 * a34 - a23 * a24 * a11 - a13 * a14 * a22 + a12 * a13 * a24 + a12 * a14 * a23
    l1 = l4 * a33 - a23**2 * a11 - a13**2 * a22 + 2 * a12 * a13 * a23
    l2 = l4 * a44 - a24**2 * a11 - a14**2 * a22 + 2 * a12 * a14 * a24
    i4 = (4 / math.pi**2) / np.sqrt(l4) * np.arcsin(np.clip(l0 / np.sqrt(l1 * l2), -1, 1))
    j2 = (2 / math.pi) / np.sqrt(one[:k, None] * one[None, :k] - c[:k, :k] ** 2)
    return i2, i3, i4, j2, g


def generalisation_error(q, r, t, v, v_teacher, activation="erf") -> float:
    r"""``eps_g = 0.5 E[(y - y_hat)^2]`` of a soft committee machine from its order parameters.

    Examples
    --------
    >>> float(generalisation_error(np.eye(2), np.eye(2), np.eye(2), np.ones(2), np.ones(2)))
    0.0
    """
    q, r, t = (np.atleast_2d(np.asarray(a, dtype=float)) for a in (q, r, t))
    k = q.shape[0]
    cvec = np.concatenate([-np.asarray(v, float).ravel(), np.asarray(v_teacher, float).ravel()])
    g = field_integrals(_full_cov(q, r, t), k, activation)[4]
    return float(0.5 * cvec @ g @ cvec)


def ode_rhs(
    q,
    r,
    t,
    v,
    v_teacher,
    *,
    learning_rate,
    activation="erf",
    hidden_input_signs=None,
    hidden_signs=None,
    train_second_layer=True,
    label_noise_std=0.0,
):
    r"""Time derivatives ``(dQ, dR, dv)`` per unit ``alpha`` (Saad-Solla, with sign flips).

    .. math::
        \frac{dR_{in}}{d\alpha} = \eta s_i v_i \sum_a c_a I_3(i, n, a), \quad
        \frac{dQ_{ik}}{d\alpha} = \eta s_i v_i \sum_a c_a I_3(i,k,a) + (i\leftrightarrow k)
        + \eta^2 s_i s_k v_i v_k \Big[\sum_{ab} c_a c_b I_4(i,k,a,b) + \sigma^2 J_2(i,k)\Big],
        \quad \frac{dv_i}{d\alpha} = \eta t_i \sum_a c_a I_2(i, a)

    with ``c = (-v, v*)`` over the student and teacher fields.

    Examples
    --------
    >>> dq, dr, dv = ode_rhs(np.eye(2), np.eye(2), np.eye(2), np.ones(2), np.ones(2),
    ...                      learning_rate=0.5)
    >>> float(np.abs(dq).max() + np.abs(dr).max() + np.abs(dv).max())
    0.0
    """
    k = q.shape[0]
    v = np.asarray(v, float).ravel()
    cvec = np.concatenate([-v, np.asarray(v_teacher, float).ravel()])
    s = np.ones(k) if hidden_input_signs is None else np.asarray(hidden_input_signs, float)
    ts = np.ones(k) if hidden_signs is None else np.asarray(hidden_signs, float)
    i2, i3, i4, j2, _ = field_integrals(_full_cov(q, r, t), k, activation)
    sv = s * v
    drift = learning_rate * sv[:, None] * (i3 @ cvec)  # (K, D)
    second = np.einsum("ikab,a,b->ik", i4, cvec, cvec) + label_noise_std**2 * j2
    dq = drift[:, :k] + drift[:, :k].T + learning_rate**2 * np.outer(sv, sv) * second
    dr = drift[:, k:]
    dv = learning_rate * ts * (i2 @ cvec) if train_second_layer else np.zeros(k)
    return dq, dr, dv


@dataclass
class ODESolution:
    """Order parameters integrated in time.

    Attributes
    ----------
    alpha : ndarray (n_points,)
    q : ndarray (n_points, K, K)
    r : ndarray (n_points, K, M)
    v : ndarray (n_points, K)
    generalisation_error : ndarray (n_points,)
    """

    alpha: np.ndarray
    q: np.ndarray
    r: np.ndarray
    v: np.ndarray
    generalisation_error: np.ndarray


#: relative and absolute tolerances of :func:`integrate_odes` (RK45, error per step)
ODE_RTOL = 1e-8
ODE_ATOL = 1e-10


def integrate_odes(
    q0,
    r0,
    t,
    v0,
    v_teacher,
    *,
    learning_rate,
    alpha,
    activation="erf",
    hidden_input_signs=None,
    hidden_signs=None,
    train_second_layer=True,
    label_noise_std=0.0,
    rtol=ODE_RTOL,
    atol=ODE_ATOL,
) -> ODESolution:
    r"""Integrate the order-parameter ODEs from a simulation's own ``Q0``, ``R0``, ``T`` and
    report them at the times ``alpha``.

    The right-hand side is :func:`ode_rhs`; the solver is ``scipy.integrate.solve_ivp``
    (explicit Runge-Kutta 4(5), adaptive steps, dense output at ``t_eval = alpha``), so the
    reported points carry the solver's local error control, not a fixed-step bias.

    Parameters
    ----------
    q0 : (K, K), r0 : (K, M), t : (M, M), v0 : (K,), v_teacher : (M,)
    learning_rate : float
    alpha : array of increasing times >= 0
    activation : {"erf", "linear"}
    hidden_input_signs, hidden_signs : (K,) arrays of +-1 or None
    train_second_layer : bool, default=True
    label_noise_std : float, default=0.0
    rtol, atol : float, default=1e-8, 1e-10
        Tolerances of the solver's error per step.

    Raises
    ------
    DivergenceError
        When the solver cannot continue or the error stops being finite (``step`` is the index
        of the first time of ``alpha`` not reached).

    Examples
    --------
    >>> sol = integrate_odes(0.1 * np.eye(2), np.zeros((2, 2)), np.eye(2), np.ones(2),
    ...                      np.ones(2), learning_rate=0.5, alpha=[0, 1, 2])
    >>> bool(sol.generalisation_error[2] < sol.generalisation_error[0])
    True
    """
    check_param(
        "integrate_odes", "learning_rate", learning_rate, Interval(float, 0, None, "neither")
    )
    check_param("integrate_odes", "activation", activation, Options(_THEORY_ACTIVATIONS))
    for name, tol in (("rtol", rtol), ("atol", atol)):
        check_param("integrate_odes", name, tol, Interval(float, 0, None, "neither"))
    q = check_array("integrate_odes", "q0", q0, ndim=2)
    k = q.shape[0]
    r = check_array("integrate_odes", "r0", r0, shape=(k, None), shape_doc="(K, M)")
    m = r.shape[1]
    tt = check_array("integrate_odes", "t", t, shape=(m, m), shape_doc="(M, M)")
    v = check_array("integrate_odes", "v0", v0, shape=(k,), shape_doc="(K,)")
    vt = check_array("integrate_odes", "v_teacher", v_teacher, shape=(m,), shape_doc="(M,)")
    times = check_array("integrate_odes", "alpha", alpha, ndim=1)
    if times.size and (times[0] < 0 or np.any(np.diff(times) < 0)):
        raise ParameterError(
            "The 'alpha' parameter of integrate_odes must be non-negative and increasing."
        )
    s_in, s_out = (
        None
        if signs is None
        else check_array("integrate_odes", name, signs, shape=(k,), shape_doc=f"({k},)")
        for name, signs in (
            ("hidden_input_signs", hidden_input_signs),
            ("hidden_signs", hidden_signs),
        )
    )
    n = times.size
    kk, km = k * k, k * m
    rhs_kw = dict(
        learning_rate=float(learning_rate),
        activation=activation,
        hidden_input_signs=s_in,
        hidden_signs=s_out,
        train_second_layer=bool(train_second_layer),
        label_noise_std=float(label_noise_std),
    )

    def unpack(y):
        return y[:kk].reshape(k, k), y[kk : kk + km].reshape(k, m), y[kk + km :]

    def rhs(_alpha, y):
        dq, dr, dv = ode_rhs(*unpack(y)[:2], tt, y[kk + km :], vt, **rhs_kw)
        return np.concatenate([dq.ravel(), dr.ravel(), dv])

    y0 = np.concatenate([q.ravel(), r.ravel(), v.ravel()])
    reached = np.empty((y0.size, 0))
    message = ""
    if n:
        from scipy.integrate import solve_ivp

        with np.errstate(all="ignore"):  # a diverging trajectory is reported below
            sol = solve_ivp(
                rhs,
                (0.0, float(times[-1])),
                y0,
                method="RK45",
                t_eval=times,
                rtol=float(rtol),
                atol=float(atol),
            )
        reached, message = sol.y, sol.message
    out_q, out_r, out_v, out_e = (
        np.full((n, k, k), np.nan),
        np.full((n, k, m), np.nan),
        np.full((n, k), np.nan),
        np.full(n, np.nan),
    )
    for idx in range(reached.shape[1]):
        out_q[idx], out_r[idx], out_v[idx] = unpack(reached[:, idx])
        with np.errstate(all="ignore"):
            out_e[idx] = generalisation_error(
                out_q[idx], out_r[idx], tt, out_v[idx], vt, activation
            )
    bad = np.flatnonzero(~np.isfinite(out_e))
    if bad.size:
        from neurolearn.errors import DivergenceError

        idx = int(bad[0])
        raise DivergenceError(
            f"the order-parameter ODEs diverged before alpha = {times[idx]} ({message}).",
            step=idx,
        )
    return ODESolution(times.copy(), out_q, out_r, out_v, out_e)


# ------------------------------------------------------------------ linear stability


def stability_matrix(w1, w2, input_signs=None, hidden_signs=None) -> np.ndarray:
    r"""``A = W1^T D2 W1 + |w2|^2 D1`` (M x M) of a linear two-layer network.

    Examples
    --------
    >>> stability_matrix(np.eye(2), np.ones((1, 2)), input_signs=[-1, 1]).tolist()
    [[-1.0, 0.0], [0.0, 3.0]]
    """
    w1 = np.asarray(w1, dtype=float)
    w2 = np.asarray(w2, dtype=float)
    n_hidden, n_inputs = w1.shape
    d1 = np.ones(n_inputs) if input_signs is None else np.asarray(input_signs, float)
    d2 = np.ones(n_hidden) if hidden_signs is None else np.asarray(hidden_signs, float)
    return (w1.T * d2) @ w1 + float(np.sum(w2**2)) * np.diag(d1)


def smallest_eigenvalue(w1, w2, input_signs=None, hidden_signs=None) -> float:
    """Smallest eigenvalue of :func:`stability_matrix` (> 0: the solution manifold is stable).

    Examples
    --------
    >>> smallest_eigenvalue(np.eye(2), np.ones((1, 2)), input_signs=[-1, 1])
    -1.0
    """
    return float(np.linalg.eigvalsh(stability_matrix(w1, w2, input_signs, hidden_signs))[0])


def input_flip_safe_ratio() -> float:
    """Aspect ratio ``c = M/N`` below which any fraction of flipped inputs is stable: 1/4.

    With ``W1`` entries of variance ``1/M``, ``lambda_min(W1^T W1) -> (1/sqrt(c) - 1)^2`` which
    exceeds ``|w2|^2 = 1`` exactly when ``c < 1/4``.

    Examples
    --------
    >>> input_flip_safe_ratio()
    0.25
    """
    return 0.25


def _sample_lambda_min(n_inputs, n_hidden, n_flipped, layer, rng):
    w1 = rng.standard_normal((n_hidden, n_inputs)) / math.sqrt(n_inputs)
    w2 = rng.standard_normal(n_hidden)
    w2 /= np.linalg.norm(w2)
    if layer == "input":
        s1 = np.ones(n_inputs)
        s1[:n_flipped] = -1
        return smallest_eigenvalue(w1, w2, input_signs=s1)
    s2 = np.ones(n_hidden)
    s2[:n_flipped] = -1
    return smallest_eigenvalue(w1, w2, hidden_signs=s2)


def critical_flip_fraction(ratio, *, layer="input", n_total=219, n_samples=20, seed=None):
    r"""Largest flipped fraction at which ``A = W1^T D2 W1 + |w2|^2 D1`` stays positive definite,
    sampled at a finite size.

    Parameters
    ----------
    ratio : float
        The aspect ratio ``c = M / N`` (inputs over hidden units), as in the theory. At a
        finite size the network has ``M = round(n_total c / (1 + c))`` inputs (at least 1, at
        most ``n_total - 1``) and ``N = n_total - M`` hidden units, so the realised ratio is
        ``M / N``, the nearest one ``n_total`` allows: the sizes, not ``c``, must be integers.
    layer : {"input", "hidden"}, default="input"
        Flip input neurons (``D1``) or hidden neurons (``D2``).
    n_total : int, default=219
        ``M + N`` (the curl-descent paper's phase diagram uses 219).
    n_samples : int, default=20
        Weight draws; the median ``lambda_min(A)`` decides stability.
    seed : int, numpy.random.Generator or None, default=None

    Returns
    -------
    float
        ``k / n`` (``n`` = M for input flips, N for hidden flips) for the largest flipped count
        ``k`` at which the median over ``n_samples`` draws of ``lambda_min(A)`` is positive,
        found by bisection on ``k`` (``lambda_min`` falls as ``k`` grows). ``W1`` has i.i.d.
        N(0, 1/M) entries and ``|w2| = 1``. 1.0 when even all flipped is stable, and 0.0
        when a single flipped neuron already makes ``A`` indefinite, as
        :func:`critical_flip_fraction_theory` says for compressive networks (input flips at
        ``c > 2/3``).

    Examples
    --------
    >>> critical_flip_fraction(0.1, n_total=60, n_samples=5, seed=0)
    1.0
    >>> critical_flip_fraction(4.0, n_total=60, n_samples=5, seed=0)
    0.0
    """
    check_param("critical_flip_fraction", "ratio", ratio, Interval(float, 0, None, "neither"))
    check_param("critical_flip_fraction", "layer", layer, Options(("input", "hidden")))
    check_param("critical_flip_fraction", "n_total", n_total, Interval(int, 2, None))
    check_param("critical_flip_fraction", "n_samples", n_samples, Interval(int, 1, None))
    n_inputs = max(1, min(n_total - 1, int(round(n_total * ratio / (1 + ratio)))))
    n_hidden = n_total - n_inputs
    size = n_inputs if layer == "input" else n_hidden
    base = as_generator(seed, "critical_flip_fraction")
    seeds = base.integers(0, 2**63 - 1, size=n_samples)

    def unstable(k):
        # Common random numbers across k: the same weights for every flipped count.
        lams = [
            _sample_lambda_min(n_inputs, n_hidden, k, layer, np.random.default_rng(s))
            for s in seeds
        ]
        return float(np.median(lams)) < 0

    if not unstable(size):
        return 1.0
    lo, hi = 0, size  # stable at lo (no flips: A >= |w2|^2 I), unstable at hi
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if unstable(mid):
            hi = mid
        else:
            lo = mid
    return lo / size


def _inverse_stieltjes(z, ratio, fraction, layer, w2_norm_sq):
    """``x(z) = G^{-1}(z)`` of the limiting spectrum of ``A`` (free addition, R-transforms)."""
    lam = 1.0 / ratio  # N / M
    s2 = w2_norm_sq
    if layer == "hidden":
        # W1^T D2 W1 = W+^T W+ - W-^T W-: free Wisharts with rates (1-f) N/M and f N/M
        return (1 - fraction) * lam / (1 - z) - fraction * lam / (1 + z) + s2 + 1 / z
    # W1^T W1 (Marchenko-Pastur, rate N/M) plus |w2|^2 D1 (two atoms at -s2 and +s2)
    if fraction in (0.0, 1.0):
        x_d = 1 / z + (s2 if fraction == 0.0 else -s2)
    else:
        disc = 1 + 4 * z * (z * s2 * s2 + s2 * (1 - 2 * fraction))
        x_d = (1 + np.sqrt(np.maximum(disc, 0.0))) / (2 * z)
    return x_d + lam / (1 - z)


def spectral_left_edge(ratio, fraction, *, layer="input", w2_norm_sq=1.0) -> float:
    r"""Limiting smallest eigenvalue of ``A = W1^T D2 W1 + |w2|^2 D1`` (random-matrix theory).

    ``W1`` has i.i.d. N(0, 1/M) entries, ``c = M / N = ratio`` and a ``fraction`` of the input
    (``layer="input"``, ``D1``) or hidden (``layer="hidden"``, ``D2``) neurons is rule-flipped.
    The two terms are asymptotically free, so the R-transforms add; with
    :math:`x(z) = R_A(z) + 1/z` the inverse of the Stieltjes transform, the left edge is the
    first critical value of :math:`x` met when ``z`` decreases from 0 (or its limit when ``x``
    stays monotone: an atom). For hidden flips
    :math:`R_A(z) = \frac{(1-f)/c}{1-z} - \frac{f/c}{1+z} + |w_2|^2`, the cubic resolvent of
    the notes.

    Examples
    --------
    >>> round(spectral_left_edge(1 / 16, 1.0), 6)  # (1/sqrt(c) - 1)^2 - 1 = 9 - 1
    8.0
    """
    check_param("spectral_left_edge", "ratio", ratio, Interval(float, 0, None, "neither"))
    check_param("spectral_left_edge", "fraction", fraction, Interval(float, 0, 1))
    check_param("spectral_left_edge", "layer", layer, Options(("input", "hidden")))
    from scipy.optimize import minimize_scalar

    fraction = float(fraction)
    if layer == "hidden" and fraction > 0:
        grid = -np.logspace(-8, 0, 8000)[:-1]  # up to the pole at z = -1
    else:
        grid = -np.logspace(-8, 8, 8000)
    x = _inverse_stieltjes(grid, ratio, fraction, layer, w2_norm_sq)
    falling = np.flatnonzero(np.diff(x) < 0)
    if falling.size == 0:
        return float(x[-1])
    i = int(falling[0])
    lo, hi = grid[min(i + 1, grid.size - 1)], grid[max(i - 1, 0)]
    res = minimize_scalar(
        lambda z: -_inverse_stieltjes(z, ratio, fraction, layer, w2_norm_sq),
        bounds=(lo, hi),
        method="bounded",
        options={"xatol": 1e-13},
    )
    return float(max(-res.fun, x[i]))


#: the fraction standing for f -> 0+ (the left edge jumps at f = 0 for input flips, c > 2/3)
_VANISHING_FRACTION = 1e-12


def critical_flip_fraction_theory(ratio, *, layer="input", w2_norm_sq=1.0, tol=1e-4) -> float:
    """Flipped fraction at which :func:`spectral_left_edge` crosses zero, in the random-matrix
    limit, for the aspect ratio ``ratio`` = ``c = M / N``.

    1.0 when all flipped is stable. 0.0 when every fraction above zero is unstable: for input
    flips in a compressive network the left edge jumps at ``f = 0`` from ``|w2|^2`` (no flips,
    ``A >= |w2|^2 I``) to a negative limit as ``f -> 0+`` (``W1^T W1`` has a null space of
    dimension ``M - N`` and the flipped directions meet it). Numerically the ``f -> 0+`` limit
    is ``2 / (3c) - 1`` (with ``|w2|^2 = 1``), negative for ``c > 2/3``. Otherwise the crossing
    is found by bisection to ``tol``.

    Examples
    --------
    >>> critical_flip_fraction_theory(0.2)  # c < 1/4: every fraction of flipped inputs is stable
    1.0
    >>> critical_flip_fraction_theory(2.0)  # compressive: a vanishing fraction is unstable
    0.0
    """
    if spectral_left_edge(ratio, 1.0, layer=layer, w2_norm_sq=w2_norm_sq) > 0:
        return 1.0
    edge = spectral_left_edge(ratio, _VANISHING_FRACTION, layer=layer, w2_norm_sq=w2_norm_sq)
    if edge <= 0:
        return 0.0
    lo, hi = 0.0, 1.0
    while hi - lo > tol:
        mid = 0.5 * (lo + hi)
        if spectral_left_edge(ratio, mid, layer=layer, w2_norm_sq=w2_norm_sq) > 0:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)
