"""The E/I reservoir: Dale's law, balance, local/global/row adaptation, errors."""

import warnings

import numpy as np
import pytest

from neurolearn.errors import UnreachableTargetWarning
from neurolearn.reservoir import EIReservoir


def test_dale_law_and_fixed_in_degree():
    res = EIReservoir(n=100, in_degree_exc=20, in_degree_inh=10, seed=0).initialize()
    n_e = res.n_excitatory_
    assert n_e == 80
    A_E, A_I = res.A_E_.toarray(), res.A_I_.toarray()
    assert A_E.min() >= 0 and A_I.min() >= 0
    assert np.all(A_E[:, n_e:] == 0) and np.all(A_I[:, :n_e] == 0)  # E from E, I from I
    np.testing.assert_array_equal((A_E > 0).sum(axis=1), 20)
    np.testing.assert_array_equal((A_I > 0).sum(axis=1), 10)
    assert np.all(np.diag(A_E) == 0) and np.all(np.diag(A_I) == 0)
    # weight scale of the paper: mu_E = 1 / (k f_E) with k = k_E + k_I, mu_I = (f_E / f_I) mu_E
    mu_e = 1 / (30 * 0.8)
    assert res.exc_w_.mean() == pytest.approx(mu_e, rel=0.05)
    assert res.inh_w_.mean() == pytest.approx(4 * mu_e, rel=0.05)
    assert (res.w_in_[:, 0] != 0).sum() == 30


def test_balance_parameter_sets_beta():
    for beta in (-0.5, 0.0, 0.3):
        res = EIReservoir(n=120, in_degree_exc=15, in_degree_inh=15, balance=beta, seed=1)
        assert res.initialize().balance_ == pytest.approx(beta, abs=1e-12)


@pytest.fixture(scope="module")
def adaptation_input():
    return np.random.default_rng(5).uniform(-0.8, 0.8, (3000, 1))


