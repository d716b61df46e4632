"""The E/I rate reservoir with adaptive excitation/inhibition balance."""

from __future__ import annotations

import warnings
from numbers import Real

import numpy as np
import scipy.sparse as sp

from neurolearn._kernels.numba import reservoir as nb_kernels
from neurolearn._params import (
    Distribution,
    Interval,
    NoneOr,
    Options,
    check_param,
    check_params,
)
from neurolearn._rng import as_generator
from neurolearn.errors import (
    DivergenceError,
    NotFittedError,
    ParameterError,
    ParameterTypeError,
    UnreachableTargetWarning,
)
from neurolearn.reservoir._base import ReservoirBase
from neurolearn.reservoir._engine import KIND_EI, Net, simulate

__all__ = ["EIReservoir", "draw_target_rates", "ADAPTATIONS"]

ADAPTATIONS = ("none", "local", "global", "row-rescale")
BETA_2_2 = {"dist": "beta", "a": 2.0, "b": 2.0}


def draw_target_rates(spec, n: int, rng: np.random.Generator, owner="EIReservoir") -> np.ndarray:
    """Per-unit target rates from a float, an array of shape (n,), or a distribution dict.

    Distributions (see :class:`neurolearn._params.Distribution`): ``{"dist": "beta", "a": ..,
    "b": ..}``, ``{"dist": "uniform", "low": .., "high": ..}``, ``{"dist": "normal", "mean": ..,
    "std": ..}``, ``{"dist": "constant", "value": ..}``. Every target must lie in (0, 1).

    Examples
    --------
    >>> draw_target_rates(0.2, 3, np.random.default_rng(0)).tolist()
    [0.2, 0.2, 0.2]
    >>> r = draw_target_rates({"dist": "beta", "a": 2, "b": 2}, 4000, np.random.default_rng(0))
    >>> bool(abs(r.mean() - 0.5) < 0.03)
    True
    """
    if isinstance(spec, Real) and not isinstance(spec, bool):
        rates = np.full(n, float(spec))
    elif isinstance(spec, dict):
        spec = check_param(owner, "target_rate", spec, Distribution())
        dist = spec["dist"]
        if dist == "beta":
            rates = rng.beta(spec["a"], spec["b"], n)
        elif dist == "uniform":
            rates = rng.uniform(spec["low"], spec["high"], n)
        elif dist == "normal":
            rates = rng.normal(spec["mean"], spec["std"], n)
        else:
            rates = np.full(n, spec["value"])
    elif isinstance(spec, np.ndarray | list | tuple):
        rates = np.asarray(spec, dtype=np.float64)
        if rates.shape != (n,):
            raise ParameterError(
                f"The 'target_rate' parameter of {owner} must have shape ({n},). "
                f"Got shape {rates.shape} instead."
            )
    else:
        raise ParameterTypeError(
            f"The 'target_rate' parameter of {owner} must be a float in (0, 1), an array of "
            f"shape (n,) or a distribution dict. Got {spec!r} instead."
        )
    if not np.all((rates > 0) & (rates < 1)):
        bad = rates[~((rates > 0) & (rates < 1))]
        raise ParameterError(
            f"The 'target_rate' parameter of {owner} must lie in (0, 1) for every unit. "
            f"Got {bad[:3].tolist()} instead."
        )
    return rates


def _sample_in_degree(rng, n: int, pool: np.ndarray, k: int) -> np.ndarray:
    """``k`` distinct presynaptic units from ``pool`` for each of ``n`` units, no self-loops."""
    keys = rng.random((n, pool.size))
    keys[pool[None, :] == np.arange(n)[:, None]] = np.inf
    cols = np.argpartition(keys, k - 1, axis=1)[:, :k] if k < pool.size else np.argsort(keys, 1)
    cols = np.sort(cols[:, :k], axis=1)
    return pool[cols]


