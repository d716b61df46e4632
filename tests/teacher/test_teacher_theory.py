"""Theory beside simulation: integrals, ODE vs online SGD, linear stability of the manifold."""

from __future__ import annotations

import math

import numpy as np
import pytest

from neurolearn.tasks.teacher import make_teacher_data
from neurolearn.teacher import (
    CurlDescent,
    MinibatchTrainer,
    OnlineTrainer,
    TwoLayerNetwork,
    make_teacher,
)
from neurolearn.teacher.theory import (
    critical_flip_fraction,
    critical_flip_fraction_theory,
    field_integrals,
    generalisation_error,
    input_flip_safe_ratio,
    integrate_odes,
    ode_rhs,
    order_parameters,
    smallest_eigenvalue,
    spectral_left_edge,
    stability_matrix,
)


def _cov(seed=0, d=4):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(d, d)) / 2
    return a @ a.T + 0.3 * np.eye(d)


def test_erf_integrals_match_monte_carlo():
    from scipy.special import erf

    cov = _cov()
    k = 2
    u = np.random.default_rng(1).multivariate_normal(np.zeros(4), cov, size=400_000)
    g = erf(u / math.sqrt(2))
    dg = math.sqrt(2 / math.pi) * np.exp(-(u**2) / 2)
    i2, i3, i4, j2, gg = field_integrals(cov, k, "erf")
    tol = 6e-3
    np.testing.assert_allclose(i2, (g[:, :k, None] * g[:, None, :]).mean(0), atol=tol)
    mc3 = np.einsum("pi,pk,pa->ika", dg[:, :k], u, g) / len(u)
    np.testing.assert_allclose(i3, mc3, atol=tol)
    mc4 = np.einsum("pi,pk,pa,pb->ikab", dg[:, :k], dg[:, :k], g, g) / len(u)
    np.testing.assert_allclose(i4, mc4, atol=tol)
    np.testing.assert_allclose(j2, (dg[:, :k, None] * dg[:, None, :k]).mean(0), atol=tol)
    np.testing.assert_allclose(gg, (g[:, :, None] * g[:, None, :]).mean(0), atol=tol)


def test_generalisation_error_matches_test_set():
    teacher = make_teacher(
        30, 2, activation="erf", output_activation="linear", init="normal", seed=0
    )
    student = TwoLayerNetwork(
        n_inputs=30, n_hidden=3, activation="erf", output_activation="linear", init="normal", seed=1
    ).initialize()
    x = np.random.default_rng(2).standard_normal((200_000, 30))
    mc = student.error(x, teacher.predict(x))
    q, r, t = order_parameters(student.w1_, teacher.w1_)
    theory = generalisation_error(q, r, t, student.w2_[0], teacher.w2_[0], "erf")
    assert theory == pytest.approx(mc, rel=0.02)


def test_ode_solution_follows_the_right_hand_side():
    """Over a short interval the solution moves by ``h f(y0)`` to first order."""
    q, r, t = order_parameters(
        *(np.random.default_rng(s).normal(0, 0.2, (n, 25)) for s, n in ((0, 3), (1, 2)))
    )
    v = np.array([0.5, -1.0, 1.2])
    h = 1e-5
    for act in ("erf", "linear"):
        kw = dict(hidden_input_signs=[1, -1, 1], hidden_signs=[-1, 1, 1], label_noise_std=0.2)
        dq, dr, dv = ode_rhs(q, r, t, v, np.ones(2), learning_rate=0.7, activation=act, **kw)
        sol = integrate_odes(
            q, r, t, v, np.ones(2), learning_rate=0.7, alpha=[0.0, h], activation=act, **kw
        )
        np.testing.assert_array_equal(sol.q[0], q)
        np.testing.assert_allclose((sol.q[1] - q) / h, dq, atol=1e-4)
        np.testing.assert_allclose((sol.r[1] - r) / h, dr, atol=1e-4)
        np.testing.assert_allclose((sol.v[1] - v) / h, dv, atol=1e-4)


