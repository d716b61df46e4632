"""The simulated critical fraction of linear curl descent against the stability theory."""

import numpy as np
import pytest

from neurolearn.errors import ParameterError
from neurolearn.teacher.phase import (
    final_test_error,
    learned_boundary,
    phase_diagram,
    simulated_critical_fraction,
)
from neurolearn.teacher.theory import critical_flip_fraction_theory


def test_expanding_network_learns_with_every_input_flipped_as_the_theory_says():
    # c = 0.1 < 1/4: A stays positive definite with all inputs flipped
    assert critical_flip_fraction_theory(0.1) == 1.0
    got = simulated_critical_fraction(0.1, fractions=[0.0, 0.5, 1.0], n_total=40, epochs=300)
    assert got == 1.0


def test_compressive_network_fails_with_any_flip_as_the_theory_says():
    # c = 4 > 2/3: any flipped fraction makes A indefinite; gradient descent (0 flips) learns
    assert critical_flip_fraction_theory(4.0) == 0.0
    errors = phase_diagram([4.0], [0.0, 0.1, 0.5], n_total=40, epochs=1500)
    assert errors[0, 0] < 1e-9 and np.all(errors[1:, 0] > 1e-3)
    assert learned_boundary(errors, [0.0, 0.1, 0.5])[0] == 0.0
    got = simulated_critical_fraction(4.0, fractions=[0.5, 0.0, 0.1], n_total=40, epochs=1500)
    assert got == 0.0
    # the cells are seeded: the same cell gives the same number
    assert final_test_error(4.0, 0.1, n_total=40, epochs=1500) == errors[1, 0]


def test_learned_boundary_reads_the_first_failure_and_refuses_bad_shapes():
    errors = np.array([[1e-12, 2.0, 1e-12], [1e-9, 2.0, 0.5], [1e-3, 2.0, 1e-12]])
    out = learned_boundary(errors, [0.0, 0.5, 1.0], threshold=1e-6)
    np.testing.assert_array_equal(out[[0, 2]], [0.5, 0.0])
    assert np.isnan(out[1])
    with pytest.raises(ParameterError, match="'errors'"):
        learned_boundary(errors[:2], [0.0, 0.5, 1.0])
