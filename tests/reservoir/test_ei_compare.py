"""Connectivity as the paper defines it, convergence of the local rule, the comparisons."""

import numpy as np
import pytest

from neurolearn.errors import NotConvergedWarning, ParameterError
from neurolearn.reservoir import EIReservoir, compare, memory_capacity
from neurolearn.reservoir.ei import closed_form_balance, ei_in_degrees
from neurolearn.tasks import lorenz, mackey_glass

# -- connectivity ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "f_e", "k", "k_e", "k_i"),
    [
        (300, 0.8, 50, 40, 10),
        (500, 0.8, 50, 40, 10),
        (100, 0.75, 20, 15, 5),
        (200, 0.5, 30, 15, 15),
    ],
)
def test_total_in_degree_is_split_like_the_populations(n, f_e, k, k_e, k_i):
    res = EIReservoir(n=n, excitatory_fraction=f_e, in_degree=k, seed=0).initialize()
    assert (res.in_degree_exc_, res.in_degree_inh_) == (k_e, k_i)
    np.testing.assert_array_equal((res.A_E_.toarray() > 0).sum(axis=1), k_e)
    np.testing.assert_array_equal((res.A_I_.toarray() > 0).sum(axis=1), k_i)


@pytest.mark.parametrize(
    ("kw", "k_e", "k_i"), [({}, 40, 10), ({"in_degree_exc": 50, "in_degree_inh": 50}, 50, 50)]
)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_initial_balance_equals_the_closed_form(kw, k_e, k_i, seed):
    """beta = k_E mu_E - k_I mu_I with mu_E = 1/(k f_E), mu_I = (f_E/f_I) mu_E (0 for 40/10)."""
    n, f_e, cv = 300, 0.8, 0.2
    res = EIReservoir(n=n, seed=seed, **kw).initialize()
    expected = closed_form_balance(k_e, k_i, f_e)
    mu_e = 1 / ((k_e + k_i) * f_e)
    # the realised beta is a mean of n row sums of k_E + k_I weights with std cv mu_E each
    sampling_sd = np.sqrt((k_e + k_i) * (cv * mu_e) ** 2 / n)
    assert abs(res.initial_balance_ - expected) < 5 * sampling_sd
    assert res.initial_balance_ == pytest.approx(res.balance_, abs=1e-15)
    assert expected == pytest.approx(0.0 if k_e == 40 else 50 / 80 - 50 * 4 / 80, abs=1e-12)


def test_inhibitory_spread_follows_its_reference_mean():
    mu_e = 1 / 40
    for ref, sd in (("mu_E", 0.2 * mu_e), ("mu_I", 0.2 * 4 * mu_e)):
        res = EIReservoir(n=500, inh_weight_std=ref, seed=3).initialize()
        assert res.inh_w_.mean() == pytest.approx(4 * mu_e, rel=0.01)
        assert res.inh_w_.std() == pytest.approx(sd, rel=0.05)
        assert res.exc_w_.std() == pytest.approx(0.2 * mu_e, rel=0.05)


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"n": 50}, "share of 'in_degree'=50"),
        ({"n": 300, "in_degree_inh": 60}, "'in_degree_inh' parameter"),
        ({"n": 300, "in_degree_exc": 240}, "at most 239"),
        ({"n": 300, "in_degree": 2, "excitatory_fraction": 0.9}, "at least 1"),
    ],
)
def test_in_degree_larger_than_a_population_is_refused(kw, match):
    with pytest.raises(ParameterError, match=match):
        EIReservoir(**kw).initialize()


def test_cli_refuses_in_degree_that_does_not_fit_before_running(capsys):
    from neurolearn.cli import main

    assert main(["run", "ei-reservoir", "narma10", "--set", "network.n=50"]) == 2
    err = capsys.readouterr().err
    assert "in_degree" in err and "n=50" in err
    assert err.count("\n") == 1


def test_ei_in_degrees_overrides_one_share_only():
    assert ei_in_degrees(300, 0.8, 50, in_degree_inh=20) == (240, 60, 40, 20)


