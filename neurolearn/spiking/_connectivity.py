"""Synaptic connectivity built once by us and handed to every engine."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from neurolearn._params import check_array
from neurolearn.errors import ParameterError

__all__ = ["Connectivity", "random_connectivity"]


@dataclass(frozen=True)
class Connectivity:
    """A list of synapses sorted by (pre, post), for ``n_exc + n_inh`` neurons.

    Neurons ``0 .. n_exc-1`` are excitatory, ``n_exc .. n-1`` inhibitory (Dale's law: the sign of
    a synapse is that of its pre-synaptic neuron; weights are non-negative magnitudes).

    Attributes
    ----------
    n_exc, n_inh : int
        Population sizes.
    pre, post : ndarray of int64, shape (S,)
        Pre- and post-synaptic neuron of each synapse.
    weight : ndarray of float64, shape (S,)
        Initial weight magnitudes (conductance in units of the leak conductance, or mV for
        current-based synapses).

    Examples
    --------
    >>> c = Connectivity.from_arrays(2, 1, pre=[2, 0], post=[0, 1], weight=[0.5, 0.1])
    >>> c.pre.tolist(), c.n_synapses
    ([0, 2], 2)
    """

    n_exc: int
    n_inh: int
    pre: np.ndarray
    post: np.ndarray
    weight: np.ndarray

    @property
    def n(self) -> int:
        """Total number of neurons."""
        return self.n_exc + self.n_inh

    @property
    def n_synapses(self) -> int:
        """Number of synapses."""
        return int(self.pre.shape[0])

    @classmethod
    def from_arrays(cls, n_exc: int, n_inh: int, *, pre, post, weight) -> Connectivity:
        """Validate synapse arrays and sort them by (pre, post)."""
        owner = "Connectivity"
        pre = check_array(owner, "pre", pre, ndim=1, dtype=np.int64)
        post = check_array(owner, "post", post, ndim=1, dtype=np.int64)
        weight = check_array(owner, "weight", weight, ndim=1)
        n = n_exc + n_inh
        if not (pre.shape == post.shape == weight.shape):
            raise ParameterError(
                f"The 'pre', 'post' and 'weight' parameters of {owner} must have the same shape. "
                f"Got {pre.shape}, {post.shape} and {weight.shape} instead."
            )
        for name, arr in (("pre", pre), ("post", post)):
            if arr.size and (arr.min() < 0 or arr.max() >= n):
                raise ParameterError(
                    f"The '{name}' parameter of {owner} must hold neuron indices in [0, {n}). "
                    f"Got values in [{arr.min()}, {arr.max()}] instead."
                )
        if weight.size and weight.min() < 0:
            raise ParameterError(
                f"The 'weight' parameter of {owner} must be >= 0 (the sign comes from the "
                f"pre-synaptic population). Got a minimum of {weight.min()} instead."
            )
        order = np.lexsort((post, pre))
        return cls(
            n_exc=int(n_exc),
            n_inh=int(n_inh),
            pre=pre[order],
            post=post[order],
            weight=weight[order].copy(),
        )

    def indptr(self) -> np.ndarray:
        """CSR row pointer over pre-synaptic neurons, shape (n + 1,)."""
        return np.searchsorted(self.pre, np.arange(self.n + 1)).astype(np.int64)

    def inhibitory_to_excitatory(self) -> np.ndarray:
        """Boolean mask of the I -> E synapses (the ones inhibitory plasticity acts on)."""
        return (self.pre >= self.n_exc) & (self.post < self.n_exc)

    def to_dense(self) -> np.ndarray:
        """Signed dense matrix ``W[post, pre]`` (inhibition negative), for small networks."""
        dense = np.zeros((self.n, self.n))
        sign = np.where(self.pre < self.n_exc, 1.0, -1.0)
        np.add.at(dense, (self.post, self.pre), sign * self.weight)
        return dense


def random_connectivity(
    n_exc: int,
    n_inh: int,
    connection_prob: float,
    *,
    w_exc: float,
    w_inh: float,
    w_inh_exc: float,
    rng: np.random.Generator,
) -> Connectivity:
    """Erdős–Rényi connectivity without autapses: each ordered pair connects with probability p.

    E -> E and E -> I synapses get ``w_exc``, I -> I synapses ``w_inh`` and I -> E synapses
    ``w_inh_exc`` (the plastic ones).

    Examples
    --------
    >>> c = random_connectivity(80, 20, 0.1, w_exc=0.1, w_inh=1.0, w_inh_exc=0.5,
    ...                         rng=np.random.default_rng(0))
    >>> 700 < c.n_synapses < 1300, bool((c.pre != c.post).all())
    (True, True)
    """
    n = n_exc + n_inh
    pres, posts = [], []
    block = 512  # rows of the [pre, post] mask drawn at a time, to bound memory
    for start in range(0, n, block):
        rows = min(block, n - start)
        mask = rng.random((rows, n)) < connection_prob
        mask[np.arange(rows), start + np.arange(rows)] = False
        p_idx, q_idx = np.nonzero(mask)
        pres.append(p_idx + start)
        posts.append(q_idx)
    pre, post = np.concatenate(pres), np.concatenate(posts)
    weight = np.where(pre < n_exc, w_exc, np.where(post < n_exc, w_inh_exc, w_inh)).astype(
        np.float64
    )
    return Connectivity.from_arrays(n_exc, n_inh, pre=pre, post=post, weight=weight)
