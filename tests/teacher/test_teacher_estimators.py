"""Every public model of the student-teacher family passes the shared API checks; parameters
are declared once; histories are neurolearn.History; trainers train the student in place
without writing into the arrays it held."""

import dataclasses

import numpy as np
import pytest

from neurolearn._history import History
from neurolearn.errors import ParameterError
from neurolearn.tasks.teacher import (
    LearningCurveMetric,
    TeacherOnlineTask,
    TeacherTask,
    make_teacher_data,
)
from neurolearn.teacher import (
    CurlDescent,
    EnsembleTrainer,
    FeedbackAlignment,
    GradientDescent,
    LearningRule,
    MinibatchTrainer,
    OnlineTrainer,
    TwoLayerNetwork,
    make_teacher,
)
from neurolearn.teacher import _declared as D
from neurolearn.teacher.experiment import (
    CurlDescentTable,
    FeedbackAlignmentTable,
    SGDTable,
    TwoLayerNetworkTable,
)
from tests.estimator_checks import Case, check_estimator

DATA = make_teacher_data(make_teacher(6, 2, seed=0), n_train=30, n_test=15, seed=1)
X = DATA.x_train[:8]
Y = DATA.y_train[:8]
W1 = np.random.default_rng(4).uniform(-0.5, 0.5, (3, 6))
W2 = np.random.default_rng(5).uniform(-0.5, 0.5, (1, 3))
ONLINE_TEACHER = make_teacher(20, 2, activation="erf", output_activation="linear", seed=0)


def _student(seed=2, **kw):
    return TwoLayerNetwork(n_inputs=6, n_hidden=3, init_scale=2.0, seed=seed, **kw)


def _trained(net):
    MinibatchTrainer(epochs=3, batch_size=5, seed=0).fit(net, DATA)
    return net.predict(DATA.x_test)


def _minibatch(trainer):
    student = _student()
    trainer.fit(student, DATA)
    return trainer.history_, student.w1_, student.w2_


def _online(trainer):
    student = TwoLayerNetwork(
        n_inputs=20, n_hidden=2, activation="erf", output_activation="linear", seed=1
    )
    trainer.fit(student.initialize(), ONLINE_TEACHER)
    return trainer.history_, student.w1_, student.w2_


def _ensemble(trainer):
    students = [_student(seed=s) for s in (1, 2)]
    trainer.fit(students, DATA)
    return trainer.history_, [s.w1_ for s in students], [s.w2_ for s in students]


def _feedback_direction(rule):
    fb = rule.feedback(1, 3, np.random.default_rng(0))
    return rule.direction(W1, W2, X, Y, "tanh", None, fb)


