"""Every public model of the rnnfit family passes the shared API checks; one declaration each."""

import warnings

import numpy as np
import pytest

from neurolearn._history import History
from neurolearn.rnnfit import ForceStudent, RateCircuit, Recording, RNNStudent, SOCircuit
from neurolearn.rnnfit import _declared as D
from tests.estimator_checks import Case, check_estimator

W = np.random.default_rng(0).normal(0, 0.3, (6, 6))
W2 = np.random.default_rng(1).normal(0, 0.3, (6, 6))
DRIVE = np.random.default_rng(2).normal(0, 5.0, (2, 6))


def _recording(k=2, c=3, t=12):
    ang = np.linspace(0, np.pi, c)[:, None]
    u = np.zeros((c, t, 2))
    u[:, :4] = np.stack([np.cos(ang), np.sin(ang)], axis=2)
    tt = np.arange(t) / t
    outputs = np.sin(2 * np.pi * tt[None, :, None] + ang[:, :, None])
    rates = 10 + 5 * np.cos(3 * np.pi * tt[None, :, None] * np.arange(1, k + 1) + ang[:, :, None])
    return Recording(rates=rates, dt_ms=20.0, n_neurons=6, inputs=u, outputs=outputs)


REC = _recording()


def _soc(model):
    model.initialize()
    x = model.circuit().simulate(np.ones((1, model.n)), np.ones(15), dt_ms=10.0)
    return {"weights": model.weights_, "states": x}


def _student(model):
    model.fit(REC)
    return {"predicted": model.predict(REC.inputs), "history": model.history_}


CASES = [
    Case(
        SOCircuit,
        dict(n=20, seed=0),
        _soc,
        bad=("density", 1.5),
        structural=("density", 0.2),
        runtime=("tau_ms", 100.0),
    ),
    Case(
        RateCircuit,
        dict(weights=W, tau_ms=20.0),
        lambda m: m.simulate(DRIVE, np.ones(10), dt_ms=5.0),
        bad=("tau_ms", -1.0),
        structural=("weights", W2),
        runtime=("tau_ms", 50.0),
        required=dict(weights=W),
    ),
    Case(
        RNNStudent,
        dict(n_units=8, n_epochs=3, learning_rate=1e-2, validate_every=1, seed=0),
        _student,
        bad=("learning_rate", -1.0),
        structural=("n_units", 10),
        runtime=("tau_ms", 100.0),
    ),
    Case(
        ForceStudent,
        dict(n_units=10, n_epochs=2, seed=0),
        _student,
        bad=("alpha", 0.0),
        structural=("n_units", 12),
        runtime=("tau_ms", 100.0),
    ),
]


@pytest.mark.parametrize(
    "case",
    [  # the BPTT student runs on torch
        pytest.param(c, id=c.id, marks=[pytest.mark.torch] if c.cls is RNNStudent else [])
        for c in CASES
    ],
)
def test_rnnfit_models_pass_the_estimator_checks(case):
    check_estimator(case)


def test_build_is_a_deprecated_alias_of_initialize():
    with pytest.warns(DeprecationWarning, match="initialize"):
        built = SOCircuit(n=20, seed=4).build()
    np.testing.assert_array_equal(built.weights_, SOCircuit(n=20, seed=4).initialize().weights_)


def test_a_change_after_initialize_is_refused_until_initialized_again():
    soc = SOCircuit(n=20, seed=0).initialize()
    soc.set_params(radius=8.0)
    with pytest.raises(ValueError, match="'radius' parameter of SOCircuit changed"):
        soc.circuit()
    np.testing.assert_array_equal(
        soc.initialize().weights_, SOCircuit(n=20, radius=8.0, seed=0).initialize().weights_
    )