class EIReservoir(ReservoirBase):
    r"""E/I rate reservoir whose balance adapts locally toward target firing rates.

    Excitatory (E) and inhibitory (I) units obey Dale's law: two non-negative sparse matrices
    ``A_E`` and ``A_I``, each unit receiving exactly ``in_degree_exc`` inputs from E units and
    ``in_degree_inh`` from I units (Srinivasan, Plenz & Girvan 2025).

    Parameters
    ----------
    n : int, default=500
    excitatory_fraction : float in (0, 1), default=0.8
    in_degree_exc, in_degree_inh : int, default=50
        Presynaptic E and I partners of every unit (no self-connections).
    weight_cv : float, default=0.2
        E weights are ``|Normal(mu_E, cv mu_E)|`` with ``mu_E = 1 / (in_degree_exc f_E)``;
        I weights ``|Normal(mu_I, cv mu_E)|`` with ``mu_I = (f_E / f_I) mu_E``.
    gain : float, default=10.0
        Sigmoid gain ``c``.
    threshold : float, default=0.0
        Sigmoid threshold ``theta``.
    leak : float in [0, 1), default=0.0
        Potential leak ``lambda``.
    input_fraction : float in (0, 1], default=0.3
        Fraction of units that receive input.
    input_scaling : float, default=0.25
        Input weights of those units are uniform in ``[-input_scaling, input_scaling]``.
    n_inputs : int, default=1
    balance : float or None, default=None
        If set, ``A_I`` is scaled once at construction so that the global balance
        ``beta = (1/N) 1^T (A_E - A_I) 1`` equals this value.
    adaptation : {"local", "global", "row-rescale", "none"}, default="local"
        What :meth:`adapt` does. ``local``: the paper's rule, every inhibitory synapse onto
        unit i moves by ``eta (r_i - rho_i)``. ``global``: one scalar on ``A_I``, found by
        bisection so that the population mean rate equals the mean target. ``row-rescale``:
        each unit's inhibitory row is scaled once, solved from the fixed point ``r = rho``
        under the mean input. ``none``: weights stay as drawn.
    target_rate : float, array of shape (n,), dict or None, default=None
        Targets ``rho_i`` in (0, 1): a float (homogeneous), an array, or a distribution
        dict such as ``{"dist": "beta", "a": 2, "b": 2}``; None means Beta(2, 2).
    learning_rate : float or sequence of float, default=(1e-2, 1e-3)
        ``eta`` of the local rule; a sequence is a schedule whose phases split the
        adaptation input into equal parts.
    record_every : int, default=10
        The rate trajectory during adaptation stores the mean rate of every window of this
        many steps.
    seed : int, Generator or None, default=None
    backend : {"numba", "torch", "numpy"} or None, default=None
    device : str or None, default=None
    dtype : {"float64", "float32"}, default="float64"
        Precision of the recurrent weights and the returned states when running.
        ``"float32"`` halves the bytes streamed per step; the nonlinearity is still
        evaluated in float64 on the numba and numpy backends.

    Attributes
    ----------
    exc_idx_, exc_w_ : ndarray of shape (n, in_degree_exc)
        Presynaptic E indices and weights of each unit.
    inh_idx_, inh_w_ : ndarray of shape (n, in_degree_inh)
        Presynaptic I indices and (non-negative) weights; :meth:`adapt` changes ``inh_w_``.
    w_in_ : ndarray of shape (n, n_inputs)
    target_rate_ : ndarray of shape (n,)
    rate_trajectory_ : ndarray of shape (n_windows, n)
        Mean rate of every unit in each ``record_every`` window of the adaptation (local).
    trajectory_steps_ : ndarray of shape (n_windows,)
        The adaptation step at the end of each window.
    inhibition_scale_ : float
        The scalar applied to ``A_I`` by global adaptation (1 otherwise).
    unreachable_ : ndarray of bool, shape (n,)
        Units that cannot reach their target (below it with inhibition at zero).
    adapted_rates_ : ndarray of shape (n,)
        Mean rate of every unit on the adaptation input with the final, frozen weights.

    Notes
    -----
    .. math::
        v(t+1) = \Lambda v(t) + (A_E - A_I)\, r(t) + W_{in} u(t), \qquad
        r(t) = \frac{1}{1 + e^{-c (v(t) - \theta)}}

    Local rule: :math:`A_I[i, j] \leftarrow \max(0, A_I[i, j] + \eta (r_i(t) - \rho_i))`.
    Row rescaling solves, per unit, :math:`(1-\lambda_i)(\theta + \mathrm{logit}(\rho_i)/c)
    = (A_E \rho)_i - \omega_i (A_I \rho)_i + (W_{in} \bar u)_i` for :math:`\omega_i`: a unit
    above target needs *more* inhibition (larger :math:`\omega_i`); :math:`\omega_i < 0` would
    mean negative inhibition, so that unit is marked unreachable (and set to 0), not hidden.

    With ``leak = 0`` and ``threshold = 0``, strong inhibition of a homogeneous population
    produces a period-2 cycle between silence and ``r = sigmoid(0) = 1/2``: time-averaged rates
    cannot fall below about 1/4 that way, and a homogeneous target below it is missed while
    the local rule keeps strengthening inhibition (heterogeneous targets desynchronise the
    units and do not show this floor).

    Examples
    --------
    >>> res = EIReservoir(n=100, in_degree_exc=10, in_degree_inh=10, target_rate=0.3, seed=0)
    >>> u = np.random.default_rng(1).uniform(-1, 1, (2000, 1))
    >>> _ = res.adapt(u)
    >>> report = res.target_report(u)
    >>> bool(report["fraction_within"] > 0.9)
    True
    """

    def __init__(
        self,
        *,
        n=500,
        excitatory_fraction=0.8,
        in_degree_exc=50,
        in_degree_inh=50,
        weight_cv=0.2,
        gain=10.0,
        threshold=0.0,
        leak=0.0,
        input_fraction=0.3,
        input_scaling=0.25,
        n_inputs=1,
        balance=None,
        adaptation="local",
        target_rate=None,
        learning_rate=(1e-2, 1e-3),
        record_every=10,
        seed=None,
        backend=None,
        device=None,
        dtype="float64",
    ):
        self.n = n
        self.excitatory_fraction = excitatory_fraction
        self.in_degree_exc = in_degree_exc
        self.in_degree_inh = in_degree_inh
        self.weight_cv = weight_cv
        self.gain = gain
        self.threshold = threshold
        self.leak = leak
        self.input_fraction = input_fraction
        self.input_scaling = input_scaling
        self.n_inputs = n_inputs
        self.balance = balance
        self.adaptation = adaptation
        self.target_rate = target_rate
        self.learning_rate = learning_rate
        self.record_every = record_every
        self.seed = seed
        self.backend = backend
        self.device = device
        self.dtype = dtype

    _constraints = {
        "n": Interval(int, 2, None),
        "excitatory_fraction": Interval(float, 0, 1, "neither"),
        "in_degree_exc": Interval(int, 1, None),
        "in_degree_inh": Interval(int, 1, None),
        "weight_cv": Interval(float, 0, None),
        "gain": Interval(float, 0, None, "neither"),
        "threshold": Interval(float),
        "leak": Interval(float, 0, 1, "left"),
        "input_fraction": Interval(float, 0, 1, "right"),
        "input_scaling": Interval(float, 0, None),
        "n_inputs": Interval(int, 1, None),
        "balance": NoneOr(Interval(float)),
        "adaptation": Options(ADAPTATIONS),
        "record_every": Interval(int, 1, None),
        "backend": NoneOr(Options(("numba", "torch", "numpy"))),
        "dtype": Options(("float64", "float32")),
    }

    # -- construction -------------------------------------------------------------------
    def _validate(self):
        p = check_params(
            "EIReservoir", {k: getattr(self, k) for k in self._constraints}, self._constraints
        )
        n_exc = int(round(p["excitatory_fraction"] * p["n"]))
        n_inh = p["n"] - n_exc
        if n_exc < 1 or n_inh < 1:
            raise ParameterError(
                f"EIReservoir needs at least one E and one I unit: n={p['n']} with "
                f"excitatory_fraction={p['excitatory_fraction']} gives {n_exc} E, {n_inh} I."
            )
        for name, pool in (("in_degree_exc", n_exc), ("in_degree_inh", n_inh)):
            # a unit of the same population cannot pick itself
            if p[name] > pool - 1:
                raise ParameterError(
                    f"The '{name}' parameter of EIReservoir must be at most {pool - 1} (the "
                    f"population size minus the unit itself) for n={p['n']}. "
                    f"Got {p[name]} instead."
                )
        self._learning_rates()
        return n_exc, n_inh

    def _learning_rates(self) -> np.ndarray:
        lr = self.learning_rate
        rates = np.atleast_1d(np.asarray(lr, dtype=np.float64)) if not isinstance(lr, str) else None
        if (
            rates is None
            or rates.ndim != 1
            or rates.size == 0
            or not np.all(np.isfinite(rates) & (rates > 0))
        ):
            raise ParameterError(
                "The 'learning_rate' parameter of EIReservoir must be a float > 0 or a "
                f"non-empty sequence of floats > 0. Got {lr!r} instead."
            )
        return rates

    def _build(self):
        n_exc, n_inh = self._validate()
        n = self.n
        rng_e, rng_i, rng_in, rng_t = as_generator(self.seed, "EIReservoir").spawn(4)
        f_e = n_exc / n
        mu_e = 1.0 / (self.in_degree_exc * f_e)
        mu_i = (f_e / (1.0 - f_e)) * mu_e
        sd = self.weight_cv * mu_e
        self.exc_idx_ = _sample_in_degree(rng_e, n, np.arange(n_exc), self.in_degree_exc)
        self.exc_w_ = np.abs(rng_e.normal(mu_e, sd, self.exc_idx_.shape))
        self.inh_idx_ = _sample_in_degree(rng_i, n, np.arange(n_exc, n), self.in_degree_inh)
        self.inh_w_ = np.abs(rng_i.normal(mu_i, sd, self.inh_idx_.shape))
        n_driven = max(1, int(round(self.input_fraction * n)))
        driven = np.sort(rng_in.choice(n, n_driven, replace=False))
        self.w_in_ = np.zeros((n, self.n_inputs))
        self.w_in_[driven] = rng_in.uniform(
            -self.input_scaling, self.input_scaling, (n_driven, self.n_inputs)
        )
        self.target_rate_ = draw_target_rates(
            BETA_2_2 if self.target_rate is None else self.target_rate, n, rng_t
        )
        self.n_excitatory_ = n_exc
        if self.balance is not None:
            exc_sum = self.exc_w_.sum() / n
            inh_sum = self.inh_w_.sum() / n
            scale = (exc_sum - self.balance) / inh_sum
            if scale < 0:
                raise ParameterError(
                    f"The 'balance' parameter of EIReservoir must be at most {exc_sum:.4g} (the "
                    f"mean excitatory input; inhibition cannot be negative). Got {self.balance}."
                )
            self.inh_w_ *= scale
        self.inhibition_scale_ = 1.0
        self.unreachable_ = np.zeros(n, dtype=bool)
        self.rate_trajectory_ = np.empty((0, n))
        self.trajectory_steps_ = np.empty(0, dtype=np.int64)
        self.adapted_ = False
        self._compile()

    def _compile(self):
        n = self.n
        rows = np.repeat(np.arange(n), self.in_degree_exc + self.in_degree_inh)
        cols = np.concatenate([self.exc_idx_, self.inh_idx_], axis=1).ravel()
        vals = np.concatenate([self.exc_w_, -self.inh_w_], axis=1).ravel()
        W = sp.csr_matrix((vals, (rows, cols)), shape=(n, n))
        W.sort_indices()
        self._compiled = Net(
            KIND_EI,
            W,
            self.w_in_,
            np.zeros(n),
            np.full(n, float(self.leak)),
            float(self.gain),
            float(self.threshold),
        )

    def _net(self) -> Net:
        return self._compiled

    # -- read-outs of the weights -------------------------------------------------------
    @property
    def A_E(self) -> sp.csr_matrix:
        """Excitatory weights as a sparse (n, n) matrix (non-negative)."""
        self._ensure_initialized()
        rows = np.repeat(np.arange(self.n), self.in_degree_exc)
        return sp.csr_matrix(
            (self.exc_w_.ravel(), (rows, self.exc_idx_.ravel())), shape=(self.n, self.n)
        )

    @property
    def A_I(self) -> sp.csr_matrix:
        """Inhibitory weights as a sparse (n, n) matrix (non-negative; subtracted)."""
        self._ensure_initialized()
        rows = np.repeat(np.arange(self.n), self.in_degree_inh)
        return sp.csr_matrix(
            (self.inh_w_.ravel(), (rows, self.inh_idx_.ravel())), shape=(self.n, self.n)
        )

    @property
    def balance_(self) -> float:
        """Global balance ``beta = (1/N) 1^T (A_E - A_I) 1`` of the current weights."""
        self._ensure_initialized()
        return float((self.exc_w_.sum() - self.inh_w_.sum()) / self.n)

    # -- adaptation ---------------------------------------------------------------------
    def adapt(self, u):
        """Adapt the inhibitory weights on input ``u`` (shape (T, n_inputs)), then freeze them.

        What happens depends on ``adaptation``; see the class docstring. Returns self.
        """
        self._ensure_initialized()
        u = self._check_input(u)
        if u.ndim != 2:
            raise ParameterError("EIReservoir.adapt takes one input sequence of shape (T, d).")
        mode = self.adaptation
        if mode == "local":
            self._adapt_local(u)
        elif mode == "global":
            self._adapt_global(u)
        elif mode == "row-rescale":
            self._adapt_rows(u)
        self.adapted_ = True
        self._compile()
        self.adapted_rates_ = self.mean_rates(u)
        if mode == "local":
            self._mark_unreachable(self.adapted_rates_)
        self.last_state_ = None
        return self

    def _schedule(self, n_steps: int) -> np.ndarray:
        rates = self._learning_rates()
        phase = np.minimum(np.arange(n_steps) * rates.size // n_steps, rates.size - 1)
        return rates[phase]

    def _adapt_local(self, u):
        n_windows = u.shape[0] // self.record_every
        record = np.zeros((n_windows, self.n))
        bad = nb_kernels.adapt_local(
            self.exc_idx_,
            self.exc_w_,
            self.inh_idx_,
            self.inh_w_,
            self.w_in_,
            np.full(self.n, float(self.leak)),
            float(self.gain),
            float(self.threshold),
            np.ascontiguousarray(u),
            self._schedule(u.shape[0]),
            self.target_rate_,
            np.zeros(self.n),
            self.record_every,
            record,
        )
        if bad >= 0:
            raise DivergenceError(f"rates became NaN/Inf during adaptation at step {bad}.", bad)
        self.rate_trajectory_ = record
        self.trajectory_steps_ = (np.arange(n_windows) + 1) * self.record_every

    def _adapt_global(self, u, iterations: int = 40, tol: float = 2e-4):
        base = self.inh_w_.copy()
        target = float(self.target_rate_.mean())

        def mean_rate(scale):
            self.inh_w_ = base * scale
            self._compile()
            return float(self.mean_rates(u).mean())

        lo, hi = 0.0, 1.0
        rate_lo = None  # the rate at lo, once known from the doubling
        while (rate_hi := mean_rate(hi)) > target and hi < 1e6:
            lo, hi, rate_lo = hi, hi * 2.0, rate_hi
        if (rate_lo if rate_lo is not None else mean_rate(lo)) < target:
            # even without inhibition the population is below its mean target
            self.inh_w_ = base * 0.0
            self.inhibition_scale_ = 0.0
            self.unreachable_ = self.mean_rates(u) < self.target_rate_
            return
        scale = 0.5 * (lo + hi)
        for _ in range(iterations):
            scale = 0.5 * (lo + hi)
            rate = mean_rate(scale)
            if abs(rate - target) < tol:
                break
            if rate > target:
                lo = scale
            else:
                hi = scale
        self.inh_w_ = base * scale
        self.inhibition_scale_ = scale

    def _adapt_rows(self, u):
        rho = self.target_rate_
        u_mean = u.mean(axis=0)
        exc_in = (self.exc_w_ * rho[self.exc_idx_]).sum(axis=1)
        inh_in = (self.inh_w_ * rho[self.inh_idx_]).sum(axis=1)
        ext = self.w_in_ @ u_mean
        v_target = (1.0 - self.leak) * (self.threshold + np.log(rho / (1.0 - rho)) / self.gain)
        omega = (exc_in + ext - v_target) / inh_in
        negative = omega < 0
        self.inh_w_ = self.inh_w_ * np.where(negative, 0.0, omega)[:, None]
        self.row_scale_ = omega
        self.unreachable_ = negative
        if negative.any():
            warnings.warn(
                f"{int(negative.sum())} unit(s) stay below target even with zero inhibition "
                "(row rescaling would need negative inhibition); see unreachable_.",
                UnreachableTargetWarning,
                stacklevel=3,
            )

    def _mark_unreachable(self, rates, tol: float = 0.05):
        no_inhibition = np.all(self.inh_w_ <= 0.0, axis=1)
        self.unreachable_ = no_inhibition & (rates < self.target_rate_ - tol)
        if self.unreachable_.any():
            warnings.warn(
                f"{int(self.unreachable_.sum())} unit(s) cannot reach their target rate: their "
                "inhibition is already zero; see unreachable_.",
                UnreachableTargetWarning,
                stacklevel=4,
            )

    # -- diagnostics --------------------------------------------------------------------
    def mean_rates(self, u, *, washout: int = 0) -> np.ndarray:
        """Mean rate of every unit while driven by ``u`` (frozen weights, from rest)."""
        self._ensure_initialized()
        arr = self._check_input(u)
        washout = check_param("EIReservoir", "washout", washout, Interval(int, 0, arr.shape[0] - 1))
        v0 = np.zeros((1, self.n))
        s0 = self._compiled.initial_output(v0)
        states, _, _ = simulate([self._compiled], arr[None], s0, v0, self._backend())
        return states[0, washout:].mean(axis=0)

    def target_report(self, u, *, tol: float = 0.05, washout: int = 0) -> dict:
        """How well the units meet their targets on input ``u``.

        Returns a dict with ``fraction_within`` (share of units whose mean rate is within
        ``tol`` of their own target), ``fraction_within_reachable`` (the same among units not
        marked unreachable), ``n_unreachable``, ``mean_rate``, ``mean_target`` and
        ``mean_abs_error``.
        """
        if not hasattr(self, "w_in_"):
            raise NotFittedError("EIReservoir.target_report needs an initialized reservoir.")
        rates = self.mean_rates(u, washout=washout)
        err = np.abs(rates - self.target_rate_)
        within = err <= tol
        reachable = ~self.unreachable_
        return {
            "fraction_within": float(within.mean()),
            "fraction_within_reachable": float(within[reachable].mean())
            if reachable.any()
            else 0.0,
            "n_unreachable": int(self.unreachable_.sum()),
            "mean_rate": float(rates.mean()),
            "mean_target": float(self.target_rate_.mean()),
            "mean_abs_error": float(err.mean()),
        }