CASES = [
    Case(
        TwoLayerNetwork,
        dict(n_inputs=6, n_hidden=3, seed=2),
        _trained,
        bad=("n_hidden", 0),
        structural=("init_scale", 3.0),
        runtime=("activation", "relu"),
    ),
    Case(
        CurlDescent,
        dict(flipped_inputs=[1, 4], flipped_hidden=1),
        lambda rule: rule.direction(W1, W2, X, Y),
        bad=("flipped_hidden", -1),
        runtime=("flipped_hidden", 2),
    ),
    Case(
        FeedbackAlignment,
        dict(feedback_scale=0.5, flipped_hidden=1),
        _feedback_direction,
        bad=("feedback_scale", 0.0),
        runtime=("feedback_scale", 2.0),
    ),
    Case(
        MinibatchTrainer,
        dict(rule=CurlDescent(flipped_hidden=1), epochs=4, batch_size=5, seed=3),
        _minibatch,
        bad=("batch_size", 0),
        runtime=("learning_rate", 0.05),
    ),
    Case(
        OnlineTrainer,
        dict(alpha_max=2.0, n_test=50, seed=1),
        _online,
        bad=("alpha_max", 0.0),
        runtime=("learning_rate", 0.2),
    ),
    Case(
        EnsembleTrainer,
        dict(
            rules=[GradientDescent(), CurlDescent(flipped_hidden=1)], epochs=3, batch_size=5, seed=0
        ),
        _ensemble,
        bad=("dtype", "float16"),
        runtime=("learning_rate", 0.05),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_teacher_models_pass_the_estimator_checks(case):
    if case.cls is EnsembleTrainer:
        pytest.importorskip("torch")
    check_estimator(case)


@pytest.mark.parametrize("cls", [GradientDescent, LearningRule])
def test_rules_without_parameters(cls):
    # no parameter to check: the rest of the protocol still holds, and the rule is exactly
    # curl descent without flips
    rule = cls()
    assert rule.get_params() == {} and repr(rule) == f"{cls.__name__}()"
    assert type(rule.clone()) is cls
    with pytest.raises(ParameterError, match="no parameter 'flipped_hidden'"):
        rule.set_params(flipped_hidden=1)
    for a, b in zip(
        rule.direction(W1, W2, X, Y), CurlDescent().direction(W1, W2, X, Y), strict=True
    ):
        np.testing.assert_array_equal(a, b)


def test_rule_parameters_are_nested_trainer_parameters():
    trainer = MinibatchTrainer(rule=CurlDescent(flipped_hidden=1), epochs=2, seed=0)
    assert trainer.get_params()["rule__flipped_hidden"] == 1
    trainer.set_params(rule__flipped_hidden=2)
    same = MinibatchTrainer(rule=CurlDescent(flipped_hidden=2), epochs=2, seed=0)
    np.testing.assert_array_equal(_minibatch(trainer)[1], _minibatch(same)[1])
    # the clone's rule is a copy: changing it leaves the original alone
    clone = trainer.clone()
    clone.set_params(rule__flipped_hidden=0)
    assert trainer.rule.flipped_hidden == 2


# ---------------------------------------------------------------- declared once
SHARED = [
    (TwoLayerNetworkTable, D.NETWORK),
    (CurlDescentTable, D.CURL_DESCENT),
    (FeedbackAlignmentTable, D.FEEDBACK_ALIGNMENT),
    (SGDTable, D.MINIBATCH),
    (TeacherTask, D.NETWORK),
    (TeacherOnlineTask, D.ONLINE_TRAINER),
    (LearningCurveMetric, D.MINIBATCH),
]


@pytest.mark.parametrize("table, declared", SHARED, ids=lambda x: getattr(x, "__name__", ""))
def test_spec_keys_shared_with_a_class_come_from_its_declaration(table, declared):
    shared = [f for f in dataclasses.fields(table) if f.name in declared]
    assert shared
    for f in shared:
        p = declared[f.name]
        assert f.metadata["constraint"] is p.spec_check, f.name
        assert f.metadata["doc"] == p.doc, f.name


def test_spec_defaults_that_differ_from_the_constructor_are_the_declared_ones():
    # a spec describes a student (r = 2, the paper); the constructor's r = 1 is the teacher's
    assert TwoLayerNetwork().init_scale == 1.0 and TwoLayerNetworkTable().init_scale == 2.0
    assert make_teacher(3, 2, seed=0).init_scale == 1.0
    assert CurlDescent().flipped_hidden == 0 and CurlDescentTable().flipped_hidden == 1
    assert TwoLayerNetwork().output_activation is None
    assert TwoLayerNetworkTable().output_activation == "same"
    assert (MinibatchTrainer().epochs, SGDTable().epochs) == (100, 1000)
    assert (MinibatchTrainer().record_every, SGDTable().record_every) == (1, 10)
    assert (MinibatchTrainer().threshold, LearningCurveMetric().threshold) == (None, 1e-3)
    assert (TwoLayerNetwork().n_inputs, TeacherOnlineTask().n_inputs) == (100, 500)


# ---------------------------------------------------------------- histories
def test_histories_are_the_one_history_type():
    h = _minibatch(MinibatchTrainer(epochs=4, record_every=2, seed=0))[0]
    assert isinstance(h, History) and h.axis == "epochs"
    np.testing.assert_array_equal(h["epochs"], [0, 2, 4])
    ds = h.to_dataset()
    assert ds["train_error"].dims == ("epochs",) and int(ds["epochs_run"]) == 4

    o = _online(OnlineTrainer(alpha_max=2.0, n_test=50, seed=1))[0]
    assert isinstance(o, History) and o.axis == "alpha"
    # q = W1 W1^T is symmetric positive semi-definite at every recorded time
    np.testing.assert_allclose(o.q, np.swapaxes(o.q, 1, 2))
    assert o.to_dataset()["q"].dims[0] == "alpha"


def test_ensemble_history_has_a_member_axis():
    pytest.importorskip("torch")
    # two members over two recorded points: the member axis must not be taken for the epochs
    h = _ensemble(EnsembleTrainer(epochs=2, record_every=2, batch_size=5, seed=0))[0]
    ds = h.to_dataset()
    assert ds["train_error"].dims == ("member", "epochs")
    assert ds["diverged_at"].dims == ("member",)
    np.testing.assert_array_equal(h.diverged_at, [-1, -1])


@pytest.mark.parametrize(
    "module, name",
    [
        ("neurolearn.teacher.training", "TrainingHistory"),
        ("neurolearn.teacher.online", "OnlineHistory"),
        ("neurolearn.teacher.ensemble", "EnsembleHistory"),
    ],
)
def test_old_history_names_are_deprecated_aliases(module, name):
    import importlib

    mod = importlib.import_module(module)
    with pytest.warns(DeprecationWarning, match=name):
        alias = getattr(mod, name)
    assert alias is History


# ---------------------------------------------------------------- the student is trained in place
def _held(student):
    return student.w1_, student.w2_, student.w1_.copy(), student.w2_.copy()


@pytest.mark.parametrize("backend", ["numba", "numpy"])
def test_minibatch_trains_in_place_without_writing_into_the_old_arrays(backend):
    student = _student().initialize()
    w1, w2, w1_copy, w2_copy = _held(student)
    x_train = DATA.x_train.copy()
    MinibatchTrainer(epochs=3, batch_size=5, backend=backend, seed=0).fit(student, DATA)
    np.testing.assert_array_equal(w1, w1_copy)
    np.testing.assert_array_equal(w2, w2_copy)
    np.testing.assert_array_equal(DATA.x_train, x_train)
    assert not np.array_equal(student.w1_, w1_copy)
    # the documented result: the student holds what training from its old weights gives
    again = _student().set_weights(w1_copy, w2_copy)
    MinibatchTrainer(epochs=3, batch_size=5, backend=backend, seed=0).fit(again, DATA)
    np.testing.assert_array_equal(student.w1_, again.w1_)


def test_online_trains_the_student_in_place_and_only_reads_the_teacher():
    student = TwoLayerNetwork(
        n_inputs=20, n_hidden=2, activation="erf", output_activation="linear", seed=1
    ).initialize()
    w1, w2, w1_copy, w2_copy = _held(student)
    t1 = ONLINE_TEACHER.w1_.copy()
    OnlineTrainer(alpha_max=1.0, n_test=20, seed=0).fit(student, ONLINE_TEACHER)
    np.testing.assert_array_equal(w1, w1_copy)
    np.testing.assert_array_equal(w2, w2_copy)
    np.testing.assert_array_equal(ONLINE_TEACHER.w1_, t1)
    assert not np.array_equal(student.w1_, w1_copy)


def test_ensemble_trains_in_place_without_writing_into_the_old_arrays():
    pytest.importorskip("torch")
    students = [_student(seed=s).initialize() for s in (1, 2)]
    held = [_held(s) for s in students]
    EnsembleTrainer(epochs=2, batch_size=5, seed=0).fit(students, DATA)
    for s, (w1, w2, w1_copy, w2_copy) in zip(students, held, strict=True):
        np.testing.assert_array_equal(w1, w1_copy)
        np.testing.assert_array_equal(w2, w2_copy)
        assert not np.array_equal(s.w1_, w1_copy)


# ---------------------------------------------------------------- backend
def test_backend_none_is_the_numba_default(monkeypatch):
    monkeypatch.delenv("NEUROLEARN_BACKEND", raising=False)
    default = _minibatch(MinibatchTrainer(epochs=3, seed=0))
    numba = _minibatch(MinibatchTrainer(epochs=3, seed=0, backend="numba"))
    np.testing.assert_array_equal(default[1], numba[1])


def test_bad_backend_names_the_parameter():
    with pytest.raises(ParameterError, match="'backend' parameter of MinibatchTrainer"):
        _minibatch(MinibatchTrainer(epochs=1, backend="jax"))


def _online_run(backend, teacher, act="erf", **kw):
    student = TwoLayerNetwork(
        n_inputs=20, n_hidden=2, activation=act, output_activation="linear", seed=1
    )
    trainer = OnlineTrainer(alpha_max=3.0, n_test=200, backend=backend, seed=4, **kw)
    trainer.fit(student.initialize(), teacher)
    return trainer.history_, student


@pytest.mark.parametrize(
    "kw", [{}, {"rule": CurlDescent(flipped_hidden=1), "label_noise_std": 0.1}]
)
def test_online_numpy_engine_is_the_reference_of_the_numba_one(kw):
    ref, ref_student = _online_run("numpy", ONLINE_TEACHER, **kw)
    fast, fast_student = _online_run("numba", ONLINE_TEACHER, **kw)
    np.testing.assert_allclose(fast_student.w1_, ref_student.w1_, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(fast.test_error, ref.test_error, rtol=1e-10)
    np.testing.assert_allclose(fast.q, ref.q, rtol=1e-10, atol=1e-13)


def test_online_teacher_with_other_activations_numpy_learns_it_numba_refuses():
    # the numba kernel labels samples with the student's activations: a tanh teacher would be
    # silently replaced by an erf one, so it refuses; the numpy engine learns the real teacher
    teacher = make_teacher(20, 2, activation="tanh", output_activation="linear", seed=0)
    with pytest.raises(ParameterError, match="numba engine.*'tanh'.*backend='numpy'"):
        _online_run("numba", teacher)
    h = _online_run("numpy", teacher, learning_rate=1.0)[0]
    assert h.test_error[-1] < 0.5 * h.test_error[0]
    # labelled by the same weights through erf, the run is another one
    erf = make_teacher(20, 2, activation="erf", output_activation="linear", seed=0)
    np.testing.assert_array_equal(erf.w1_, teacher.w1_)
    other = _online_run("numpy", erf, learning_rate=1.0)[0]
    assert not np.allclose(other.test_error[1:], h.test_error[1:])


def test_online_backend_other_than_numba_or_numpy_is_refused(monkeypatch):
    from neurolearn.errors import BackendError

    with pytest.raises(ParameterError, match="'backend' parameter of OnlineTrainer"):
        _online_run("torch", ONLINE_TEACHER)
    monkeypatch.setenv("NEUROLEARN_BACKEND", "torch")
    with pytest.raises(BackendError, match="backend='numba' or 'numpy'"):
        _online_run(None, ONLINE_TEACHER)