@pytest.mark.parametrize("cls", [ForceStudent, pytest.param(RNNStudent, marks=pytest.mark.torch)])
def test_time_step_change_after_fit_acts_in_predict_without_refitting(cls):
    student = cls(n_units=8, n_epochs=2, seed=0).fit(REC)
    weights = {k: v.copy() for k, v in student.params_.items()}
    coarse = student.predict(REC.inputs)["states"]
    student.set_params(dt_ms=10.0)
    fine = student.predict(REC.inputs)["states"]
    # the first step moves by dt/tau of the drive from rest: halving dt halves it
    np.testing.assert_allclose(fine[:, 1], 0.5 * coarse[:, 1], rtol=1e-12)
    for k, v in weights.items():
        np.testing.assert_array_equal(student.params_[k], v)


@pytest.mark.parametrize("cls", [ForceStudent, pytest.param(RNNStudent, marks=pytest.mark.torch)])
def test_training_history_is_the_shared_history_type(cls):
    student = cls(n_units=8, n_epochs=4, seed=0).fit(REC, *((REC,) if cls is RNNStudent else ()))
    h = student.history_
    assert isinstance(h, History) and h.axis == "epoch"
    np.testing.assert_array_equal(h.epoch, [1, 2, 3, 4])
    assert h["loss"] is h.loss and h.loss.shape == (4,)
    ds = h.to_dataset()
    assert ds["loss"].dims == ("epoch",)
    if cls is RNNStudent:  # one validation every validate_every = 20 epochs: none in 4
        assert ds["val_loss"].dims == ("validation",) and h.val_loss.size == 0


def test_spec_defaults_are_the_class_defaults():
    """The spec tables are built from the class declarations: a default spec makes the default
    student and circuit (a spec's 0 / "" for "off" is the class's None)."""
    from neurolearn.rnnfit.experiment import (
        BPTTRule,
        ForceRule,
        RateRNNNetwork,
        RnnfitTrain,
        _from_spec,
    )
    from neurolearn.tasks.reaching import SOCReachingTask

    bptt = {
        **_from_spec(RateRNNNetwork(), D.RATE_RNN_NETWORK),
        **_from_spec(BPTTRule(), D.BPTT),
        **_from_spec(RnnfitTrain(), D.CHECKPOINT),
    }
    assert bptt == {k: v for k, v in RNNStudent().get_params().items() if k in bptt}
    force = {**_from_spec(RateRNNNetwork(), D.STUDENT), **_from_spec(ForceRule(), D.FORCE)}
    assert force == {k: v for k, v in ForceStudent().get_params().items() if k in force}
    task = SOCReachingTask()
    soc = {name: getattr(task, key) for key, name in D.SOC_TASK_NAMES.items()}
    assert soc == {k: v for k, v in SOCircuit().get_params().items() if k in soc}
    assert RNNStudent().n_units == ForceStudent().n_units == task.n_neurons == 200


def test_signature_and_docs_come_from_the_declarations():
    for cls in (SOCircuit, RateCircuit, RNNStudent, ForceStudent):
        assert list(cls().get_params()) == list(cls._declared)
        for name, p in cls._declared.items():
            assert f"{name} : {p.type_text}, default={p.default!r}" in cls.__doc__
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert repr(RNNStudent(n_units=50)) == "RNNStudent(n_units=50)"


def test_reach_functions_take_the_declared_defaults_and_constraints():
    import inspect

    from neurolearn.errors import ParameterError
    from neurolearn.rnnfit.conditions import muscle_targets, reach_conditions

    sig = inspect.signature(reach_conditions).parameters
    assert {k: sig[k].default for k in D.REACH} == {k: p.default for k, p in D.REACH.items()}
    assert inspect.signature(muscle_targets).parameters["n_outputs"].default == 2
    soc = SOCircuit(n=20, seed=0).initialize()
    with pytest.raises(ParameterError, match="'move_ms' parameter of reach_conditions"):
        reach_conditions(soc, move_ms=0.0)
    with pytest.raises(ParameterError, match="'offset' parameter of reach_conditions"):
        reach_conditions(soc, offset=float("nan"))
    with pytest.raises(ParameterError, match="'n_outputs' parameter of muscle_targets"):
        muscle_targets([0.0], 10, 2, 20.0, n_outputs=0)