def test_ode_solution_against_a_tight_reference_solve():
    """The default tolerances (RK45, rtol 1e-8, atol 1e-10) against an eighth-order solve at
    rtol 1e-12, through the plateau and the escape of Saad-Solla (where errors grow fastest):
    the error is below 2e-6 relative (measured 4e-7)."""
    from scipy.integrate import solve_ivp

    q = np.array([[0.5, 0.05], [0.05, 0.4]])
    r = np.array([[0.1, 0.05], [0.02, 0.12]])
    t, v, vt = np.eye(2), np.array([0.8, 1.1]), np.ones(2)
    kw = dict(learning_rate=0.5, activation="erf")
    alpha = np.arange(0.0, 101.0, 5.0)
    sol = integrate_odes(q, r, t, v, vt, alpha=alpha, **kw)

    def rhs(_alpha, y):
        dq, dr, dv = ode_rhs(y[:4].reshape(2, 2), y[4:8].reshape(2, 2), t, y[8:], vt, **kw)
        return np.concatenate([dq.ravel(), dr.ravel(), dv])

    y0 = np.concatenate([q.ravel(), r.ravel(), v])
    tight = solve_ivp(rhs, (0, 100), y0, "DOP853", t_eval=alpha, rtol=1e-12, atol=1e-14).y.T
    ref = np.array(
        [
            generalisation_error(y[:4].reshape(2, 2), y[4:8].reshape(2, 2), t, y[8:], vt)
            for y in tight
        ]
    )
    assert ref[-1] < ref[0] / 10  # the trajectory goes somewhere, so the comparison is not empty
    np.testing.assert_allclose(sol.generalisation_error, ref, rtol=2e-6)
    np.testing.assert_allclose(sol.v, tight[:, 8:], rtol=2e-6)


def _saad_solla(seed, n_inputs=1000, alpha_max=100.0, every=25.0):
    """K = M = 2, erf, v = v* = 1 fixed, eta = 0.5, orthonormal teacher (T = I)."""
    rng = np.random.default_rng(seed)
    b = np.linalg.qr(rng.standard_normal((n_inputs, 2)))[0].T
    kw = dict(n_inputs=n_inputs, n_hidden=2, activation="erf", output_activation="linear")
    teacher = TwoLayerNetwork(**kw).set_weights(b, np.ones((1, 2)))
    student = TwoLayerNetwork(**kw).set_weights(
        rng.standard_normal((2, n_inputs)) / math.sqrt(n_inputs), np.ones((1, 2))
    )
    hist = (
        OnlineTrainer(
            learning_rate=0.5,
            alpha_max=alpha_max,
            record_every_alpha=every,
            train_second_layer=False,
            seed=seed + 100,
        )
        .fit(student, teacher)
        .history_
    )
    t = b @ b.T
    sim = np.array(
        [
            generalisation_error(q, r, t, np.ones(2), np.ones(2))
            for q, r in zip(hist.q, hist.r, strict=True)
        ]
    )
    return hist, t, sim


def _ode_from(hist, t, i):
    return integrate_odes(
        hist.q[i],
        hist.r[i],
        t,
        np.ones(2),
        np.ones(2),
        learning_rate=0.5,
        alpha=hist.alpha[i:] - hist.alpha[i],
        train_second_layer=False,
    ).generalisation_error


