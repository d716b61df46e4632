"""Spec tables of the student-teacher family and ``run_experiment`` for :func:`neurolearn.run`.

Model specs: ``[network] kind = "two-layer"``, ``[rule]`` (``gradient-descent``,
``curl-descent``, ``feedback-alignment``), ``[train] kind = "sgd"``. Tasks: ``teacher`` (finite
data, mini-batch epochs) and ``teacher-online`` (one fresh sample per step, with the
order-parameter ODEs integrated beside the simulation).
"""

from __future__ import annotations

import math

import numpy as np

from neurolearn._outcome import Outcome
from neurolearn._params import Boolean, Interval, short_repr
from neurolearn._schema import SpecTable, param, spec_table
from neurolearn.plots.teacher import teacher_online_run_figure, teacher_run_figure
from neurolearn.teacher import _declared as D
from neurolearn.teacher.networks import TwoLayerNetwork
from neurolearn.teacher.rules import CurlDescent, FeedbackAlignment, GradientDescent

__all__ = [
    "TwoLayerNetworkTable",
    "GradientDescentTable",
    "CurlDescentTable",
    "FeedbackAlignmentTable",
    "SGDTable",
    "DEFAULT_KINDS",
    "REQUIRED_SECTIONS",
    "TASK_KINDS",
    "run_experiment",
    "build_rule",
]

#: keys of the [network] table: the student's parameters that a spec gives (the task gives the
#: sizes of its inputs and outputs, the run its seed)
_NETWORK_KEYS = ("n_hidden", "activation", "output_activation", "init", "init_scale")


@spec_table("network", "two-layer", params=D.only(D.NETWORK, *_NETWORK_KEYS))
class TwoLayerNetworkTable(SpecTable):
    """Two-layer student ``y = phi_out(W2 phi(W1 x))``; inputs and outputs come from the task."""


@spec_table("rule", "gradient-descent")
class GradientDescentTable(SpecTable):
    """Gradient descent (output derivative dropped, as in the curl-descent paper)."""


@spec_table("rule", "curl-descent", params=D.CURL_DESCENT)
class CurlDescentTable(SpecTable):
    """Rule-flipped plasticity at chosen input (D1) and hidden (D2) neurons."""


@spec_table("rule", "feedback-alignment", params=D.FEEDBACK_ALIGNMENT)
class FeedbackAlignmentTable(SpecTable):
    """Fixed random feedback B ~ feedback_scale * U(-1/sqrt(N), 1/sqrt(N))."""


@spec_table(
    "train",
    "sgd",
    params=D.only(
        D.MINIBATCH,
        "learning_rate",
        "batch_size",
        "epochs",
        "rescale_norms",
        "record_every",
        "stop_at_threshold",
    ),
)
class SGDTable(SpecTable):
    """Mini-batch epochs (task 'teacher') or online steps (task 'teacher-online')."""

    lyapunov_epochs: int = param(
        0, Interval(int, 0, None), "epochs of the Lyapunov-exponent probe after training (0: off)"
    )
    curl_diagnostics: bool = param(
        False, Boolean(), "antisymmetric part of the update field's Jacobian at the end"
    )


DEFAULT_KINDS = {"rule": "gradient-descent", "train": "sgd"}
REQUIRED_SECTIONS = {"models": ("network", "rule", "train")}
TASK_KINDS = ("teacher", "teacher-online")


def build_rule(table):
    """The learning-rule object of a ``[rule]`` table.

    Examples
    --------
    >>> build_rule(CurlDescentTable(flipped_hidden=2))
    CurlDescent(flipped_inputs=0, flipped_hidden=2)
    """
    for table_class, rule_class in (
        (CurlDescentTable, CurlDescent),
        (FeedbackAlignmentTable, FeedbackAlignment),
    ):
        if isinstance(table, table_class):
            return rule_class(**{name: getattr(table, name) for name in rule_class.params})
    return GradientDescent()


def _out_act(net):
    return None if net.output_activation == "same" else net.output_activation


