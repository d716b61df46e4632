"""Werfel, Xie & Seung: learning time of GD, node and weight perturbation on a linear network."""

import numpy as np
import pytest

from neurolearn.zo.scaling import best_learning_time, learning_time, theory_constant

N_IN, N_OUT = 10, 6


@pytest.fixture(scope="module")
def times():
    out = {}
    for rule in ("gradient-descent", "node-perturbation", "weight-perturbation"):
        c = theory_constant(rule, N_IN, N_OUT)
        # the same relative grid for every rule, a factor 4 either side of 1/C
        lrs = 2.0 ** np.arange(-2, 2.01, 0.5) / c
        out[rule] = best_learning_time(
            rule, N_IN, N_OUT, lrs, n_seeds=4, seed=0, max_steps=int(25 * c), n_records=250
        )
    return out


def test_best_learning_rate_is_inside_the_grid(times):
    for res in times.values():
        assert 0 < res["best_index"] < len(res["learning_rates"]) - 1


def test_node_perturbation_is_n_outputs_times_slower_than_gd(times):
    ratio = times["node-perturbation"]["best_time"] / times["gradient-descent"]["best_time"]
    assert N_OUT / 2 <= ratio <= 2 * N_OUT
    # and close to the finite-size theory (n_out + 2)
    assert ratio == pytest.approx(N_OUT + 2, rel=0.3)


def test_weight_perturbation_is_weights_per_output_times_slower_than_np(times):
    ratio = times["weight-perturbation"]["best_time"] / times["node-perturbation"]["best_time"]
    weights_per_output = N_IN * N_OUT / N_OUT
    assert weights_per_output / 2 <= ratio <= 2 * weights_per_output
    assert ratio == pytest.approx((N_OUT * N_IN + 2) / (N_OUT + 2), rel=0.3)


def test_learning_time_at_the_optimum_matches_the_contraction_rate(times):
    # E_t = E_0 (1 - 1/C)^t at eta = 1/C: reaching 1e-2 takes about C ln 100 steps
    for rule, res in times.items():
        c = theory_constant(rule, N_IN, N_OUT)
        assert res["best_time"] == pytest.approx(c * np.log(100), rel=0.3)


def test_too_large_learning_rate_fails_to_learn():
    c = theory_constant("node-perturbation", N_IN, N_OUT)
    assert (
        learning_time("node-perturbation", N_IN, N_OUT, 4.0 / c, max_steps=2000, seed=0) == np.inf
    )
