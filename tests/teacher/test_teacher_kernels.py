"""Kernels against the naive reference, exact GD equivalence, determinism, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from neurolearn._kernels.numba.teacher import train_minibatch_epochs, train_online_steps
from neurolearn._kernels.teacher_groups import (
    Dataset,
    MinibatchRule,
    OnlineRule,
    Recording,
    TeacherWeights,
)
from neurolearn.errors import DivergenceError, ParameterError, ParameterTypeError
from neurolearn.tasks.teacher import make_teacher_data
from neurolearn.teacher import (
    CurlDescent,
    FeedbackAlignment,
    GradientDescent,
    MinibatchTrainer,
    OnlineTrainer,
    TwoLayerNetwork,
    make_teacher,
    mean_squared_error,
    two_layer_backward,
)
from neurolearn.teacher.networks import ACTIVATIONS

try:
    import reference_teacher as ref
except ImportError:  # tests/ not on sys.path (no conftest)
    from tests import reference_teacher as ref


def _problem(act, out_act, n_out=1, seed=0, n_train=13):
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 0.7, (n_train, 5))
    y = rng.normal(0, 0.5, (n_train, n_out))
    w1 = rng.uniform(-0.8, 0.8, (4, 5))
    w2 = rng.uniform(-0.8, 0.8, (n_out, 4))
    return x, y, w1, w2


@pytest.mark.parametrize("act", list(ACTIVATIONS))
@pytest.mark.parametrize("rescale", [False, True])
def test_minibatch_kernel_matches_reference(act, rescale):
    out_act = "linear" if act == "relu" else act
    x, y, w1, w2 = _problem(act, out_act, n_out=2)
    rng = np.random.default_rng(1)
    orders = np.stack([rng.permutation(len(x)) for _ in range(3)]).astype(np.int64)
    s1 = np.array([1.0, -1, 1, 1, -1])
    s2 = np.array([-1.0, 1, 1, 1])
    codes = ACTIVATIONS[act], ACTIVATIONS[out_act]
    k1, k2 = w1.copy(), w2.copy()
    train = np.full(4, np.nan)
    test = np.full(4, np.nan)
    norm1 = np.linalg.norm(w1) if rescale else 0.0
    norm2 = np.linalg.norm(w2) if rescale else 0.0
    rule = MinibatchRule(
        step_size=0.3 * 4 / 13,
        batch_size=4,
        activation=codes[0],
        output_activation=codes[1],
        input_signs=s1,
        hidden_signs=s2,
        feedback=np.zeros_like(w2),
        use_feedback=False,
        norm1=norm1,
        norm2=norm2,
    )
    ran, status = train_minibatch_epochs(
        k1, k2, rule, Dataset(x, y, x, y), orders, 0, 0.0, Recording(1, train, test)
    )
    r1, r2, curve = ref.minibatch_epochs(
        w1,
        w2,
        x,
        y,
        orders,
        eta=0.3,
        batch=4,
        act=act,
        out_act=out_act,
        s1=s1,
        s2=s2,
        rescale=rescale,
    )
    assert (ran, status) == (3, 0)
    np.testing.assert_allclose(k1, r1, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(k2, r2, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(train[1:], curve, rtol=1e-12)
    np.testing.assert_allclose(test[1:], curve, rtol=1e-12)


def test_feedback_alignment_kernel_matches_reference():
    x, y, w1, w2 = _problem("tanh", "tanh")
    fb = np.random.default_rng(5).uniform(-0.5, 0.5, w2.shape)
    orders = np.stack([np.random.default_rng(2).permutation(len(x))]).astype(np.int64)
    ones1, ones2 = np.ones(5), np.ones(4)
    k1, k2 = w1.copy(), w2.copy()
    curves = np.zeros(2), np.zeros(2)
    rule = MinibatchRule(
        step_size=0.1,
        batch_size=3,
        activation=1,
        output_activation=1,
        input_signs=ones1,
        hidden_signs=ones2,
        feedback=fb,
        use_feedback=True,
        norm1=0.0,
        norm2=0.0,
    )
    train_minibatch_epochs(k1, k2, rule, Dataset(x, y, x, y), orders, 0, 0.0, Recording(1, *curves))
    r1, r2, _ = ref.minibatch_epochs(
        w1,
        w2,
        x,
        y,
        orders,
        eta=0.1 * 13 / 3,
        batch=3,
        act="tanh",
        out_act="tanh",
        s1=ones1,
        s2=ones2,
        feedback=fb,
    )
    np.testing.assert_allclose(k1, r1, rtol=1e-12)
    np.testing.assert_allclose(k2, r2, rtol=1e-12)


@pytest.mark.parametrize("act", ["erf", "tanh", "linear"])
def test_online_kernel_matches_reference(act):
    rng = np.random.default_rng(3)
    w1, tw1 = rng.normal(0, 0.4, (3, 6)), rng.normal(0, 0.4, (2, 6))
    w2, tw2 = rng.normal(0, 1, (1, 3)), rng.normal(0, 1, (1, 2))
    inputs = rng.standard_normal((7, 6))
    noise = 0.1 * rng.standard_normal((7, 1))
    s1 = np.array([1.0, 1, -1, 1, 1, 1])
    s_in = np.array([1.0, -1, 1])
    s2 = np.array([-1.0, 1, 1])
    k1, k2 = w1.copy(), w2.copy()
    rule = OnlineRule(
        learning_rate=0.7,
        train_second_layer=True,
        activation=ACTIVATIONS[act],
        output_activation=0,
        input_signs=s1,
        hidden_in_signs=s_in,
        hidden_signs=s2,
    )
    out = train_online_steps(k1, k2, TeacherWeights(tw1, tw2), inputs, noise, rule)
    r1, r2 = ref.online_steps(
        w1, w2, tw1, tw2, inputs, noise, eta=0.7, act=act, out_act="linear", s1=s1, s_in=s_in, s2=s2
    )
    assert out == 7
    np.testing.assert_allclose(k1, r1, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(k2, r2, rtol=1e-12, atol=1e-15)


def _setup(seed=0, n_train=60, act="tanh"):
    teacher = make_teacher(12, 4, activation=act, seed=seed)
    data = make_teacher_data(teacher, n_train=n_train, n_test=30, seed=seed + 1)
    student = TwoLayerNetwork(
        n_inputs=12, n_hidden=5, activation=act, init_scale=2.0, seed=seed + 2
    )
    return data, student.initialize()


def test_curl_without_flips_is_gradient_descent_exactly(backend):
    data, student = _setup()
    a = TwoLayerNetwork(
        **{
            k: getattr(student, k)
            for k in ("n_inputs", "n_hidden", "activation", "init_scale", "seed")
        }
    )
    a.initialize()
    gd = MinibatchTrainer(rule=GradientDescent(), epochs=15, seed=4, backend=backend)
    ha = gd.fit(a, data).history_
    curl = CurlDescent(flipped_inputs=0, flipped_hidden=[])
    hb = MinibatchTrainer(rule=curl, epochs=15, seed=4, backend=backend).fit(student, data).history_
    assert np.array_equal(ha.train_error, hb.train_error)
    assert np.array_equal(a.w1_, student.w1_) and np.array_equal(a.w2_, student.w2_)


def test_flips_change_the_dynamics():
    data, s0 = _setup()
    w1, w2 = s0.w1_.copy(), s0.w2_.copy()
    h_gd = MinibatchTrainer(epochs=5, seed=4).fit(s0, data).history_
    s1 = TwoLayerNetwork(n_inputs=12, n_hidden=5, init_scale=2.0).set_weights(w1, w2)
    h_curl = (
        MinibatchTrainer(rule=CurlDescent(flipped_hidden=1), epochs=5, seed=4)
        .fit(s1, data)
        .history_
    )
    assert h_gd.train_error[0] == h_curl.train_error[0]
    assert not np.allclose(h_gd.train_error[1:], h_curl.train_error[1:])


def test_linear_output_gd_direction_is_the_gradient():
    x, y, w1, w2 = _problem("tanh", "linear")
    g1, g2 = two_layer_backward(w1, w2, x, y, "tanh", "linear")
    eps = 1e-6
    for w, g in ((w1, g1), (w2, g2)):
        idx = (1, 2) if w is w1 else (0, 3)
        w[idx] += eps
        up = mean_squared_error(w1, w2, x, y, "tanh", "linear")
        w[idx] -= 2 * eps
        down = mean_squared_error(w1, w2, x, y, "tanh", "linear")
        w[idx] += eps
        assert (up - down) / (2 * eps) == pytest.approx(g[idx], rel=1e-6)


@pytest.mark.parametrize(
    "rule",
    [GradientDescent(), CurlDescent(flipped_inputs=[1, 3]), FeedbackAlignment(flipped_hidden=1)],
)
def test_backend_equals_numba_and_is_deterministic(rule, backend):
    runs = []
    for name in ("numba", backend, backend):
        data, student = _setup(n_train=47)
        tr = MinibatchTrainer(
            rule=rule, epochs=6, batch_size=10, record_every=2, seed=9, backend=name
        ).fit(student, data)
        runs.append((tr.history_.train_error, student.w1_))
    (err_ref, w_ref), (err, w), (err_again, w_again) = runs
    np.testing.assert_allclose(err, err_ref, rtol=1e-10)
    np.testing.assert_allclose(w, w_ref, rtol=1e-9, atol=1e-12)
    assert np.array_equal(err, err_again) and np.array_equal(w, w_again)


def test_rescaling_preserves_norms(backend):
    data, student = _setup()
    n1, n2 = np.linalg.norm(student.w1_), np.linalg.norm(student.w2_)
    MinibatchTrainer(epochs=5, rescale_norms=True, seed=0, backend=backend).fit(student, data)
    assert np.linalg.norm(student.w1_) == pytest.approx(n1, rel=1e-12)
    assert np.linalg.norm(student.w2_) == pytest.approx(n2, rel=1e-12)


def test_threshold_and_early_stop(backend):
    data, student = _setup(act="linear")
    tr = MinibatchTrainer(
        epochs=400,
        learning_rate=1.0,
        threshold=1e-3,
        stop_at_threshold=True,
        rescale_norms=False,
        seed=0,
        backend=backend,
    ).fit(student, data)
    h = tr.history_
    k = int(h.epochs_to_threshold)
    assert h.epochs_run == k and h.train_error[k] < 1e-3 <= h.train_error[k - 1]
    assert np.all(np.isnan(h.train_error[k + 1 :]))


def test_divergence_is_reported_with_epoch(backend):
    data, student = _setup(act="linear")
    trainer = MinibatchTrainer(
        epochs=200, learning_rate=1e4, rescale_norms=False, seed=0, backend=backend
    )
    with pytest.raises(DivergenceError) as info:
        trainer.fit(student, data)
    assert info.value.step is not None and 1 <= info.value.step <= 200


def test_bad_input_messages():
    with pytest.raises(ParameterError, match="'n_hidden' parameter of TwoLayerNetwork"):
        TwoLayerNetwork(n_inputs=3, n_hidden=-2).initialize()
    with pytest.raises(ParameterError, match="'activation'.*'erf'"):
        TwoLayerNetwork(n_inputs=3, n_hidden=2, activation="softplus").initialize()
    data, student = _setup()
    with pytest.raises(ParameterError, match="'flipped_inputs'.*out of range"):
        MinibatchTrainer(rule=CurlDescent(flipped_inputs=[0, 12])).fit(student, data)
    with pytest.raises(ParameterError, match="'flipped_hidden' parameter of CurlDescent"):
        MinibatchTrainer(rule=CurlDescent(flipped_hidden=6)).fit(student, data)
    with pytest.raises(ParameterTypeError, match="'rule' parameter"):
        MinibatchTrainer(rule="curl").fit(student, data)
    bad = data.x_train.copy()
    bad[3, 2] = np.nan
    with pytest.raises(ParameterError, match="'x_train'.*finite"):
        MinibatchTrainer().fit(student, type(data)(bad, data.y_train, data.x_test, data.y_test))
    with pytest.raises(ParameterError, match="'x_train'.*shape"):
        MinibatchTrainer().fit(
            student, type(data)(bad[:, :5], data.y_train, data.x_test, data.y_test)
        )
    with pytest.raises(ParameterError, match="'n_train' parameter of make_teacher_data"):
        make_teacher_data(make_teacher(3, 2, seed=0), n_train=0)
    with pytest.raises(ParameterError, match="'learning_rate'"):
        MinibatchTrainer(learning_rate=-1.0).fit(student, data)


def test_online_trainer_records_and_checks():
    teacher = make_teacher(40, 2, activation="erf", output_activation="linear", seed=0)
    student = TwoLayerNetwork(
        n_inputs=40, n_hidden=3, activation="erf", output_activation="linear", seed=1
    ).initialize()
    h = OnlineTrainer(alpha_max=4, record_every_alpha=2, seed=2).fit(student, teacher).history_
    np.testing.assert_allclose(h.alpha, [0, 2, 4])
    np.testing.assert_allclose(h.q[-1], student.w1_ @ student.w1_.T)
    with pytest.raises(ParameterTypeError, match="GradientDescent or CurlDescent"):
        OnlineTrainer(rule=FeedbackAlignment()).fit(student, teacher)
    other = make_teacher(41, 2, seed=0)
    with pytest.raises(ParameterError, match="same n_inputs"):
        OnlineTrainer().fit(student, other)