def _teacher_act(task, net):
    return net.activation if task.teacher_activation == "student" else task.teacher_activation


def run_experiment(model, task, *, seed, backend, progress=False) -> Outcome:
    """Run a two-layer student with its rule on a ``teacher`` or ``teacher-online`` task."""
    if task.task.kind_name == "teacher":
        return _run_finite(model, task, seed, backend)
    return _run_online(model, task, seed, backend)


def _run_finite(model, task, seed, backend) -> Outcome:
    import xarray as xr

    from neurolearn.tasks.teacher import make_teacher_task
    from neurolearn.teacher.training import MinibatchTrainer

    net, rule_t, train, t, metric = model.network, model.rule, model.train, task.task, task.metric
    teacher_seed, data_seed, student_seed, train_seed = np.random.default_rng(seed).spawn(4)
    teacher, data = make_teacher_task(
        t,
        student_activation=net.activation,
        output_activation=_out_act(net),
        teacher_seed=teacher_seed,
        data_seed=data_seed,
    )
    student = TwoLayerNetwork(
        n_inputs=t.n_inputs,
        n_hidden=net.n_hidden,
        n_outputs=t.n_outputs,
        activation=net.activation,
        output_activation=_out_act(net),
        init=net.init,
        init_scale=net.init_scale,
        seed=student_seed,
    ).initialize()
    rule = build_rule(rule_t)
    trainer = MinibatchTrainer(
        rule=rule,
        learning_rate=train.learning_rate,
        batch_size=train.batch_size,
        epochs=train.epochs,
        rescale_norms=train.rescale_norms,
        record_every=train.record_every,
        threshold=metric.threshold,
        stop_at_threshold=train.stop_at_threshold,
        backend=backend.name,
        device=backend.device,
        seed=train_seed,
    ).fit(student, data)
    h = trainer.history_
    reached = not math.isnan(h.epochs_to_threshold)
    metrics = {
        "final_train_error": student.error(data.x_train, data.y_train),
        "final_test_error": student.error(data.x_test, data.y_test),
        "epochs_to_threshold": h.epochs_to_threshold if reached else -1.0,
        "reached_threshold": float(reached),
        "epochs_run": float(h.epochs_run),
    }
    if train.lyapunov_epochs > 0:
        from neurolearn.teacher.diagnostics import lyapunov_exponent

        probe = TwoLayerNetwork(
            n_inputs=t.n_inputs,
            n_hidden=net.n_hidden,
            n_outputs=t.n_outputs,
            activation=net.activation,
            output_activation=_out_act(net),
        ).set_weights(student.w1_, student.w2_)
        metrics["lyapunov_exponent"] = lyapunov_exponent(
            probe,
            data,
            rule,
            learning_rate=train.learning_rate,
            batch_size=train.batch_size,
            epochs=train.lyapunov_epochs,
            rescale_norms=train.rescale_norms,
            seed=np.random.default_rng(seed.spawn(1)[0]),
        )
    if train.curl_diagnostics:
        from neurolearn.teacher.diagnostics import curl_diagnostics

        diag = curl_diagnostics(
            rule,
            student.w1_,
            student.w2_,
            data.x_train,
            data.y_train,
            student.activation,
            student.output_activation_,
            trainer.feedback_,
        )
        metrics.update(
            {
                "curl_ratio": diag["curl_ratio"],
                "curl_antisymmetric_norm": diag["antisymmetric_norm"],
            }
        )
    arrays = {
        "train_error": xr.DataArray(
            h.train_error,
            dims="epoch",
            coords={"epoch": h.epochs},
            attrs={"long_name": "training error 0.5 <(y_hat - y)^2>"},
        ),
        "test_error": xr.DataArray(
            h.test_error,
            dims="epoch",
            coords={"epoch": h.epochs},
            attrs={"long_name": "test error"},
        ),
    }
    return Outcome(
        metrics=metrics, arrays=arrays, figure=teacher_run_figure, attrs={"rule": repr(rule)}
    )


