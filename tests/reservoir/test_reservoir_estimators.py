"""Every public model of the reservoir family passes the shared API checks."""

import numpy as np
import pytest

from neurolearn.reservoir import ESN, EIReservoir, Readout
from tests.estimator_checks import Case, check_estimator

U = np.random.default_rng(0).uniform(-1, 1, (300, 1))
X = np.random.default_rng(1).normal(size=(200, 6))
Y = X @ np.arange(6.0)[:, None] + np.random.default_rng(2).normal(0, 0.1, (200, 1))


def _adapted_states(res):
    return res.adapt(U[:200]).run(U[200:])


CASES = [
    Case(
        ESN,
        dict(n=30, spectral_radius=0.9, seed=0),
        lambda m: m.run(U),
        bad=("leak", 1.5),
        structural=("spectral_radius", 0.5),
        runtime=("leak", 0.3),
    ),
    Case(
        EIReservoir,
        dict(n=40, in_degree=10, target_rate=0.3, check_every=50, seed=0),
        _adapted_states,
        bad=("excitatory_fraction", 1.0),
        structural=("input_scaling", 0.5),
        runtime=("gain", 5.0),
    ),
    Case(
        Readout,
        dict(ridge=1e-3, washout=5),
        lambda m: m.fit(X, Y).predict(X),
        bad=("ridge", -1.0),
        runtime=("ridge", 10.0),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_reservoir_models_pass_the_estimator_checks(case):
    check_estimator(case)
