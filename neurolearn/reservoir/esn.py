"""The classic tanh echo-state network."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from neurolearn._params import check_array, init_param_names, snapshot_params
from neurolearn._rng import as_generator
from neurolearn.errors import ParameterError
from neurolearn.reservoir import _declared as D
from neurolearn.reservoir._base import ReservoirBase
from neurolearn.reservoir._engine import KIND_ESN, Net

__all__ = ["ESN", "spectral_radius"]


def spectral_radius(W) -> float:
    """Largest eigenvalue modulus of a (sparse or dense) square matrix.

    Examples
    --------
    >>> float(round(spectral_radius(np.array([[0.0, 2.0], [0.5, 0.0]])), 12))
    1.0
    """
    n = W.shape[0]
    if n <= 1500:
        dense = W.toarray() if sp.issparse(W) else np.asarray(W)
        return float(np.max(np.abs(np.linalg.eigvals(dense))))
    from scipy.sparse.linalg import eigs

    vals = eigs(sp.csr_matrix(W), k=1, which="LM", return_eigenvectors=False, tol=1e-8)
    return float(np.abs(vals[0]))


class ESN(ReservoirBase):
    r"""Leaky tanh echo-state network (Jaeger 2001), as in the reservoir-computing literature.

    Parameters
    ----------
    {parameters}

    Parameters are validated on every use. ``leak``, ``backend`` and ``device`` take effect on
    the next run with the same weights; a change of any other parameter (``n``, ``n_inputs``,
    ``spectral_radius``, ``density``, the input and bias parameters, ``seed``) redraws the
    weights on the next run, so with an int ``seed`` the model then equals a new one built
    with the new values.
    A reservoir made by :meth:`from_weights` refuses such a change.

    Attributes
    ----------
    W_ : scipy.sparse.csr_matrix of shape (n, n)
    w_in_ : ndarray of shape (n, n_inputs)
    bias_ : ndarray of shape (n,)
    ip_gain_ : ndarray of shape (n,)
        The factor intrinsic plasticity applied to each unit's incoming weights (1 otherwise).
    last_state_ : tuple (state, potential) where the last run ended

    Notes
    -----
    .. math:: x(t) = (1 - a)\, x(t-1) + a \tanh(W x(t-1) + W_{in} u(t) + b)

    Examples
    --------
    >>> esn = ESN(n=50, spectral_radius=0.9, seed=0)
    >>> esn.run(np.zeros((10, 1))).shape
    (10, 50)
    """

    params = D.ESN_PARAMS

    def _validate(self):
        self._check_params()

    def _build(self):
        rng_w, rng_in, rng_b = as_generator(self.seed, "ESN").spawn(3)
        n = self.n
        mask = rng_w.random((n, n)) < self.density
        values = rng_w.standard_normal((n, n))
        W = sp.csr_matrix(np.where(mask, values, 0.0))
        radius = spectral_radius(W) if W.nnz else 0.0
        if radius > 0:
            W = W * (self.spectral_radius / radius)
        in_mask = rng_in.random((n, self.n_inputs)) < self.input_density
        if self.input_distribution == "bernoulli":
            signs = rng_in.integers(0, 2, (n, self.n_inputs)) * 2.0 - 1.0
        else:
            signs = rng_in.uniform(-1, 1, (n, self.n_inputs))
        w_in = signs * self.input_scaling * in_mask
        bias = rng_b.uniform(-1, 1, n) * self.bias_scaling
        self._set_weights(W, w_in, bias)

    def adapt(self, u):
        """Intrinsic plasticity on input ``u (T, n_inputs)`` when ``adaptation='intrinsic'``.

        Each unit's gain ``a_i`` and bias ``b_i`` on its drive adapt by the rule of Schrauwen
        et al. (2008) so that its output ``tanh(a_i x_i + b_i)`` approaches
        ``N(ip_target_mean, ip_target_std**2)``; they are then folded into the weights (row
        ``i`` of ``W`` and ``W_in`` times ``a_i``, ``bias_i <- a_i bias_i + b_i``) and frozen.
        With ``adaptation='none'`` the reservoir is left as drawn. Returns self.

        Examples
        --------
        >>> esn = ESN(n=50, adaptation="intrinsic", seed=0)
        >>> u = np.random.default_rng(0).uniform(-1, 1, (2000, 1))
        >>> esn.adapt(u).ip_gain_.shape
        (50,)
        """
        self._ensure_initialized()
        u = self._check_input(u)
        if u.ndim != 2:
            raise ParameterError("ESN.adapt takes one input sequence of shape (T, d).")
        self._check_params()
        if self.adaptation == "none":
            return self
        a, b = self._intrinsic_plasticity(u, self.ip_target_mean, self.ip_target_std)
        scale = sp.diags(a)
        self.W_ = sp.csr_matrix(scale @ self.W_)
        self.w_in_ = self.w_in_ * a[:, None]
        self.bias_ = a * self.bias_ + b
        self.ip_gain_ = self.ip_gain_ * a
        self.adapt_steps_ = u.shape[0]
        self._compile()
        self.last_state_ = None
        return self

    def _set_weights(self, W, w_in, bias):
        self.W_ = sp.csr_matrix(W, dtype=np.float64)
        self.w_in_ = np.ascontiguousarray(w_in, dtype=np.float64)
        self.bias_ = np.ascontiguousarray(bias, dtype=np.float64)
        self.ip_gain_ = np.ones(self.W_.shape[0])
        self.adapt_steps_ = 0
        self._compile()

    def _compile(self):
        n = self.W_.shape[0]
        leak = np.full(n, float(self.leak))
        self._compiled = Net(KIND_ESN, self.W_, self.w_in_, self.bias_, leak)

    def _net(self) -> Net:
        return self._compiled

    @classmethod
    def from_weights(
        cls, W, w_in, bias=None, *, leak=1.0, backend=None, device=None, dtype="float64"
    ) -> ESN:
        """An ESN with the given weights (e.g. to compare with another library's reservoir).

        Examples
        --------
        >>> esn = ESN.from_weights(np.eye(3) * 0.5, np.ones((3, 1)))
        >>> esn.run(np.ones((2, 1)))[1].round(4).tolist()
        [0.8811, 0.8811, 0.8811]
        """
        if sp.issparse(W):
            W = sp.csr_matrix(W)
            check_array("ESN", "W", W.data)  # real and finite, without densifying
            W = sp.csr_matrix(W, dtype=np.float64)
        else:
            W = sp.csr_matrix(check_array("ESN", "W", W, ndim=2))
        n = W.shape[0]
        if W.shape != (n, n):
            raise ParameterError(
                "The 'W' parameter of ESN.from_weights must be square. "
                f"Got shape {W.shape} instead."
            )
        w_in = check_array("ESN", "w_in", w_in, ndim=2, shape=(n, None), shape_doc=f"({n}, d)")
        bias = (
            np.zeros(n)
            if bias is None
            else check_array("ESN", "bias", np.ravel(bias), ndim=1, shape=(n,), shape_doc=f"({n},)")
        )
        esn = cls(
            n=n, n_inputs=w_in.shape[1], leak=leak, backend=backend, device=device, dtype=dtype
        )
        esn._validate()
        esn._set_weights(W, w_in, bias)
        esn.last_state_ = None
        esn._weights_given_ = True
        esn._built_params_ = snapshot_params(esn, init_param_names(esn))
        return esn