def _run_online(model, task, seed, backend) -> Outcome:
    import xarray as xr

    from neurolearn.errors import BackendError, SpecError
    from neurolearn.teacher.online import OnlineTrainer
    from neurolearn.teacher.theory import generalisation_error, integrate_odes

    net, rule_t, train, t, metric = model.network, model.rule, model.train, task.task, task.metric
    if backend.name not in ("numba", "numpy"):
        raise BackendError(
            "The teacher-online task runs on backend='numba' or 'numpy'. "
            f"Got backend {backend.name!r} instead."
        )
    rule = build_rule(rule_t)
    if isinstance(rule, FeedbackAlignment):
        raise SpecError(
            f"{model.source}: rule.kind: 'feedback-alignment' is not available for the "
            "teacher-online task (its order-parameter theory needs backpropagated errors)."
        )
    teacher_seed, student_seed, train_seed = np.random.default_rng(seed).spawn(3)
    m = t.n_inputs
    t_act = _teacher_act(t, net)
    out_act = "linear" if t.committee else (_out_act(net) or net.activation)
    if t.teacher_init == "orthonormal" and t.teacher_hidden <= m:
        b = np.linalg.qr(teacher_seed.standard_normal((m, t.teacher_hidden)))[0].T
    else:
        b = teacher_seed.standard_normal((t.teacher_hidden, m)) / math.sqrt(m)
    tw2 = (
        np.ones((1, t.teacher_hidden))
        if t.committee
        else teacher_seed.uniform(-1, 1, (1, t.teacher_hidden)) / math.sqrt(t.teacher_hidden)
    )
    teacher = TwoLayerNetwork(
        n_inputs=m, n_hidden=t.teacher_hidden, activation=t_act, output_activation=out_act
    ).set_weights(b, tw2)
    w1 = t.student_init_std * student_seed.standard_normal((net.n_hidden, m)) / math.sqrt(m)
    w2 = (
        np.ones((1, net.n_hidden))
        if t.committee
        else student_seed.uniform(-net.init_scale, net.init_scale, (1, net.n_hidden))
        / math.sqrt(net.n_hidden)
    )
    student = TwoLayerNetwork(
        n_inputs=m, n_hidden=net.n_hidden, activation=net.activation, output_activation=out_act
    ).set_weights(w1, w2)
    trainer = OnlineTrainer(
        rule=rule,
        learning_rate=train.learning_rate,
        alpha_max=t.alpha_max,
        record_every_alpha=t.record_every_alpha,
        train_second_layer=not t.committee,
        label_noise_std=t.label_noise_std,
        n_test=t.n_test,
        backend=backend.name,
        seed=train_seed,
    ).fit(student, teacher)
    h = trainer.history_
    arrays = {"test_error": xr.DataArray(h.test_error, dims="alpha", coords={"alpha": h.alpha})}
    metrics = {"final_test_error": float(h.test_error[-1])}
    below = np.flatnonzero(h.test_error < metric.threshold)
    metrics["alpha_to_threshold"] = float(h.alpha[below[0]]) if below.size else -1.0
    s1, s2 = rule.signs(m, net.n_hidden)
    closed = (
        net.activation == t_act
        and net.activation in ("erf", "linear")
        and out_act == "linear"
        and np.all(s1 > 0)
    )
    if t.theory and closed:
        tt = b @ b.T
        v0, vt = h.w2[0, 0], tw2[0]
        eg = np.array(
            [
                generalisation_error(q, r, tt, v[0], vt, net.activation)
                for q, r, v in zip(h.q, h.r, h.w2, strict=True)
            ]
        )
        sol = integrate_odes(
            h.q[0],
            h.r[0],
            tt,
            v0,
            vt,
            learning_rate=train.learning_rate,
            alpha=h.alpha,
            activation=net.activation,
            hidden_signs=s2,
            train_second_layer=not t.committee,
            label_noise_std=t.label_noise_std,
        )
        arrays["generalisation_error"] = xr.DataArray(eg, dims="alpha")
        arrays["ode_generalisation_error"] = xr.DataArray(sol.generalisation_error, dims="alpha")
        metrics["final_generalisation_error"] = float(eg[-1])
        metrics["ode_final_generalisation_error"] = float(sol.generalisation_error[-1])
    return Outcome(
        metrics=metrics, arrays=arrays, figure=teacher_online_run_figure, attrs={"rule": repr(rule)}
    )


