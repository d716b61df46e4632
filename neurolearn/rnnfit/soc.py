"""The stability-optimised E/I circuit (SOC) of Hennequin, Vogels & Gerstner (2014)."""

from __future__ import annotations

import warnings

import numpy as np

from neurolearn._declare import Estimator
from neurolearn._params import Interval, Options, check_param, refuse_changed, snapshot_params
from neurolearn._rng import as_generator
from neurolearn.errors import NotFittedError, ParameterError, UnreachableTargetWarning
from neurolearn.rnnfit import _declared as D
from neurolearn.rnnfit.circuit import RateCircuit

__all__ = ["SOCircuit", "spectral_abscissa", "observability_gramian", "abscissa_gradient"]


def spectral_abscissa(weights) -> float:
    """Largest real part of the eigenvalues of ``weights``.

    Examples
    --------
    >>> import numpy as np
    >>> round(spectral_abscissa(np.array([[0.0, 1.0], [-1.0, -0.5]])), 6)
    -0.25
    """
    return float(np.max(np.linalg.eigvals(np.asarray(weights, dtype=np.float64)).real))


def observability_gramian(weights):
    """Solve ``(W - I)^T Q + Q (W - I) = -2 I`` for the observability Gramian ``Q``.

    For the linear dynamics ``tau dx/dt = (W - I) x`` the activity energy evoked by an initial
    state is ``int |x(t)|^2 dt / tau = x0^T Q x0 / 2``, so the top eigenvectors of ``Q`` are the
    most amplified initial states. ``W - I`` must be stable (spectral abscissa of ``W`` < 1).

    Examples
    --------
    >>> import numpy as np
    >>> float(observability_gramian(np.zeros((2, 2)))[0, 0])   # energy of a plain leak
    1.0
    """
    from scipy.linalg import solve_continuous_lyapunov

    w = np.asarray(weights, dtype=np.float64)
    a = w - np.eye(w.shape[0])
    if spectral_abscissa(a) >= 0:
        raise ValueError(
            "observability_gramian needs stable dynamics: the spectral abscissa of 'weights' "
            f"must be < 1. Got {spectral_abscissa(w):.3f}."
        )
    q = solve_continuous_lyapunov(a.T, -2.0 * np.eye(w.shape[0]))
    return 0.5 * (q + q.T)


def abscissa_gradient(weights):
    """Spectral abscissa ``alpha`` of ``W`` and the gradient of its smoothed version.

    With ``s = max(1.5 alpha, alpha + 0.2)`` and ``A = W - s I``, the Lyapunov equations
    ``A^T Q + Q A = -2 I`` and ``A P + P A^T = -2 I`` give ``grad = Q P / tr(Q P)``. One real
    Schur form ``W = Z T Z^T`` serves all three: ``alpha`` is the largest diagonal entry of
    ``T`` (LAPACK standardises 2x2 blocks to equal diagonals) and both equations are solved in
    the Schur basis by ``trsyl``.

    Examples
    --------
    >>> import numpy as np
    >>> alpha, grad = abscissa_gradient(np.diag([0.5, -1.0]))   # s = 0.75
    >>> alpha, np.round(np.diag(grad), 6).tolist()   # (s - lambda)^-2, normalised: 16 : 1/3.0625
    (0.5, [0.98, 0.02])
    """
    from scipy.linalg import lapack, schur

    w = np.asarray(weights, dtype=np.float64)
    n = w.shape[0]
    t, z = schur(w, output="real")
    alpha = float(np.max(np.diag(t)))
    s = max(1.5 * alpha, alpha + 0.2)
    ts = t - s * np.eye(n)
    rhs = -2.0 * np.eye(n)
    q, scale_q, info_q = lapack.dtrsyl(ts, ts, rhs, trana="T", tranb="N")
    p, scale_p, info_p = lapack.dtrsyl(ts, ts, rhs, trana="N", tranb="T")
    if info_q < 0 or info_p < 0:  # pragma: no cover - argument errors only
        raise RuntimeError("LAPACK trsyl failed")
    qp = (q / scale_q) @ (p / scale_p)
    grad = z @ qp @ z.T / np.trace(qp)
    return alpha, grad


