"""The E/I rate reservoir with adaptive excitation/inhibition balance."""

from __future__ import annotations

import warnings
from numbers import Real

import numpy as np
import scipy.sparse as sp

from neurolearn._history import History
from neurolearn._kernels.numba import reservoir as nb_kernels
from neurolearn._kernels.reservoir_groups import ELLNetwork, LocalRule, RateRecord
from neurolearn._params import (
    Distribution,
    Interval,
    check_param,
)
from neurolearn._rng import as_generator
from neurolearn.errors import (
    DivergenceError,
    NotConvergedWarning,
    NotFittedError,
    ParameterError,
    ParameterTypeError,
    UnreachableTargetWarning,
)
from neurolearn.reservoir import _declared as D
from neurolearn.reservoir._base import ReservoirBase
from neurolearn.reservoir._connectivity import (
    ADAPTATIONS,
    closed_form_balance,
    ei_in_degrees,
)
from neurolearn.reservoir._engine import KIND_EI, Net, simulate

__all__ = [
    "EIReservoir",
    "draw_target_rates",
    "ei_in_degrees",
    "closed_form_balance",
    "ADAPTATIONS",
]


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


def _convergence_history(checks: list[dict]) -> History:
    keys = ("step", "eta", "fraction_within", "mean_abs_error")
    dtypes = (np.int64, float, float, float)
    return History(
        "step",
        {k: np.array([c[k] for c in checks], dtype=d) for k, d in zip(keys, dtypes, strict=True)},
    )