# ---------------------------------------------------------------- checks before a run
MEMORY_KEYS = ("network.n_hidden", "task.n_inputs", "task.n_train", "train.epochs")


def estimate_memory(model, task) -> int:
    """Peak memory (bytes) of a student-teacher run, float64 throughout.

    Finite data (``teacher``), with ``M`` inputs, ``K`` outputs, ``N`` hidden units, ``P``
    training and ``Q`` test samples: the epoch permutations of one chunk of epochs, ``24 E``
    for ``E = min(epochs, 2^21 // P) P`` entries (drawn, stacked, cast), the data and labels
    with their noise ``16 (P + Q)(M + K)``, hidden activities of the student and the teacher
    on a whole set ``16 (P + Q)(N + N_teacher)``, and with ``curl_diagnostics`` the update
    field's Jacobian and its parts ``32 D^2``, ``D = N (M + K)``.

    Online (``teacher-online``): the test set ``16 Q M``, one record's fresh samples
    ``16 M^2 record_every_alpha`` (``M record_every_alpha`` steps of ``M`` inputs, drawn
    together), hidden activities ``8 Q (N + N_teacher)`` and the recorded order parameters
    ``8 points (N^2 + N N_teacher + N)``, ``points = alpha_max / record_every_alpha + 1``.
    """
    net, t = model.network, task.task
    n, m = net.n_hidden, t.n_inputs
    if t.kind_name == "teacher":
        k, p, q = t.n_outputs, t.n_train, t.n_test
        train = model.train
        entries = min(train.epochs, max(1, 2**21 // p)) * p
        total = 24 * entries + 16 * (p + q) * (m + k)
        total += 16 * (p + q) * (n + t.teacher_hidden)
        if train.curl_diagnostics:
            total += 32 * (n * (m + k)) ** 2
        return int(total + 64 * (n * (m + k) + t.teacher_hidden * (m + k)))
    q = t.n_test
    points = t.alpha_max / t.record_every_alpha + 1
    total = 16 * q * m + 16 * m * m * t.record_every_alpha + 8 * q * (n + t.teacher_hidden)
    total += 8 * points * (n * n + n * t.teacher_hidden + n) + 64 * (n + t.teacher_hidden) * m
    return int(total)


def check_specs(model, task) -> None:
    """Cross-field constraints of a student-teacher run: refused before anything is drawn.

    Flipped neurons must exist (counts at most, indices below, ``task.n_inputs`` and
    ``network.n_hidden``), and feedback alignment has no online order-parameter theory.
    """
    from neurolearn.errors import SpecError

    rule, t = model.rule, task.task
    if isinstance(rule, FeedbackAlignmentTable) and t.kind_name == "teacher-online":
        raise SpecError(
            f"{model.source}: rule.kind: must be 'gradient-descent' or 'curl-descent' for the "
            "teacher-online task (its order-parameter theory needs backpropagated errors). "
            "Got 'feedback-alignment' instead."
        )
    sizes = {
        "flipped_inputs": ("task.n_inputs", t.n_inputs),
        "flipped_hidden": ("network.n_hidden", model.network.n_hidden),
    }
    for key, (size_key, size) in sizes.items():
        flips = getattr(rule, key, 0)
        if isinstance(flips, int) and flips > size:
            raise SpecError(
                f"{model.source}: rule.{key}: must be a count in [0, {size}] ({size_key} = "
                f"{size}). Got {flips} instead."
            )
        if isinstance(flips, list) and any(i >= size for i in flips):
            raise SpecError(
                f"{model.source}: rule.{key}: must hold indices in [0, {size - 1}] ({size_key} "
                f"= {size}). Got {short_repr(flips)} instead."
            )
