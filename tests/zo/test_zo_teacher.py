"""The zeroth-order rules on the student-teacher family's networks and data."""

import numpy as np
import pytest

import neurolearn as nl
from neurolearn.teacher.networks import (
    TwoLayerNetwork,
    mean_squared_error,
    two_layer_backward,
)
from neurolearn.zo import MLP


@pytest.mark.parametrize("out_act", ["tanh", "linear"])
def test_mlp_is_the_two_layer_network(out_act):
    student = TwoLayerNetwork(
        n_inputs=7,
        n_hidden=4,
        n_outputs=2,
        activation="tanh",
        output_activation=out_act,
        init="uniform",
        init_scale=2.0,
        seed=np.random.default_rng(5),
    ).initialize()
    net = MLP(
        layer_sizes=(7, 4, 2),
        activation="tanh",
        output_activation=out_act,
        loss="squared",
        bias=False,
        init="uniform",
        init_scale=2.0,
    )
    theta = net.set_params(seed=np.random.default_rng(5)).initialize().theta_
    (w1, _), (w2, _) = net.weights(theta)
    np.testing.assert_array_equal(w1, student.w1_)
    np.testing.assert_array_equal(w2, student.w2_)
    rng = np.random.default_rng(6)
    x, y = rng.standard_normal((30, 7)), rng.standard_normal((30, 2))
    np.testing.assert_allclose(net.predict(theta, x), student.predict(x), rtol=1e-12)
    assert net.mean_loss(theta, x, y) == pytest.approx(
        mean_squared_error(w1, w2, x, y, "tanh", out_act), rel=1e-12
    )
    if out_act == "linear":
        # with a linear output the family's error-signal products are the exact gradient
        g1, g2 = two_layer_backward(w1, w2, x, y, "tanh", "linear")
        _, grad = net.gradient(theta, x, y)
        (gw1, _), (gw2, _) = net.weights(grad)
        np.testing.assert_allclose(gw1, g1, rtol=1e-10, atol=1e-14)
        np.testing.assert_allclose(gw2, g2, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("model", ["mlp-backprop", "node-perturbation", "spsa", "forward-gradient"])
def test_rules_learn_the_teacher_task(model):
    ds = nl.run(
        model,
        "teacher",
        seed=0,
        overrides=[
            "task.n_inputs=20",
            "task.teacher_hidden=3",
            "task.n_train=200",
            "task.n_test=200",
            "network.hidden=[3]",
            "network.init_scale=2.0",
            "train.batch_size=10",
            "train.query_budget=6000",
            "train.n_records=3",
            f"rule.learning_rate={0.1 if model in ('mlp-backprop', 'node-perturbation') else 0.02}",
        ],
    )
    assert ds.attrs["status"] == "ok", ds.attrs["message"]
    curve = ds["curve_test_loss"].values
    assert curve[-1] < 0.5 * curve[0]
    assert "test_accuracy" not in ds


@pytest.mark.parametrize("out_act", ["linear", "relu", "task"])
def test_teacher_task_uses_the_network_output_activation(out_act):
    # the teacher's targets go through the output activation the model's network names
    # ('task': the teacher's hidden activation), as in the student-teacher family
    from neurolearn.specs import load_model, load_task
    from neurolearn.teacher.networks import make_teacher
    from neurolearn.zo.experiment import _task_data

    task = load_task(
        "teacher",
        ["task.n_inputs=8", "task.teacher_hidden=3", "task.n_train=40", "task.n_test=10"],
    )
    model = load_model("spsa", [f"network.output_activation={out_act}"])
    x, y, evals, teacher_out = _task_data(task, np.random.SeedSequence(4), model)
    rng_teacher, _ = np.random.default_rng(np.random.SeedSequence(4)).spawn(2)
    t = task.task
    weights = make_teacher(
        t.n_inputs, t.teacher_hidden, t.n_outputs, init_scale=t.teacher_init_scale, seed=rng_teacher
    )
    hidden = np.tanh(x @ weights.w1_.T) @ weights.w2_.T
    expected = {"linear": hidden, "relu": np.maximum(hidden, 0.0), "task": np.tanh(hidden)}
    assert teacher_out == ("tanh" if out_act == "task" else out_act)
    np.testing.assert_allclose(y, expected[out_act], rtol=1e-12, atol=1e-15)
