"""FORCE / CURBD student: kernel against reference, RLS algebra, learning."""

import numpy as np
import pytest
import reference_rnnfit as ref

from neurolearn._kernels.numba.rnnfit import (
    ForceLearning,
    ForceNet,
    ForceOutputs,
    ForceTrial,
    force_trial,
)
from neurolearn.errors import ParameterError
from neurolearn.rnnfit import ForceStudent, Recording


def test_free_run_matches_reference(rng):
    n, o, i, t = 8, 2, 3, 15
    j = rng.normal(size=(n, n)) / 3
    fb = rng.normal(size=(n, o))
    b = rng.normal(size=(n, i))
    w = rng.normal(size=(o, n)) / 3
    u = rng.normal(size=(t, i))
    x0 = rng.normal(size=n)
    z_out, s_out = np.empty((t, o)), np.empty((t, n))
    force_trial(
        x0.copy(),
        ForceNet(j.copy(), fb, b, w.copy(), 0.1),
        ForceTrial(u, np.zeros((t, o)), np.zeros((t, 0))),
        ForceLearning(np.zeros((1, 1)), np.zeros(0, np.int64), 1, False),
        ForceOutputs(z_out, s_out),
    )
    states, outs = ref.force_free_run(x0.copy(), j, fb, b, w, u, 0.1)
    np.testing.assert_allclose(s_out, states, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(z_out, outs, rtol=1e-12, atol=1e-13)


def test_rls_matrix_is_inverse_of_regularised_rate_correlation(rng):
    """After the updates, P^-1 = alpha I + sum of r r' over the update steps (Sherman-Morrison)."""
    n, t, alpha = 6, 9, 2.0
    p = np.eye(n) / alpha
    z_out, s_out = np.empty((t, 1)), np.empty((t, n))
    x0 = rng.normal(size=n)
    net = ForceNet(
        rng.normal(size=(n, n)), np.zeros((n, 1)), np.ones((n, 1)), np.zeros((1, n)), 0.2
    )
    trial = ForceTrial(rng.normal(size=(t, 1)), rng.normal(size=(t, 1)), np.zeros((t, 0)))
    learning = ForceLearning(p, np.zeros(0, np.int64), 2, True)
    force_trial(x0, net, trial, learning, ForceOutputs(z_out, s_out))
    r = np.tanh(s_out[::2])
    np.testing.assert_allclose(np.linalg.inv(p), alpha * np.eye(n) + r.T @ r, rtol=1e-9)


def _task(k):
    t = np.arange(40) / 40
    ang = np.array([0.0, 2.0])[:, None]
    u = np.zeros((2, 40, 1))
    u[:, :5, 0] = np.cos(ang)
    out = np.sin(2 * np.pi * t + ang)[:, :, None]
    rates = 10 + 4 * np.sin(2 * np.pi * t[None, :, None] * np.arange(1, k + 1) + ang[:, :, None])
    return Recording(rates=rates, dt_ms=10.0, inputs=u, outputs=out)


def test_force_learns_outputs_and_recorded_units():
    rec = _task(3)
    fs = ForceStudent(n_units=60, dt_ms=10.0, tau_ms=50.0, n_epochs=15, seed=0).fit(rec)
    assert fs.history_["loss"][-1] < fs.history_["loss"][0]
    pred = fs.predict(rec.inputs)  # free run, no learning
    target = (rec.rates - fs.centre_) / fs.scale_
    err = np.mean((pred["rates"][:, :, :3] - target) ** 2) / np.var(target)
    out_err = np.mean((pred["outputs"] - rec.outputs) ** 2) / np.var(rec.outputs)
    assert err < 0.25 and out_err < 0.15
    untrained = ForceStudent(n_units=60, dt_ms=10.0, tau_ms=50.0, n_epochs=0, seed=0).fit(rec)
    pred0 = untrained.predict(rec.inputs)
    assert np.mean((pred0["rates"][:, :, :3] - target) ** 2) / np.var(target) > 4 * err
    assert np.mean((pred0["outputs"] - rec.outputs) ** 2) / np.var(rec.outputs) > 0.9


def test_force_determinism_and_bad_input():
    rec = _task(1)
    a = ForceStudent(n_units=20, dt_ms=10.0, n_epochs=2, seed=1).fit(rec).params_
    b = ForceStudent(n_units=20, dt_ms=10.0, n_epochs=2, seed=1).fit(rec).params_
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])
    with pytest.raises(ParameterError, match="dt_ms=10.0 but the ForceStudent has dt_ms=20.0"):
        ForceStudent(n_epochs=1).fit(rec)
    with pytest.raises(ParameterError, match="'alpha' parameter of ForceStudent"):
        ForceStudent(alpha=0.0, dt_ms=10.0).fit(rec)