# -- convergence of the local rule on every task's input -----------------------------------


def _std(x):
    return (x - x.mean(0)) / x.std(0)


def _task_input(task, steps, seed):
    rng = np.random.default_rng(seed)
    if task == "memory-capacity":
        return rng.uniform(-0.8, 0.8, (steps, 1))
    if task == "narma10":
        return rng.uniform(0.0, 0.5, (steps, 1))
    if task == "mackey-glass":
        return _std(mackey_glass(steps, seed=rng))[:, None]
    return _std(lorenz(steps, dt=0.02, seed=rng))


TASK_INPUTS = ("memory-capacity", "narma10", "mackey-glass", "lorenz")


def _check_convergence(n, task, seed=0):
    u = _task_input(task, 20000, seed)
    res = EIReservoir(n=n, n_inputs=u.shape[1], seed=seed).adapt(u)
    assert res.converged_, dict(res.convergence_)
    assert res.fraction_within_ >= 0.95
    # the recorded fraction is that of the frozen weights on the input the rule used
    rates = res.mean_rates(u[: res.adapt_steps_])
    reachable = ~res.unreachable_
    within = np.abs(rates - res.target_rate_)[reachable] <= 0.05
    assert within.mean() == pytest.approx(res.fraction_within_)
    assert res.adapt_steps_ <= 20000 and res.adapt_steps_ % res.check_every == 0
    assert res.convergence_["step"][-1] == res.adapt_steps_
    assert res.convergence_["eta"][-1] == 1e-4  # converged in the last, smallest phase


@pytest.mark.parametrize("task", TASK_INPUTS)
@pytest.mark.parametrize("n", [100, 300])
def test_local_adaptation_converges_on_every_task_input(n, task):
    _check_convergence(n, task)


@pytest.mark.slow
@pytest.mark.parametrize("task", TASK_INPUTS)
@pytest.mark.parametrize("n", [500, 1000])
def test_local_adaptation_converges_on_every_task_input_large(n, task):
    _check_convergence(n, task)


def test_not_converging_is_reported():
    u = np.random.default_rng(0).uniform(-0.8, 0.8, (600, 1))
    res = EIReservoir(n=100, seed=0)
    with pytest.warns(NotConvergedWarning, match="did not converge in 600 steps"):
        res.adapt(u)
    assert not res.converged_ and res.adapt_steps_ == 600


def test_chunked_adaptation_equals_one_long_run():
    """Chunks continue one run: same weights as the equal-phase schedule in one call."""
    u = np.random.default_rng(1).uniform(-0.8, 0.8, (1200, 1))
    a = EIReservoir(n=60, in_degree=10, learning_rate=[1e-2], seed=4, check_every=100)
    b = EIReservoir(n=60, in_degree=10, learning_rate=[1e-2], seed=4, check_every=1200)
    a._ensure_initialized()
    b._ensure_initialized()
    a.criterion = b.criterion = 1.0  # never stop early: the whole input in both
    a.tolerance = b.tolerance = 1e-9
    with pytest.warns(NotConvergedWarning):
        a.adapt(u)
    with pytest.warns(NotConvergedWarning):
        b.adapt(u)
    np.testing.assert_allclose(a.inh_w_, b.inh_w_, rtol=0, atol=1e-12)
    np.testing.assert_allclose(a.rate_trajectory_, b.rate_trajectory_, atol=1e-12)


def test_adaptation_backends_agree(backend):
    u = np.random.default_rng(2).uniform(-0.8, 0.8, (300, 1))
    kw = dict(n=40, in_degree=10, seed=5, check_every=100, learning_rate=[1e-2, 1e-3])
    ref = EIReservoir(**kw).adapt(u)
    other = EIReservoir(**kw, backend=backend).adapt(u)
    assert other.adapt_steps_ == ref.adapt_steps_
    np.testing.assert_allclose(other.inh_w_, ref.inh_w_, rtol=0, atol=1e-10)


