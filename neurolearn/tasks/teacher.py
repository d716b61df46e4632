"""Student-teacher tasks: teacher data generators and the ``teacher`` / ``teacher-online`` tables.

:func:`make_teacher_data` draws a finite training set and a test set labelled by a teacher
network (the curl-descent setting); :func:`teacher_samples` draws fresh labelled samples (online
learning). Both work with any object that has ``predict(x)`` and ``n_inputs`` (normally a
:class:`neurolearn.teacher.networks.TwoLayerNetwork`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from neurolearn._params import Boolean, Interval, Options, check_param
from neurolearn._rng import as_generator
from neurolearn._schema import SpecTable, param, spec_table
from neurolearn.teacher import _declared as D

__all__ = [
    "TeacherData",
    "make_teacher_data",
    "make_teacher_task",
    "teacher_samples",
    "TeacherTask",
    "TeacherOnlineTask",
    "LearningCurveMetric",
    "DEFAULT_KINDS",
    "REQUIRED_SECTIONS",
]


@dataclass(frozen=True)
class TeacherData:
    """A finite student-teacher data set.

    Attributes
    ----------
    x_train : ndarray (n_train, n_inputs)
    y_train : ndarray (n_train, n_outputs)
    x_test : ndarray (n_test, n_inputs)
    y_test : ndarray (n_test, n_outputs)
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def teacher_samples(
    teacher, n_samples: int, seed=None, *, input_std: float = 1.0, label_noise_std: float = 0.0
):
    """``n_samples`` fresh inputs ``x ~ N(0, input_std^2 I)`` and labels ``teacher(x) + noise``.

    Returns
    -------
    x : ndarray (n_samples, n_inputs)
    y : ndarray (n_samples, n_outputs)

    Examples
    --------
    >>> from neurolearn.teacher.networks import make_teacher
    >>> x, y = teacher_samples(make_teacher(5, 2, seed=0), 3, seed=1)
    >>> x.shape, y.shape
    ((3, 5), (3, 1))
    """
    check_param("teacher_samples", "n_samples", n_samples, Interval(int, 0, None))
    check_param("teacher_samples", "input_std", input_std, Interval(float, 0, None, "neither"))
    check_param("teacher_samples", "label_noise_std", label_noise_std, Interval(float, 0, None))
    rng = as_generator(seed, "teacher_samples")
    x = input_std * rng.standard_normal((n_samples, teacher.n_inputs))
    y = teacher.predict(x)
    if label_noise_std > 0:
        y = y + label_noise_std * rng.standard_normal(y.shape)
    return x, y


def make_teacher_data(
    teacher,
    n_train: int,
    n_test: int = 1000,
    seed=None,
    *,
    input_std: float = math.sqrt(0.5),
    label_noise_std: float = 0.0,
):
    """Training and test sets labelled by ``teacher`` (inputs i.i.d. N(0, input_std^2)).

    The default ``input_std = sqrt(1/2)`` is the curl-descent paper's input variance 1/2.

    Parameters
    ----------
    teacher : TwoLayerNetwork
        Initialised teacher (see :func:`neurolearn.teacher.networks.make_teacher`).
    n_train, n_test : int
        Sizes P of the training set (>= 1) and of the test set (>= 1).
    seed : int, Generator or None
        Training inputs come from one child stream, test inputs from another.
    input_std, label_noise_std : float

    Examples
    --------
    >>> from neurolearn.teacher.networks import make_teacher
    >>> data = make_teacher_data(make_teacher(10, 3, seed=0), n_train=50, n_test=20, seed=1)
    >>> data.x_train.shape, data.y_test.shape
    ((50, 10), (20, 1))
    """
    check_param("make_teacher_data", "n_train", n_train, Interval(int, 1, None))
    check_param("make_teacher_data", "n_test", n_test, Interval(int, 1, None))
    train_rng, test_rng = as_generator(seed, "make_teacher_data").spawn(2)
    x_train, y_train = teacher_samples(
        teacher, n_train, train_rng, input_std=input_std, label_noise_std=label_noise_std
    )
    x_test, y_test = teacher_samples(
        teacher, n_test, test_rng, input_std=input_std, label_noise_std=label_noise_std
    )
    return TeacherData(x_train, y_train, x_test, y_test)