def test_local_adaptation_reaches_heterogeneous_targets(adaptation_input):
    res = EIReservoir(
        n=200,
        in_degree_exc=20,
        in_degree_inh=20,
        seed=2,
        target_rate={"dist": "beta", "a": 2, "b": 2},
    )
    res.adapt(adaptation_input)
    report = res.target_report(adaptation_input)
    assert report["fraction_within"] >= 0.95, report
    # the recorded trajectory starts far from the targets and ends near them
    first = np.abs(res.rate_trajectory_[0] - res.target_rate_).mean()
    last = np.abs(res.rate_trajectory_[-1] - res.target_rate_).mean()
    assert last < 0.5 * first
    # the rule stopped once converged: the trajectory covers the steps it used
    assert res.converged_ and res.adapt_steps_ < 3000
    assert res.rate_trajectory_.shape == (res.adapt_steps_ // 10, 200)


def test_global_tuning_meets_only_the_population_mean(adaptation_input):
    res = EIReservoir(
        n=200,
        in_degree_exc=20,
        in_degree_inh=20,
        seed=2,
        adaptation="global",
        target_rate={"dist": "beta", "a": 2, "b": 2},
    )
    res.adapt(adaptation_input)
    report = res.target_report(adaptation_input)
    assert report["mean_rate"] == pytest.approx(report["mean_target"], abs=0.01)
    assert report["fraction_within"] < 0.5, report


def test_homogeneous_targets(adaptation_input):
    res = EIReservoir(n=150, in_degree_exc=15, in_degree_inh=15, seed=3, target_rate=0.3)
    res.adapt(adaptation_input)
    rates = res.adapted_rates_
    assert np.mean(np.abs(rates - 0.3) <= 0.05) >= 0.95


def test_homogeneous_low_target_hits_the_period_two_floor(adaptation_input):
    """With leak 0 and threshold 0, strong uniform inhibition makes the network alternate
    between silence and r = sigmoid(0) = 1/2: the time-averaged rate cannot go below ~1/4,
    so a homogeneous target of 0.1 is missed and inhibition grows without bound."""
    res = EIReservoir(n=150, in_degree_exc=15, in_degree_inh=15, seed=3, target_rate=0.1)
    res.adapt(adaptation_input)
    assert res.adapted_rates_.mean() == pytest.approx(0.25, abs=0.01)
    pop = res.run(adaptation_input[:100]).mean(axis=1)
    assert np.all(np.abs(pop[-20:] - np.tile([0.0, 0.5], 10)) < 0.02) or np.all(
        np.abs(pop[-20:] - np.tile([0.5, 0.0], 10)) < 0.02
    )
    assert res.balance_ < -10  # far more inhibition than the network started with


def test_row_rescaling_makes_targets_a_fixed_point():
    """Under constant (mean) input, r = rho is an exact fixed point after row rescaling:
    this pins the sign of the solved scale omega."""
    res = EIReservoir(
        n=100,
        in_degree_exc=10,
        in_degree_inh=10,
        seed=4,
        leak=0.3,
        adaptation="row-rescale",
        target_rate=0.3,
    )
    u = np.full((50, 1), 0.2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnreachableTargetWarning)
        res.adapt(u)
    ok = ~res.unreachable_
    assert ok.mean() > 0.8
    rho = res.target_rate_
    W = (res.A_E_ - res.A_I_).toarray()
    v_star = (W @ rho + res.w_in_[:, 0] * 0.2) / (1 - 0.3)
    nxt = 1 / (1 + np.exp(-10 * (0.3 * v_star + W @ rho + res.w_in_[:, 0] * 0.2)))
    np.testing.assert_allclose(nxt[ok], rho[ok], atol=1e-12)
    # a unit above target needs more inhibition: omega grows as its target drops
    high = EIReservoir(
        n=100,
        in_degree_exc=10,
        in_degree_inh=10,
        seed=4,
        leak=0.3,
        adaptation="row-rescale",
        target_rate=0.6,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnreachableTargetWarning)
        high.adapt(u)
    both = ok & ~high.unreachable_
    assert np.all(res.row_scale_[both] > high.row_scale_[both])


def test_unreachable_units_are_counted_and_reported():
    """Targets near 1 with weak excitation: inhibition hits zero and the units are flagged."""
    res = EIReservoir(
        n=100,
        in_degree_exc=10,
        in_degree_inh=10,
        seed=5,
        threshold=0.5,
        target_rate=0.97,
        learning_rate=0.05,
    )
    u = np.random.default_rng(0).uniform(-0.8, 0.8, (2000, 1))
    with pytest.warns(UnreachableTargetWarning, match="cannot reach"):
        res.adapt(u)
    report = res.target_report(u)
    assert report["n_unreachable"] > 0
    assert np.all(res.inh_w_[res.unreachable_] == 0)


def test_adaptation_is_deterministic(adaptation_input):
    a = EIReservoir(n=80, in_degree_exc=8, in_degree_inh=8, seed=9).adapt(adaptation_input[:500])
    b = EIReservoir(n=80, in_degree_exc=8, in_degree_inh=8, seed=9).adapt(adaptation_input[:500])
    np.testing.assert_array_equal(a.inh_w_, b.inh_w_)
    np.testing.assert_array_equal(a.run(adaptation_input[:50]), b.run(adaptation_input[:50]))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"n": 0}, "'n' parameter of EIReservoir must be an int >= 2"),
        ({"excitatory_fraction": 1.0}, r"'excitatory_fraction' .* in \(0, 1\)"),
        ({"input_fraction": 0.0}, "'input_fraction'"),
        ({"target_rate": 1.2}, "'target_rate' .* in \\(0, 1\\)"),
        ({"target_rate": {"dist": "beta", "a": -1, "b": 2}}, "'target_rate' .* distribution"),
        ({"learning_rate": -1.0}, "'learning_rate'"),
        ({"in_degree_exc": 500}, "'in_degree_exc' .* at most"),
        ({"adaptation": "hebbian"}, "'adaptation'"),
        ({"leak": 1.0}, "'leak'"),
    ],
)
def test_bad_parameters(kwargs, match):
    params = dict(n=50, in_degree_exc=5, in_degree_inh=5)
    params.update(kwargs)
    with pytest.raises(ValueError, match=match):
        EIReservoir(**params).run(np.zeros((3, 1)))


def test_bad_input():
    res = EIReservoir(n=50, in_degree_exc=5, in_degree_inh=5, seed=0)
    with pytest.raises(ValueError, match="finite"):
        res.adapt(np.array([[0.1], [np.inf]]))
    with pytest.raises(ValueError, match=r"shape \(T, 1\)"):
        res.run(np.zeros((4, 2)))
