"""The stability-optimised circuit: target abscissa, Dale's law, amplification, kernels."""

import numpy as np
import pytest
import reference_rnnfit as ref

from neurolearn.errors import ParameterError, UnreachableTargetWarning
from neurolearn.rnnfit import RateCircuit, SOCircuit
from neurolearn.rnnfit.circuit import gain, gain_slope
from neurolearn.rnnfit.conditions import reach_conditions
from neurolearn.rnnfit.soc import observability_gramian, spectral_abscissa


@pytest.fixture(scope="module")
def soc():
    return SOCircuit(n=60, seed=3).initialize()


def test_reaches_target_abscissa_from_strongly_unstable_start(soc):
    assert soc.converged_
    assert spectral_abscissa(soc.initial_weights_) > 4.0
    assert spectral_abscissa(soc.weights_) <= soc.target_abscissa
    assert soc.abscissa_history_[-1] == pytest.approx(spectral_abscissa(soc.weights_))


def test_dales_law_sparsity_and_balance(soc):
    w, ne = soc.weights_, soc.n_excitatory
    assert ne == 30
    assert np.all(w[:, :ne] >= 0) and np.all(w[:, ne:] <= 0)
    assert np.all(np.diag(w) == 0)
    # excitation untouched, total inhibition kept at its initial ratio to excitation
    np.testing.assert_array_equal(w[:, :ne], soc.initial_weights_[:, :ne])
    ratio0 = -soc.initial_weights_[:, ne:].sum() / soc.initial_weights_[:, :ne].sum()
    assert -w[:, ne:].sum() / w[:, :ne].sum() == pytest.approx(ratio0, rel=1e-10)
    assert ratio0 == pytest.approx(soc.inhibition_ratio, rel=0.3)


def test_initial_weight_scale_matches_formula():
    s = SOCircuit(n=400, seed=0)
    w = s.initial_connectivity(np.random.default_rng(0))
    w0 = np.sqrt(2) * 10 / np.sqrt(0.1 * 0.9 * (1 + 9))
    assert w[:, :200].max() == pytest.approx(w0 / 20)
    assert w[:, 200:].min() == pytest.approx(-3 * w0 / 20)
    assert np.mean(w != 0) == pytest.approx(0.1 * (1 - 1 / 400), abs=0.01)


def test_transient_amplification_from_amplified_states(soc):
    states, energies = soc.amplified_states(3)
    assert energies[0] > 5 * 0.5  # far above a plain leak's 0.5
    assert np.all(np.diff(energies) <= 0)
    c = soc.circuit()
    x = c.simulate(np.zeros((3, c.n)), np.zeros(400), dt_ms=2.0, initial_state=0.5 * states)
    norm = np.linalg.norm(x, axis=2)
    peak = norm.argmax(axis=1)
    assert np.all(peak > 0)
    assert np.all(norm.max(axis=1) > 1.5 * norm[:, 0])  # the norm rises first ...
    assert np.all(norm[:, -1] < norm[:, 0])  # ... then decays


def test_evoked_energy_matches_gramian_in_linear_regime(soc):
    """x0' Q x0 / 2 is the energy of the linearised dynamics (closed form vs simulation)."""
    states, energies = soc.amplified_states(2)
    q = observability_gramian(soc.weights_)
    assert states[0] @ q @ states[0] / 2 == pytest.approx(energies[0])
    from scipy.linalg import solve_discrete_lyapunov

    c = soc.circuit()
    dt = 1.0
    x = c.simulate(np.zeros((1, c.n)), np.zeros(3000), dt_ms=dt, initial_state=1e-4 * states[:1])
    energy = np.sum(np.linalg.norm(x[0] / 1e-4, axis=1) ** 2) * dt / c.tau_ms
    # exact for the Euler map A = I + dt/tau (W - I): sum_k |A^k x0|^2 = x0' Qd x0
    a = np.eye(c.n) + dt / c.tau_ms * (soc.weights_ - np.eye(c.n))
    qd = solve_discrete_lyapunov(a.T, np.eye(c.n))
    assert energy == pytest.approx(states[0] @ qd @ states[0] * dt / c.tau_ms, rel=1e-6)
    # and the continuous-time Gramian as the step shrinks (Euler error is O(dt))
    dt = 0.25
    x = c.simulate(np.zeros((1, c.n)), np.zeros(12000), dt_ms=dt, initial_state=1e-4 * states[:1])
    energy_fine = np.sum(np.linalg.norm(x[0] / 1e-4, axis=1) ** 2) * dt / c.tau_ms
    assert abs(energy_fine - energies[0]) < abs(energy - energies[0]) / 3
    assert energy_fine == pytest.approx(energies[0], rel=0.015)


def test_gramian_rejects_unstable():
    with pytest.raises(ValueError, match="stable"):
        observability_gramian(2.0 * np.eye(3))


def test_seeded_determinism():
    a = SOCircuit(n=20, seed=7).initialize().weights_
    b = SOCircuit(n=20, seed=7).initialize().weights_
    c = SOCircuit(n=20, seed=8).initialize().weights_
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_unreachable_target_warns():
    with pytest.warns(UnreachableTargetWarning):
        s = SOCircuit(n=20, max_iter=1, seed=0).initialize()
    assert not s.converged_


def test_bad_parameters():
    with pytest.raises(ParameterError, match="'density' parameter of SOCircuit"):
        SOCircuit(density=1.5).initialize()
    with pytest.raises(ParameterError, match="dt_ms"):
        RateCircuit(weights=np.zeros((2, 2)), tau_ms=10).simulate(
            np.zeros((1, 2)), np.ones(3), dt_ms=20.0
        )


def test_gain_and_slope_against_reference():
    x = np.linspace(-40, 200, 101)
    np.testing.assert_allclose(gain(x), ref.gain(x, 5.0, 100.0), rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(gain(x, baseline_rate_hz=0.0), np.tanh(x))
    eps = 1e-6
    num = (gain(x + eps) - gain(x - eps)) / (2 * eps)
    np.testing.assert_allclose(gain_slope(x), num, atol=1e-6)
    rates = 5.0 + gain(x)
    assert rates.min() >= 0 and rates.max() <= 100


def test_simulation_kernel_against_reference(rng):
    n, c, t = 7, 3, 25
    w = rng.normal(size=(n, n))
    drive = rng.normal(size=(c, n)) * 5
    profile = rng.random(t)
    x0 = rng.normal(size=(c, n))
    circ = RateCircuit(weights=w, tau_ms=10.0)
    got = circ.simulate(drive, profile, dt_ms=1.0, initial_state=x0)
    want = ref.simulate(w, drive, profile, x0, 0.1, 5.0, 100.0)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_reach_conditions_prep_then_free_relaxation(soc):
    rc = reach_conditions(soc, n_conditions=4, prep_ms=400, move_ms=400, dt_ms=20)
    assert rc.go_step == 20
    assert np.all(rc.inputs[:, rc.go_step :] == 0)
    np.testing.assert_allclose(
        np.linalg.norm(rc.inputs[:, 5], axis=1), np.linalg.norm(rc.inputs[0, 5])
    )
    # opposite reaches (ring) start from opposite preparatory directions
    assert np.corrcoef(rc.states[0, rc.go_step], rc.states[2, rc.go_step])[0, 1] < 0