def make_teacher_task(
    task, *, student_activation: str, output_activation=None, teacher_seed, data_seed
):
    """The teacher network and the data set of a ``teacher`` task table.

    Every family that trains on the ``teacher`` task builds it here, so one spec and seed give
    one teacher and one data set whichever family runs it.

    Parameters
    ----------
    task : TeacherTask
        The ``[task]`` table (kind ``teacher``).
    student_activation : str
        The student's hidden activation (the teacher's when ``task.teacher_activation`` is
        ``'student'``).
    output_activation : str or None, default=None
        The teacher's output activation (the model's network spec decides it); None gives the
        teacher's hidden activation.
    teacher_seed, data_seed : int, Generator or SeedSequence
        Streams of the teacher's weights and of the data.

    Returns
    -------
    teacher : TwoLayerNetwork
    data : TeacherData

    Examples
    --------
    >>> from neurolearn.specs import load_task
    >>> task = load_task("teacher").task
    >>> teacher, data = make_teacher_task(
    ...     task, student_activation="tanh", output_activation="linear", teacher_seed=0,
    ...     data_seed=1)
    >>> teacher.output_activation, data.x_train.shape == (task.n_train, task.n_inputs)
    ('linear', True)
    """
    from neurolearn.teacher.networks import make_teacher

    act = student_activation if task.teacher_activation == "student" else task.teacher_activation
    teacher = make_teacher(
        task.n_inputs,
        task.teacher_hidden,
        task.n_outputs,
        activation=act,
        output_activation=act if output_activation is None else output_activation,
        init_scale=task.teacher_init_scale,
        seed=teacher_seed,
    )
    data = make_teacher_data(
        teacher,
        task.n_train,
        task.n_test,
        data_seed,
        input_std=math.sqrt(task.input_variance),
        label_noise_std=task.label_noise_std,
    )
    return teacher, data


# ---------------------------------------------------------------- spec tables

_ACTS = ("student", "linear", "tanh", "relu", "sigmoid", "erf")


@spec_table("task", "teacher")
class TeacherTask(SpecTable):
    """Finite data set labelled by a random teacher, reshuffled mini-batch epochs."""

    n_inputs: int = D.spec_field(D.NETWORK["n_inputs"])
    teacher_hidden: int = param(10, Interval(int, 1, None), "hidden units of the teacher")
    n_outputs: int = D.spec_field(D.NETWORK["n_outputs"])
    teacher_activation: str = param(
        "student", Options(_ACTS), "teacher activation; 'student' = same as the student's"
    )
    teacher_init_scale: float = param(
        1.0, Interval(float, 0, None, "neither"), "teacher weights U(-r/sqrt(fan_in), +r/...)"
    )
    n_train: int = param(2000, Interval(int, 1, None), "training set size P")
    n_test: int = param(1000, Interval(int, 1, None), "test set size")
    input_variance: float = param(0.5, Interval(float, 0, None, "neither"), "variance of x")
    label_noise_std: float = param(0.0, Interval(float, 0, None), "std of label noise")


@spec_table("task", "teacher-online")
class TeacherOnlineTask(SpecTable):
    """Online learning from a fresh sample per step (Saad-Solla scaling), x ~ N(0, I)."""

    n_inputs: int = D.spec_field(D.NETWORK["n_inputs"], spec_default=500)
    teacher_hidden: int = param(2, Interval(int, 1, None), "hidden units of the teacher")
    teacher_activation: str = param("student", Options(_ACTS), "teacher activation")
    teacher_init: str = param(
        "orthonormal",
        Options(("orthonormal", "normal")),
        "teacher W1: orthonormal rows (T = I) or N(0, 1/M) entries",
    )
    alpha_max: float = D.spec_field(D.ONLINE_TRAINER["alpha_max"])
    record_every_alpha: float = D.spec_field(D.ONLINE_TRAINER["record_every_alpha"])
    committee: bool = param(
        True,
        Boolean(),
        "soft committee machine: linear output, second layers fixed to 1 (student and teacher)",
    )
    student_init_std: float = param(
        1.0, Interval(float, 0, None), "std of student W1 entries times sqrt(M)"
    )
    n_test: int = D.spec_field(D.ONLINE_TRAINER["n_test"])
    label_noise_std: float = D.spec_field(D.ONLINE_TRAINER["label_noise_std"])
    theory: bool = param(True, Boolean(), "integrate the order-parameter ODEs beside (erf/linear)")


@spec_table("metric", "learning-curve")
class LearningCurveMetric(SpecTable):
    """Final train/test error and the first epoch (or alpha) below a threshold."""

    threshold: float = D.spec_field(D.MINIBATCH["threshold"])


DEFAULT_KINDS = {"metric": "learning-curve"}
REQUIRED_SECTIONS = {"tasks": ("task",)}