class SOCircuit(Estimator):
    """Stability-optimised E/I rate circuit (Hennequin, Vogels & Gerstner 2014).

    A sparse random network with Dale's law (first ``excitatory_fraction`` of the neurons
    excitatory) starts strongly unstable (bulk radius ``radius``); gradient descent on the
    inhibitory weights alone lowers a smoothed spectral abscissa until the abscissa reaches
    ``target_abscissa``. The result is stable yet strongly non-normal: initial states along the
    top eigenvectors of its observability Gramian evoke large, rotational transients.

    Parameters
    ----------
    {parameters}

    ``tau_ms`` and the rate range only shape :meth:`circuit` and take effect there at once; the
    other parameters define the optimised weights, so after a change :meth:`circuit` and
    :meth:`amplified_states` raise until :meth:`initialize` is called again.

    Attributes
    ----------
    initial_weights_ : ndarray (N, N)
    weights_ : ndarray (N, N)
        The optimised weights.
    abscissa_history_ : ndarray
        Spectral abscissa before each step (and after the last).
    converged_ : bool
    n_iter_ : int

    Notes
    -----
    With ``A = W - s I`` and the smoothed abscissa ``s = max(1.5 alpha, alpha + 0.2)``, the
    Lyapunov equations ``A^T Q + Q A = -2 I`` and ``A P + P A^T = -2 I`` give the gradient of
    ``s`` with respect to ``W`` as ``Q P / tr(Q P)`` (Vanbiervliet et al. 2009). Inhibitory
    columns step down that gradient, positive inhibitory weights are clipped to zero and the
    inhibitory weights are rescaled to keep total inhibition ``gamma`` times total excitation.

    Examples
    --------
    >>> soc = SOCircuit(n=40, seed=0).initialize()
    >>> bool(soc.converged_), spectral_abscissa(soc.weights_) <= 0.15
    (True, True)
    """

    params = D.SOC_PARAMS

    def _validate(self):
        values = self._check_params()
        if values["max_rate_hz"] <= values["baseline_rate_hz"]:
            raise ParameterError(
                "The 'max_rate_hz' parameter of SOCircuit must exceed baseline_rate_hz "
                f"({self.baseline_rate_hz}). Got {self.max_rate_hz} instead."
            )

    @property
    def _structural(self) -> tuple[str, ...]:
        """The parameters the optimised weights depend on."""
        return tuple(name for name, p in self._declared.items() if not p.runtime)

    @property
    def n_excitatory(self) -> int:
        """Number of excitatory neurons (the first ones)."""
        return int(round(self.excitatory_fraction * self.n))

    def initial_connectivity(self, rng) -> np.ndarray:
        """The random, unstable starting matrix (Dale's law, density ``p``, no autapses)."""
        n, p, gamma = self.n, self.density, self.inhibition_ratio
        w0 = np.sqrt(2.0) * self.radius / np.sqrt(p * (1.0 - p) * (1.0 + gamma**2))
        mask = rng.random((n, n)) < p
        np.fill_diagonal(mask, False)
        w = np.zeros((n, n))
        ne = self.n_excitatory
        w[:, :ne] = w0 / np.sqrt(n)
        w[:, ne:] = -gamma * w0 / np.sqrt(n)
        return w * mask

    def initialize(self) -> SOCircuit:
        """Draw the initial network and optimise its inhibition; returns ``self``.

        Examples
        --------
        >>> SOCircuit(n=20, seed=0).initialize().weights_.shape
        (20, 20)
        """
        self._validate()
        self._built_params_ = snapshot_params(self, self._structural)
        rng = as_generator(self.seed, "SOCircuit")
        w = self.initial_connectivity(rng)
        self.initial_weights_ = w.copy()
        ne, n = self.n_excitatory, self.n
        total_inh = -w[:, ne:].sum()
        offdiag = ~np.eye(n, dtype=bool)[:, ne:]
        history = []
        self.converged_ = False
        it = 0
        for it in range(self.max_iter + 1):
            alpha, grad = abscissa_gradient(w)
            history.append(alpha)
            if alpha <= self.target_abscissa:
                self.converged_ = True
                break
            if it == self.max_iter:
                break
            inh = w[:, ne:] - self.learning_rate * grad[:, ne:]
            inh = np.minimum(inh, 0.0) * offdiag
            w[:, ne:] = inh * (total_inh / max(-inh.sum(), 1e-300))
        self.n_iter_ = it
        self.weights_ = w
        self.abscissa_history_ = np.asarray(history)
        if not self.converged_:
            warnings.warn(
                f"SOCircuit: spectral abscissa {history[-1]:.3f} after {self.max_iter} steps, "
                f"above target_abscissa={self.target_abscissa}. Raise max_iter or learning_rate.",
                UnreachableTargetWarning,
                stacklevel=2,
            )
        return self

    def build(self) -> SOCircuit:
        """Deprecated alias of :meth:`initialize` (the one setup verb of every model).

        Examples
        --------
        >>> import warnings
        >>> with warnings.catch_warnings():
        ...     warnings.simplefilter("ignore", DeprecationWarning)
        ...     SOCircuit(n=20, seed=0).build().weights_.shape
        (20, 20)
        """
        warnings.warn(
            "SOCircuit.build() is deprecated; call initialize() instead.",
            DeprecationWarning,
            stacklevel=2,
        )
        return self.initialize()

    def _fitted(self):
        if not hasattr(self, "weights_"):
            raise NotFittedError("SOCircuit is not initialized yet; call initialize() first.")
        self._validate()
        refuse_changed(
            "SOCircuit",
            getattr(self, "_built_params_", {}),
            self,
            self._structural,
            "after initialize(); call initialize() again to optimise a network with the new value.",
        )

    def circuit(self, readout=None) -> RateCircuit:
        """The optimised network as a :class:`RateCircuit` (optionally with a readout)."""
        self._fitted()
        return RateCircuit(
            weights=self.weights_,
            readout=readout,
            tau_ms=self.tau_ms,
            gain="soc",
            baseline_rate_hz=self.baseline_rate_hz,
            max_rate_hz=self.max_rate_hz,
        )

    def amplified_states(self, k: int):
        """The ``k`` most amplified unit-norm initial states and their evoked energies.

        Returns
        -------
        states : ndarray (k, N)
            Top eigenvectors of the observability Gramian of ``W - I``.
        energies : ndarray (k,)
            ``int |x(t)|^2 dt / tau`` evoked by each (a plain leak gives 0.5).
        """
        self._fitted()
        k = check_param("SOCircuit", "k", k, Interval(int, 1, self.n))
        q = observability_gramian(self.weights_)
        vals, vecs = np.linalg.eigh(q)
        order = np.argsort(vals)[::-1][:k]
        states = vecs[:, order].T.copy()
        # a fixed sign convention keeps conditions reproducible across LAPACK builds
        signs = np.sign(states[np.arange(k), np.argmax(np.abs(states), axis=1)])
        return states * signs[:, None], 0.5 * vals[order]


def condition_layout(kind: str, n_conditions: int, offset: float = 0.0):
    """Mode coefficients of each condition: ``(C, K)``.

    ``"ring"``: points ``(cos theta, sin theta)`` on the circle through the top two modes;
    ``"modes"``: one top mode per condition (one-hot).
    """
    check_param("condition_layout", "kind", kind, Options(("ring", "modes")))
    if kind == "ring":
        theta = 2 * np.pi * (np.arange(n_conditions) + offset) / n_conditions
        return np.stack([np.cos(theta), np.sin(theta)], axis=1), theta
    return np.eye(n_conditions), np.arange(n_conditions, dtype=float)