@pytest.mark.parametrize("seed", [0, pytest.param(1, marks=pytest.mark.slow)])
def test_ode_follows_simulation_onto_the_plateau(seed):
    hist, t, sim = _saad_solla(seed)
    ode = _ode_from(hist, t, 0)
    for alpha in (25.0, 100.0):
        i = int(np.flatnonzero(hist.alpha == alpha)[0])
        assert sim[i] == pytest.approx(ode[i], rel=0.10), alpha
    # the notes' landmarks: ~2e-2 at alpha = 25, ~1.4e-2 on the plateau at alpha = 100
    assert 1.5e-2 < ode[1] < 2.5e-2 and 1.1e-2 < ode[4] < 1.7e-2


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_ode_follows_simulation_through_the_escape(seed):
    hist, t, sim = _saad_solla(seed, alpha_max=300.0)
    # The escape from the symmetric plateau is seeded by O(1/sqrt(N)) fluctuations, so the ODE
    # is restarted from the simulation's own order parameters once the escape has begun.
    i0 = int(np.flatnonzero(hist.alpha == 150.0)[0])
    ode = _ode_from(hist, t, i0)
    np.testing.assert_allclose(sim[i0:], ode, rtol=0.10)
    assert sim[-1] < sim[i0] / 3  # the escape is under way in every seed


def test_flipped_rule_odes_match_simulation():
    n = 1000
    rng = np.random.default_rng(4)
    kw = dict(n_inputs=n, n_hidden=2, activation="erf", output_activation="linear")
    b = np.linalg.qr(rng.standard_normal((n, 2)))[0].T
    teacher = TwoLayerNetwork(**kw).set_weights(b, np.ones((1, 2)))
    w = rng.standard_normal((2, n)) / math.sqrt(n)
    v0 = np.array([[0.8, 1.1]])
    errs = []
    for rule, in_flips in ((CurlDescent(flipped_hidden=[1]), [0]), (None, 0)):
        student = TwoLayerNetwork(**kw).set_weights(w, v0)
        trainer = OnlineTrainer(
            rule=rule,
            hidden_input_flips=in_flips,
            learning_rate=0.5,
            alpha_max=8,
            record_every_alpha=2,
            seed=5,
        ).fit(student, teacher)
        h = trainer.history_
        s_in = -np.ones(2) if in_flips == [0] else np.ones(2)
        s_in[1] = 1.0
        s_out = np.array([1.0, -1.0]) if rule is not None else np.ones(2)
        sol = integrate_odes(
            h.q[0],
            h.r[0],
            b @ b.T,
            v0[0],
            np.ones(2),
            learning_rate=0.5,
            alpha=h.alpha,
            hidden_input_signs=s_in,
            hidden_signs=s_out,
        )
        sim = [
            generalisation_error(q, r, b @ b.T, v[0], np.ones(2))
            for q, r, v in zip(h.q, h.r, h.w2, strict=True)
        ]
        np.testing.assert_allclose(sim, sol.generalisation_error, rtol=0.1)
        # v fluctuates by O(eta sqrt(alpha / N)) ~ 0.04 at N = 1000 (shrinks as 1/sqrt(N))
        np.testing.assert_allclose(h.w2[:, 0, :], sol.v, atol=0.06)
        errs.append(sol.generalisation_error[-1])
    # the flip terms change the trajectory, so the agreement above is not vacuous
    assert abs(errs[0] - errs[1]) > 0.1 * errs[1]


def test_stability_matrix_formula():
    rng = np.random.default_rng(0)
    w1, w2 = rng.normal(size=(5, 3)), rng.normal(size=(1, 5))
    d1, d2 = np.array([1, -1, 1.0]), np.array([1, 1, -1, 1, -1.0])
    expected = w1.T @ np.diag(d2) @ w1 + (w2**2).sum() * np.diag(d1)
    np.testing.assert_allclose(stability_matrix(w1, w2, d1, d2), expected)
    assert smallest_eigenvalue(w1, w2, d1, d2) == pytest.approx(np.linalg.eigvalsh(expected)[0])


