"""Shared builders for the spiking tests."""

from __future__ import annotations

import numpy as np
import pytest

from neurolearn.spiking import Connectivity


def feedforward_connectivity(n_exc: int, n_inh: int, prob: float, seed: int,
                             w_exc: float = 0.05, w_inh: float = 0.2) -> Connectivity:
    """Layer 1 (first half of E and of I) projects to layer 2 (the rest); no other synapses."""
    rng = np.random.default_rng(seed)
    n = n_exc + n_inh
    layer1 = np.r_[np.arange(n_exc // 2), np.arange(n_exc, n_exc + n_inh // 2)]
    layer2 = np.setdiff1d(np.arange(n), layer1)
    pi, qi = np.nonzero(rng.random((len(layer1), len(layer2))) < prob)
    pre, post = layer1[pi], layer2[qi]
    weight = np.where(pre < n_exc, w_exc, w_inh)
    return Connectivity.from_arrays(n_exc, n_inh, pre=pre, post=post, weight=weight)


@pytest.fixture
def ff_connectivity():
    return feedforward_connectivity(40, 10, 0.3, seed=0)