class EIReservoir(ReservoirBase):
    r"""E/I rate reservoir whose balance adapts locally toward target firing rates.

    Excitatory (E) and inhibitory (I) units obey Dale's law: two non-negative sparse matrices
    ``A_E`` and ``A_I``; every unit receives exactly ``k_E`` inputs from E units and ``k_I``
    from I units (Srinivasan, Plenz & Girvan 2025).

    Parameters
    ----------
    {parameters}

    Parameters are validated on every use. ``gain``, ``threshold``, ``leak``, ``adaptation``,
    ``learning_rate``, ``record_every``, ``backend`` and ``device`` take effect on the next use
    with the current (possibly adapted) weights; adapted weights were tuned under the old values,
    so call :meth:`adapt` again to re-adapt. A change of any other parameter (sizes, in-degrees,
    weight and input parameters, ``balance``, ``target_rate``, ``seed``) redraws the weights on
    the next use and discards the adaptation.

    Attributes
    ----------
    A_E_, A_I_ : scipy.sparse.csr_matrix of shape (n, n)
        The excitatory and inhibitory weights as matrices (non-negative; A_I is subtracted).
    exc_idx_, exc_w_ : ndarray of shape (n, k_E)
        Presynaptic E indices and weights of each unit.
    inh_idx_, inh_w_ : ndarray of shape (n, k_I)
        Presynaptic I indices and (non-negative) weights; :meth:`adapt` changes ``inh_w_``.
    in_degree_exc_, in_degree_inh_ : int
        The in-degrees used.
    initial_balance_ : float
        ``beta`` of the weights as constructed (after ``balance``), before adaptation.
    w_in_ : ndarray of shape (n, n_inputs)
    target_rate_ : ndarray of shape (n,)
    rate_trajectory_ : ndarray of shape (n_windows, n)
        Mean rate of every unit in each ``record_every`` window of the adaptation (local).
    trajectory_steps_ : ndarray of shape (n_windows,)
        The adaptation step at the end of each window.
    adapt_steps_ : int
        Input steps the adaptation used (local: up to convergence; global: per evaluation).
    converged_ : bool
        Whether local adaptation met its criterion before the input ran out (global: whether
        the mean rate met the mean target within ``2e-4``).
    convergence_ : History
        The checks of the local rule along ``step``: ``eta``, ``fraction_within`` and
        ``mean_abs_error`` of each check window (empty for the other adaptations).
    global_evaluations_ : int
        Simulations of the adaptation input spent by global tuning.
    inhibition_scale_ : float
        The scalar applied to ``A_I`` by global adaptation (1 otherwise).
    bias_ : ndarray of shape (n,)
        Constant drive of every unit (zero unless intrinsic plasticity set it).
    ip_gain_ : ndarray of shape (n,)
        The factor intrinsic plasticity applied to each unit's incoming weights (1 otherwise).
    unreachable_ : ndarray of bool, shape (n,)
        Units that cannot reach their target (below it with inhibition at zero).
    adapted_rates_ : ndarray of shape (n,)
        Mean rate of every unit on the adaptation input it used, with the final, frozen
        weights.
    fraction_within_ : float
        Share of reachable units whose ``adapted_rates_`` are within ``tolerance`` of target.

    Notes
    -----
    .. math::
        v(t+1) = \Lambda v(t) + (A_E - A_I)\, r(t) + W_{in} u(t), \qquad
        r(t) = \frac{1}{1 + e^{-c (v(t) - \theta)}}

    Local rule: :math:`A_I[i, j] \leftarrow \max(0, A_I[i, j] + \eta (r_i(t) - \rho_i))`.
    The adaptation input is consumed in chunks of ``check_every`` steps (one jitted kernel
    call each, the state carried over). After each chunk the mean rate of every unit over
    the last (up to 4) chunks of the current phase is compared with its target. The
    schedule moves to the next (smaller) ``eta`` when the criterion is met or the mean error
    stopped falling (by less than 10% from the previous check). It stops when the criterion
    is met in the last phase, both on those windowed rates and on the rates with the weights
    frozen, driven from rest by all the input used so far. A fixed ``eta`` lets the weights
    follow slow input fluctuations (a correlated input such as Mackey-Glass); the annealed
    one averages them out. Units below target with all their inhibition at zero
    cannot be helped and are excluded (``unreachable_``).

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
    >>> res = EIReservoir(n=100, in_degree=20, target_rate=0.3, seed=0)
    >>> u = np.random.default_rng(1).uniform(-1, 1, (4000, 1))
    >>> _ = res.adapt(u)
    >>> bool(res.converged_ and res.fraction_within_ >= 0.95)
    True
    """

    params = D.EI_PARAMS

    #: the convergence check averages rates over up to this many recent chunks of one phase
    CHECK_WINDOW = 4

    # -- construction -------------------------------------------------------------------
    def _validate(self):
        p = self._check_params()
        sizes = ei_in_degrees(
            p["n"], p["excitatory_fraction"], p["in_degree"], p["in_degree_exc"], p["in_degree_inh"]
        )
        self._learning_rates()
        return sizes

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
        n_exc, n_inh, k_exc, k_inh = self._validate()
        n = self.n
        rng_e, rng_i, rng_in, rng_t = as_generator(self.seed, "EIReservoir").spawn(4)
        f_e = n_exc / n
        mu_e = 1.0 / ((k_exc + k_inh) * f_e)
        mu_i = (f_e / (1.0 - f_e)) * mu_e
        sd_e = self.weight_cv * mu_e
        sd_i = self.weight_cv * (mu_e if self.inh_weight_std == "mu_E" else mu_i)
        self.in_degree_exc_, self.in_degree_inh_ = k_exc, k_inh
        self.exc_idx_ = _sample_in_degree(rng_e, n, np.arange(n_exc), k_exc)
        self.exc_w_ = np.abs(rng_e.normal(mu_e, sd_e, self.exc_idx_.shape))
        self.inh_idx_ = _sample_in_degree(rng_i, n, np.arange(n_exc, n), k_inh)
        self.inh_w_ = np.abs(rng_i.normal(mu_i, sd_i, self.inh_idx_.shape))
        n_driven = max(1, int(round(self.input_fraction * n)))
        driven = np.sort(rng_in.choice(n, n_driven, replace=False))
        self.w_in_ = np.zeros((n, self.n_inputs))
        self.w_in_[driven] = rng_in.uniform(
            -self.input_scaling, self.input_scaling, (n_driven, self.n_inputs)
        )
        self.target_rate_ = draw_target_rates(
            D.BETA_2_2 if self.target_rate is None else self.target_rate, n, rng_t
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
        self.initial_balance_ = float((self.exc_w_.sum() - self.inh_w_.sum()) / n)
        self.inhibition_scale_ = 1.0
        self.bias_ = np.zeros(n)
        self.ip_gain_ = np.ones(n)
        self.unreachable_ = np.zeros(n, dtype=bool)
        self.rate_trajectory_ = np.empty((0, n))
        self.trajectory_steps_ = np.empty(0, dtype=np.int64)
        self.convergence_ = _convergence_history([])
        self.adapt_steps_ = 0
        self.global_evaluations_ = 0
        self.converged_ = False
        self.adapted_ = False
        self._compile()

    def _compile(self):
        n = self.n
        rows = np.repeat(np.arange(n), self.in_degree_exc_ + self.in_degree_inh_)
        cols = np.concatenate([self.exc_idx_, self.inh_idx_], axis=1).ravel()
        vals = np.concatenate([self.exc_w_, -self.inh_w_], axis=1).ravel()
        W = sp.csr_matrix((vals, (rows, cols)), shape=(n, n))
        W.sort_indices()
        self._compiled = Net(
            KIND_EI,
            W,
            self.w_in_,
            self.bias_,
            np.full(n, float(self.leak)),
            float(self.gain),
            float(self.threshold),
        )

    def _net(self) -> Net:
        return self._compiled

    # -- read-outs of the weights -------------------------------------------------------
    @property
    def A_E_(self) -> sp.csr_matrix:
        """Excitatory weights as a sparse (n, n) matrix (non-negative)."""
        self._ensure_initialized()
        rows = np.repeat(np.arange(self.n), self.in_degree_exc_)
        return sp.csr_matrix(
            (self.exc_w_.ravel(), (rows, self.exc_idx_.ravel())), shape=(self.n, self.n)
        )

    @property
    def A_I_(self) -> sp.csr_matrix:
        """Inhibitory weights as a sparse (n, n) matrix (non-negative; subtracted)."""
        self._ensure_initialized()
        rows = np.repeat(np.arange(self.n), self.in_degree_inh_)
        return sp.csr_matrix(
            (self.inh_w_.ravel(), (rows, self.inh_idx_.ravel())), shape=(self.n, self.n)
        )

    @property
    def A_E(self) -> sp.csr_matrix:
        """Deprecated name of :attr:`A_E_` (learned state ends with an underscore)."""
        warnings.warn("EIReservoir.A_E is deprecated; use A_E_", DeprecationWarning, 2)
        return self.A_E_

    @property
    def A_I(self) -> sp.csr_matrix:
        """Deprecated name of :attr:`A_I_` (learned state ends with an underscore)."""
        warnings.warn("EIReservoir.A_I is deprecated; use A_I_", DeprecationWarning, 2)
        return self.A_I_

    @property
    def balance_(self) -> float:
        """Global balance ``beta = (1/N) 1^T (A_E - A_I) 1`` of the current weights."""
        self._ensure_initialized()
        return float((self.exc_w_.sum() - self.inh_w_.sum()) / self.n)

    # -- adaptation ---------------------------------------------------------------------
    def adapt(self, u):
        """Adapt the inhibitory weights on input ``u`` (shape (T, n_inputs)), then freeze them.

        What happens depends on ``adaptation``; see the class docstring. For the local rule
        ``u`` is the most input it may use: it stops once converged (``adapt_steps_``).
        Returns self.
        """
        self._ensure_initialized()
        u = self._check_input(u)
        if u.ndim != 2:
            raise ParameterError("EIReservoir.adapt takes one input sequence of shape (T, d).")
        mode = self.adaptation
        used, known = u, None
        if mode == "local":
            steps, known = self._adapt_local(u)
            used = u[:steps]
        elif mode == "global":
            self._adapt_global(u)
        elif mode == "row-rescale":
            self._adapt_rows(u)
        elif mode == "intrinsic":
            self._adapt_intrinsic(u)
        self.adapted_ = True
        self._compile()
        last = getattr(self, "_global_last", None)
        if mode == "global" and last is not None and last[0] == self.inhibition_scale_:
            known = last[1]  # the last run of the search had these weights
        # a converged local rule has just measured these frozen rates on ``used``
        self.adapted_rates_ = known if known is not None else self.mean_rates(used)
        self._global_last = None
        if mode == "local":
            self._mark_unreachable(self.adapted_rates_)
        within = np.abs(self.adapted_rates_ - self.target_rate_) <= self.tolerance
        reachable = ~self.unreachable_
        self.fraction_within_ = float(within[reachable].mean()) if reachable.any() else 0.0
        if mode == "intrinsic":
            self.converged_ = self.fraction_within_ >= self.criterion
        self.last_state_ = None
        return self

    def _adapt_intrinsic(self, u):
        """Intrinsic plasticity (Triesch 2005) toward exponential outputs of mean ``rho_i``.

        The adapted gain ``a_i`` and bias ``b_i`` act on the unit's drive ``x_i``; they are
        folded into the network so that the frozen reservoir runs on the usual kernels: the
        potential obeys ``v <- lam v + g_i x_i + h_i`` with ``g_i = a_i / c`` (row ``i`` of
        ``A_E``, ``A_I`` and ``W_in`` scaled by it, so Dale's law and each unit's E/I ratio
        are kept) and ``h_i = b_i / c + theta`` (``bias_``).
        """
        a, b = self._intrinsic_plasticity(u, self.target_rate_, 1.0)
        g = a / self.gain
        self.exc_w_ *= g[:, None]
        self.inh_w_ *= g[:, None]
        self.w_in_ = self.w_in_ * g[:, None]
        self.bias_ = g * self.bias_ + (b / self.gain + self.threshold)
        self.ip_gain_ = self.ip_gain_ * g
        self.adapt_steps_ = u.shape[0]

    def _adapt_local(self, u) -> tuple[int, np.ndarray | None]:
        """The local rule with its annealing schedule and stopping rule.

        Returns the steps used and, once converged, the frozen-weight mean rates over them
        (``None`` otherwise).
        """
        rates = self._learning_rates()
        n, n_steps, every = self.n, u.shape[0], self.check_every
        record = np.zeros((n_steps // self.record_every, self.n))
        steps = []
        v = np.zeros(n)
        rate_sum = np.zeros(n)
        leak = np.full(n, float(self.leak))
        phase, t, row, previous, recent = 0, 0, 0, np.inf, []
        frozen = None
        checks = []
        self.converged_ = False
        u = np.ascontiguousarray(u)
        while t < n_steps:
            chunk = u[t : t + every]
            length = chunk.shape[0]
            windows = length // self.record_every
            part = record[row : row + windows]  # a contiguous view the kernel fills in place
            bad = self._adapt_chunk(chunk, np.full(length, rates[phase]), v, part, rate_sum, leak)
            if bad >= 0:
                raise DivergenceError(
                    f"rates became NaN/Inf during adaptation at step {t + bad}.", t + bad
                )
            steps.extend(t + (np.arange(windows) + 1) * self.record_every)
            row += windows
            t += length
            recent = (recent + [(rate_sum.copy(), length)])[-self.CHECK_WINDOW :]
            mean_rate = sum(x for x, _ in recent) / sum(m for _, m in recent)
            frac, mean_err = self._within(mean_rate)
            checks.append(
                {
                    "step": t,
                    "eta": float(rates[phase]),
                    "fraction_within": frac,
                    "mean_abs_error": mean_err,
                }
            )
            if frac >= self.criterion:
                if phase < rates.size - 1:
                    phase, recent = phase + 1, []
                else:
                    share, frozen = self._frozen_fraction(u[:t])
                    if share >= self.criterion:
                        self.converged_ = True
                        break
                    frozen = None
                    continue
            elif phase < rates.size - 1 and mean_err > 0.9 * previous:
                phase, recent = phase + 1, []
            previous = mean_err
        self.convergence_ = _convergence_history(checks)
        self.rate_trajectory_ = record[:row]
        self.trajectory_steps_ = np.asarray(steps, dtype=np.int64)
        self.adapt_steps_ = t
        if not self.converged_:
            warnings.warn(
                f"local adaptation did not converge in {t} steps: {100 * frac:.0f}% of reachable "
                f"units within {self.tolerance} of their targets (criterion "
                f"{100 * self.criterion:.0f}%); give it a longer adaptation input.",
                NotConvergedWarning,
                stacklevel=3,
            )
        return t, frozen

    def _frozen_fraction(self, u) -> tuple[float, np.ndarray]:
        """Share of reachable units within ``tolerance`` of target on ``u`` with the weights
        frozen, and the mean rates it was measured on."""
        self._compile()
        rates = self.mean_rates(u)
        return self._within(rates)[0], rates

    def _within(self, rates) -> tuple[float, float]:
        """Share of reachable units within ``tolerance`` of target, and their mean error.

        A unit counts as unreachable while its inhibition is all zero and it is still below
        target; with no reachable unit the share is 0 and the error is over all units.
        """
        err = np.abs(rates - self.target_rate_)
        reachable = ~(np.all(self.inh_w_ <= 0.0, axis=1) & (rates < self.target_rate_))
        if not reachable.any():
            return 0.0, float(err.mean())
        return float((err[reachable] <= self.tolerance).mean()), float(err[reachable].mean())

    def _adapt_chunk(self, u, eta, v, record, rate_sum, leak) -> int:
        """One chunk of the local rule on the reservoir's backend (in place on ``inh_w_``)."""
        args = (
            ELLNetwork(
                self.exc_idx_,
                self.exc_w_,
                self.inh_idx_,
                self.inh_w_,
                self.w_in_,
                leak,
                float(self.gain),
                float(self.threshold),
            ),
            LocalRule(eta, self.target_rate_),
            u,
            v,
            RateRecord(int(self.record_every), record, rate_sum),
        )
        name = self._backend().name
        if name == "numba":
            return nb_kernels.adapt_local(*args)
        if name == "torch":
            from neurolearn._kernels.torch import reservoir as torch_kernels

            return torch_kernels.adapt_local(*args, device=self._backend().torch_device())
        return _adapt_local_numpy(*args)

    def _adapt_global(self, u):
        """Rate-matched global tuning: one scalar on ``A_I``, mean rate = mean target."""
        self.global_evaluations_ = 0
        target = float(self.target_rate_.mean())
        tol = 2e-4
        if self.global_search == "bisection":
            scale, ok = self._global_bisection(u, target, tol)
        else:
            scale, ok = self._global_secant(u, target, tol)
        self.converged_ = ok
        self.adapt_steps_ = u.shape[0]
        if scale is None:
            # even without inhibition the population is below its mean target
            self.inh_w_ = self.inh_w_ * 0.0
            self.inhibition_scale_ = 0.0
            self._compile()
            self.unreachable_ = self.mean_rates(u) < self.target_rate_
            return
        self.inh_w_ = self.inh_w_ * scale
        self.inhibition_scale_ = scale

    def _global_secant(self, u, target, tol, max_runs=12):
        """Secant search with a linear-response first guess and an Illinois bracket.

        One run at the drawn inhibition (scale 1) records the rates; from them the potential
        splits into a part without inhibition and the inhibitory part,
        ``v_i(t) = d_i(t) - s h_i(t)``. Holding the presynaptic rates fixed, the mean rate at
        scale ``s`` is ``mean sigmoid(c (d - s h - theta))``, solved for the target by Newton's
        method: the first guess. From then on every run is one secant step on the measured
        mean-rate curve (monotone in ``s``); once two runs bracket the target, the Illinois
        variant of regula falsi keeps the bracket and its superlinear convergence.
        """
        states = self._global_run(u, 1.0, store=True)
        fa = float(states.mean()) - target
        if abs(fa) < tol:
            return 1.0, True
        guess = self._linear_response_scale(u, states, target)
        if guess is None:  # even without inhibition the mean rate is below target
            if float(self._global_run(u, 0.0).mean()) < target:
                return None, False
            guess = 0.0
        a, b, fb = 1.0, guess, float(self._global_run(u, guess).mean()) - target
        self._search_trace = [(1.0, fa), (guess, fb)]
        lo = hi = None  # bracket: (scale, f) with f > 0 (too active) and f < 0
        for s_, f_ in ((a, fa), (b, fb)):
            if f_ > 0:
                lo = (s_, f_) if lo is None or s_ > lo[0] else lo
            else:
                hi = (s_, f_) if hi is None or s_ < hi[0] else hi
        side = 0
        for _ in range(max_runs - 2):
            if abs(fb) < tol:
                return float(b), True
            if lo is not None and hi is not None:
                (s_lo, f_lo), (s_hi, f_hi) = lo, hi
                c = (s_lo * f_hi - s_hi * f_lo) / (f_hi - f_lo)
            else:
                slope = (fb - fa) / (b - a) if b != a else -1.0
                c = b - fb / slope if slope < 0 else (2.0 * b + 0.5 if fb > 0 else 0.5 * b)
                c = max(c, 0.0)
            fc = float(self._global_run(u, c).mean()) - target
            self._search_trace.append((c, fc))
            a, fa, b, fb = b, fb, c, fc
            if fc > 0:
                if side == 1 and hi is not None:
                    hi = (hi[0], 0.5 * hi[1])
                lo, side = (c, fc), 1
            else:
                if side == -1 and lo is not None:
                    lo = (lo[0], 0.5 * lo[1])
                hi, side = (c, fc), -1
        return float(b), abs(fb) < tol

    def _global_run(self, u, scale, store=False):
        """Rates (T, n) of one run with ``A_I`` scaled by ``scale`` (or the mean rate per
        unit without storing)."""
        base = self._compiled
        W = (self.A_E_ - scale * self.A_I_).tocsr()
        W.sort_indices()
        net = Net(base.kind, W, base.w_in, base.bias, base.leak, base.gain, base.threshold)
        v0 = np.zeros((1, self.n))
        s0 = base.initial_output(v0)
        states, _, _ = simulate([net], u[None], s0, v0, self._backend())
        self.global_evaluations_ += 1
        rates = states[0].mean(axis=0)
        self._global_last = (float(scale), rates)  # the frozen rates if this scale is kept
        return states[0] if store else rates

    def _linear_response_scale(self, u, states, target):
        """The scale at which the frozen-rate surrogate meets ``target`` (None if even 0 can't)."""
        n_steps = states.shape[0]
        prev = np.vstack([self._compiled.initial_output(np.zeros((1, self.n))), states[:-1]])
        drive = (self.A_E_ @ prev.T).T
        drive = drive + u @ self.w_in_.T
        inh = (self.A_I_ @ prev.T).T
        if self.leak:
            for t in range(1, n_steps):
                drive[t] += self.leak * drive[t - 1]
                inh[t] += self.leak * inh[t - 1]
        # a guess needs no more than ~500 time points
        every = max(1, n_steps // 500)
        drive, inh = drive[::every], inh[::every]
        c, theta = float(self.gain), float(self.threshold)

        def f(s):
            r = 1.0 / (1.0 + np.exp(-c * (drive - s * inh - theta)))
            return float(r.mean()) - target, float(-(c * r * (1 - r) * inh).mean())

        lo, hi = 0.0, 1.0
        if f(0.0)[0] < 0:
            return None
        while f(hi)[0] > 0 and hi < 1e6:
            lo, hi = hi, 2.0 * hi
        s = 0.5 * (lo + hi)
        for _ in range(30):
            val, slope = f(s)
            if abs(val) < 1e-6:
                break
            if val > 0:
                lo = s
            else:
                hi = s
            step = s - val / slope if slope < 0 else None
            s = step if step is not None and lo < step < hi else 0.5 * (lo + hi)
        return s

    def _global_bisection(self, u, target, tol, iterations=40):
        """Doubling then bisection of the scalar on ``A_I`` (one run per evaluation)."""

        def mean_rate(scale):
            return float(self._global_run(u, scale).mean())

        lo, hi = 0.0, 1.0
        rate_lo = None  # the rate at lo, once known from the doubling
        while (rate_hi := mean_rate(hi)) > target and hi < 1e6:
            lo, hi, rate_lo = hi, hi * 2.0, rate_hi
        if (rate_lo if rate_lo is not None else mean_rate(lo)) < target:
            return None, False
        scale = 0.5 * (lo + hi)
        for _ in range(iterations):
            scale = 0.5 * (lo + hi)
            rate = mean_rate(scale)
            if abs(rate - target) < tol:
                return scale, True
            if rate > target:
                lo = scale
            else:
                hi = scale
        return scale, False

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

    def _mark_unreachable(self, rates):
        no_inhibition = np.all(self.inh_w_ <= 0.0, axis=1)
        self.unreachable_ = no_inhibition & (rates < self.target_rate_ - self.tolerance)
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


def _adapt_local_numpy(net: ELLNetwork, rule: LocalRule, u, v, rate_record: RateRecord):
    """The local rule as a plain numpy loop (same contract as the numba kernel)."""
    exc_idx, exc_w, inh_idx, inh_w = net.exc_idx, net.exc_w, net.inh_idx, net.inh_w
    w_in, leak, gain, threshold = net.w_in, net.leak, net.gain, net.threshold
    eta, target = rule.learning_rate, rule.target
    record_every, record, rate_sum = (
        rate_record.record_every,
        rate_record.rate_record,
        rate_record.rate_sum,
    )
    r = 1.0 / (1.0 + np.exp(-gain * (v - threshold)))
    rate_sum[:] = 0.0
    window = np.zeros_like(v)
    for t in range(u.shape[0]):
        pre = (exc_w * r[exc_idx]).sum(1) - (inh_w * r[inh_idx]).sum(1) + w_in @ u[t]
        v[:] = leak * v + pre
        r = 1.0 / (1.0 + np.exp(-gain * (v - threshold)))
        np.maximum(inh_w + (eta[t] * (r - target))[:, None], 0.0, out=inh_w)
        window += r
        rate_sum += r
        if not np.all(np.isfinite(r)):
            return t
        row = (t + 1) // record_every - 1
        if (t + 1) % record_every == 0 and row < record.shape[0]:
            record[row] = window / record_every
            window[:] = 0.0
    return -1