def test_input_flip_bound_and_critical_fraction():
    c_safe = input_flip_safe_ratio()
    assert c_safe == 0.25
    # below c = 1/4 every fraction of flipped inputs leaves A positive definite
    for c in (0.05, 0.15):
        assert critical_flip_fraction(c, layer="input", n_total=120, n_samples=3, seed=1) == 1.0
    # compressive networks tolerate almost no flipped inputs
    assert critical_flip_fraction(1.0, layer="input", n_total=120, n_samples=3, seed=1) < 0.05
    assert critical_flip_fraction(4.0, layer="input", n_total=120, n_samples=3, seed=1) < 0.05
    # hidden flips: the critical fraction falls as c grows (for c >> 1 the flipped directions
    # become marginal, lambda ~ |w2|^2 - |w_n|^2 ~ 0, and the sampled fraction is noisy)
    hidden = [
        critical_flip_fraction(c, layer="hidden", n_total=120, n_samples=3, seed=1)
        for c in (0.05, 0.3, 1.0)
    ]
    assert hidden[0] > hidden[1] > hidden[2]


def _linear_case(ratio, n_total=60, seed=7):
    n_in = int(round(n_total * ratio / (1 + ratio)))
    n_hid = n_total - n_in
    ss = np.random.SeedSequence([n_in, seed]).spawn(3)
    teacher = make_teacher(n_in, n_hid, activation="linear", seed=np.random.default_rng(ss[0]))
    data = make_teacher_data(teacher, n_train=250, n_test=100, seed=np.random.default_rng(ss[1]))
    return teacher, data, np.random.default_rng(ss[2])