# -- robustness to the starting balance -------------------------------------------------------


def test_adaptation_from_very_different_balances_ends_at_the_same_point():
    """beta0 = -1 (over-inhibited) and +0.5 (saturated): same final beta and MC."""
    finals, mcs = [], []
    for beta0 in (-1.0, 0.5):
        res = EIReservoir(n=300, balance=beta0, seed=7)
        mc = memory_capacity(res, adapt_steps=20000, seed=11)["total"]
        finals.append(res.balance_)
        mcs.append(mc)
    assert abs(finals[0] - finals[1]) < 0.05
    assert abs(mcs[0] - mcs[1]) < 0.05 * max(mcs)


@pytest.mark.slow
def test_adaptation_improves_every_badly_balanced_fixed_reservoir():
    """Wherever a fixed reservoir is > 20% below the best fixed one, adaptation raises MC."""
    ds = compare.robustness(n=300, seeds=5, tasks=("memory-capacity",))
    mc = ds["score"].sel(task="memory-capacity").mean("seed")
    fixed, adapted = mc.sel(mode="fixed").values, mc.sel(mode="adapted").values
    bad = fixed < 0.8 * fixed.max()
    assert bad.any()  # the sweep reaches both an over-inhibited and a saturated regime
    assert np.all(adapted[bad] > fixed[bad]), (fixed, adapted)


# -- the gain and the comparisons ---------------------------------------------------------


def test_relative_gain_hand_values():
    g = compare.relative_gain
    assert g(23.0, 10.0, "higher") == pytest.approx(1.3)  # the paper's "+130%"
    assert g(10.0, 10.0, "higher") == 0.0
    assert g(5.0, 10.0, "higher") == pytest.approx(-0.5)
    assert g(0.2, 0.4, "lower") == pytest.approx(1.0)  # half the error = +100%
    assert g(0.1, 0.4, "lower") == pytest.approx(3.0)  # not capped at 100%
    assert g(0.5, 0.4, "lower") == pytest.approx(-0.2)
    np.testing.assert_allclose(g(np.array([2.0, 4.0]), 2.0, "higher"), [0.0, 1.0])
    with pytest.raises(ParameterError, match="better"):
        g(1.0, 1.0, "more")


def test_global_secant_meets_the_same_rate_as_bisection_in_fewer_runs():
    u = np.random.default_rng(3).uniform(-0.8, 0.8, (2000, 1))
    out = {}
    for search in ("secant", "bisection"):
        res = EIReservoir(n=200, adaptation="global", global_search=search, seed=2).adapt(u)
        assert res.converged_
        assert res.mean_rates(u).mean() == pytest.approx(res.target_rate_.mean(), abs=2e-4)
        out[search] = res
    assert out["secant"].inhibition_scale_ == pytest.approx(
        out["bisection"].inhibition_scale_, rel=0.02
    )
    assert out["secant"].global_evaluations_ < out["bisection"].global_evaluations_


def test_comparisons_share_networks_and_inputs():
    """Same seed and starting balance: the three comparisons score the same network on the
    same input, so their runs with the same targets agree exactly."""
    common = dict(n=60, seeds=1, tasks=("narma10",), quick=True)
    rob = compare.robustness(betas=(0.0,), **common)
    lvg = compare.local_vs_global(rhos=(0.5,), balance=0.0, **common)
    het = compare.heterogeneity(balance=0.0, **common)
    assert float(lvg["score"].sel(rule="local").squeeze()) == float(
        het["score"].sel(targets="homogeneous").squeeze()
    )
    assert float(rob["score"].sel(mode="adapted").squeeze()) == float(
        het["score"].sel(targets="heterogeneous").squeeze()
    )
    for table in (
        compare.robustness_table(rob),
        compare.local_vs_global_table(lvg),
        compare.heterogeneity_table(het),
    ):
        assert "mean +- sd" in table and "ratio of scores" in table and "N = 60" in table