@pytest.mark.parametrize("ratio", [0.3, 3.0])
def test_smallest_eigenvalue_predicts_stability_of_the_solution(ratio):
    teacher, data, rng = _linear_case(ratio)
    n_in, n_hid = teacher.n_inputs, teacher.n_hidden
    checked = {True: 0, False: 0}
    scale = float(np.sum(teacher.w2_**2))
    for k in sorted({0, n_in // 4, n_in // 2, (3 * n_in) // 4, n_in}):
        rule = CurlDescent(flipped_inputs=k)
        lam = smallest_eigenvalue(teacher.w1_, teacher.w2_, input_signs=rule.signs(n_in, n_hid)[0])
        lam /= scale  # relative to |w2|^2, the size of the D1 term
        if abs(lam) < 0.1:
            continue
        kick = 1e-4 * rng.standard_normal(teacher.w1_.shape) / math.sqrt(n_in)
        student = TwoLayerNetwork(n_inputs=n_in, n_hidden=n_hid, activation="linear")
        student.set_weights(teacher.w1_ + kick, teacher.w2_)
        start = student.error(data.x_test, data.y_test)
        h = (
            MinibatchTrainer(rule=rule, learning_rate=0.5, epochs=250, record_every=250, seed=k)
            .fit(student, data)
            .history_
        )
        if lam > 0:
            assert h.test_error[-1] < start / 10, (k, lam)
        else:
            assert h.test_error[-1] > start * 10, (k, lam)
        checked[lam > 0] += 1
    assert checked[True] >= 1 and checked[False] >= 1


def test_linear_network_input_flips_phase_behaviour():
    # expanding network, c < 1/4: even all inputs flipped learns the teacher
    teacher, data, rng = _linear_case(0.2)
    n_in, n_hid = teacher.n_inputs, teacher.n_hidden
    student = TwoLayerNetwork(n_inputs=n_in, n_hidden=n_hid, activation="linear", seed=rng)
    h = (
        MinibatchTrainer(
            rule=CurlDescent(flipped_inputs=n_in), epochs=600, record_every=600, seed=1
        )
        .fit(student.initialize(), data)
        .history_
    )
    assert h.test_error[-1] < 1e-8
    # compressive network, c = 3: half the inputs flipped fails
    teacher, data, rng = _linear_case(3.0)
    n_in, n_hid = teacher.n_inputs, teacher.n_hidden
    student = TwoLayerNetwork(n_inputs=n_in, n_hidden=n_hid, activation="linear", seed=rng)
    h = (
        MinibatchTrainer(
            rule=CurlDescent(flipped_inputs=n_in // 2), epochs=600, record_every=600, seed=1
        )
        .fit(student.initialize(), data)
        .history_
    )
    assert h.test_error[-1] > 1e-3


def test_marchenko_pastur_edge_behind_the_quarter_bound():
    # lambda_min(W^T W) -> (1/sqrt(c) - 1)^2 for W (N x M) with N(0, 1/M) entries
    rng = np.random.default_rng(0)
    for n_in, n_hid in ((100, 1600), (100, 400)):
        c = n_in / n_hid
        w = rng.standard_normal((n_hid, n_in)) / math.sqrt(n_in)
        edge = (1 / math.sqrt(c) - 1) ** 2
        assert np.linalg.eigvalsh(w.T @ w)[0] == pytest.approx(edge, rel=0.2)
    # at c = 1/16 the edge (3^2 = 9) exceeds |w2|^2 = 1: A stays positive with all inputs flipped
    w = rng.standard_normal((1600, 100)) / math.sqrt(100)
    assert smallest_eigenvalue(w, np.ones((1, 1)), input_signs=-np.ones(100)) > 0


@pytest.mark.parametrize(
    ("layer", "ratio", "fraction"),
    [
        ("input", 0.3, 0.25),
        ("input", 1.0, 0.5),
        ("input", 3.0, 0.0),
        ("hidden", 0.1, 0.25),
        ("hidden", 0.3, 0.5),
        ("hidden", 1.0, 0.0),
    ],
)
def test_spectral_left_edge_matches_sampled_smallest_eigenvalue(layer, ratio, fraction):
    n_in = 400
    n_hid = round(n_in / ratio)
    w1 = np.random.default_rng(3).standard_normal((n_hid, n_in)) / math.sqrt(n_in)
    s1, s2 = np.ones(n_in), np.ones(n_hid)
    if layer == "input":
        s1[: round(fraction * n_in)] = -1
    else:
        s2[: round(fraction * n_hid)] = -1
    sampled = smallest_eigenvalue(w1, np.ones((1, 1)), s1, s2)
    assert spectral_left_edge(ratio, fraction, layer=layer) == pytest.approx(sampled, abs=0.1)


def test_theoretical_critical_fraction():
    assert critical_flip_fraction_theory(0.2, layer="input") == 1.0
    # the sampled fraction approaches the asymptotic one as M + N grows (0.61-0.69 at 219)
    sampled = critical_flip_fraction(0.3, layer="input", n_total=600, n_samples=5, seed=1)
    assert critical_flip_fraction_theory(0.3, layer="input") == pytest.approx(sampled, abs=0.05)
    hidden = [critical_flip_fraction_theory(c, layer="hidden") for c in (0.05, 0.3, 1.0, 10.0)]
    assert all(a > b for a, b in zip(hidden, hidden[1:], strict=False)) and hidden[-1] < 0.02


def test_critical_fraction_is_zero_where_the_theory_says_zero():
    # input flips: the left edge jumps at f = 0 from |w2|^2 to 2/(3c) - 1 as f -> 0+, which is
    # negative above c = 2/3, so any flipped fraction is unstable there
    for c in (0.7, 1.0, 4.0):
        assert spectral_left_edge(c, 1e-9) == pytest.approx(2 / (3 * c) - 1, abs=1e-4)
        assert critical_flip_fraction_theory(c, layer="input") == 0.0
    assert critical_flip_fraction_theory(0.6, layer="input") > 0.0
    # sampled at a finite size: a single flipped input already makes A indefinite
    for c in (1.0, 4.0):
        assert critical_flip_fraction(c, layer="input", n_total=120, n_samples=3, seed=1) == 0.0
        n_in = round(120 * c / (1 + c))
        w1 = np.random.default_rng(2).standard_normal((120 - n_in, n_in)) / math.sqrt(n_in)
        w2 = np.ones(120 - n_in) / math.sqrt(120 - n_in)
        signs = np.ones(n_in)
        signs[0] = -1
        assert smallest_eigenvalue(w1, w2, input_signs=signs) < 0
