r"""Diagnostics of non-gradient learning: the curl of the update field and Lyapunov exponents.

A rule's mean update field is ``F(theta) = -S grad L(theta)`` for curl descent (``S`` the diagonal
sign matrix over parameters). Its Jacobian ``J = -S H`` has the antisymmetric part
``(J - J^T) / 2 = -(S H - H S) / 2``, which vanishes for a gradient field (``S = I``) and measures
the rotation ("curl") that rule flips add. :func:`curl_diagnostics` computes it by central
differences; :func:`lyapunov_exponent` measures how fast nearby weight trajectories separate
(Benettin's method with the same mini-batch sequence for both trajectories).
"""

from __future__ import annotations

import math

import numpy as np

from neurolearn._params import Boolean, Interval, check_array, check_param
from neurolearn._rng import as_generator
from neurolearn.errors import ParameterTypeError
from neurolearn.teacher.networks import TwoLayerNetwork, activation_code
from neurolearn.teacher.rules import GradientDescent, LearningRule
from neurolearn.teacher.training import check_data, epoch_orders

__all__ = ["update_field", "update_jacobian", "curl_diagnostics", "lyapunov_exponent"]


def update_field(rule, w1, w2, x, y, activation="tanh", output_activation=None, feedback=None):
    """Full-batch update direction of ``rule`` at ``(w1, w2)``, flattened as ``[W1, W2]``.

    Examples
    --------
    >>> f = update_field(GradientDescent(), np.eye(2), np.ones((1, 2)), np.eye(2),
    ...                  np.zeros((2, 1)), "linear")
    >>> f.shape
    (6,)
    """
    d1, d2 = rule.direction(w1, w2, x, y, activation, output_activation, feedback)
    return np.concatenate([d1.ravel(), d2.ravel()])


def update_jacobian(
    rule, w1, w2, x, y, activation="tanh", output_activation=None, feedback=None, step=1e-6
):
    """Jacobian of :func:`update_field` by central differences, shape (n_params, n_params).

    Examples
    --------
    >>> j = update_jacobian(GradientDescent(), np.eye(2), np.ones((1, 2)), np.eye(2),
    ...                     np.zeros((2, 1)), "linear")
    >>> bool(np.allclose(j, j.T, atol=1e-6))
    True
    """
    theta = np.concatenate([np.ravel(w1), np.ravel(w2)]).astype(float)
    n1 = np.size(w1)
    shape1, shape2 = np.shape(w1), np.shape(w2)
    jac = np.empty((theta.size, theta.size))
    for i in range(theta.size):
        cols = []
        for sign in (1.0, -1.0):
            t = theta.copy()
            t[i] += sign * step
            cols.append(
                update_field(
                    rule,
                    t[:n1].reshape(shape1),
                    t[n1:].reshape(shape2),
                    x,
                    y,
                    activation,
                    output_activation,
                    feedback,
                )
            )
        jac[:, i] = (cols[0] - cols[1]) / (2 * step)
    return jac


def curl_diagnostics(
    rule, w1, w2, x, y, activation="tanh", output_activation=None, feedback=None
) -> dict:
    r"""Size of the antisymmetric (curl) part of the update field's Jacobian.

    Returns
    -------
    dict
        ``antisymmetric_norm`` = :math:`\|(J - J^\top)/2\|_F`, ``symmetric_norm`` =
        :math:`\|(J + J^\top)/2\|_F` and ``curl_ratio`` = antisymmetric / total Frobenius norm
        (0 for a gradient field).

    Examples
    --------
    >>> from neurolearn.teacher.rules import CurlDescent
    >>> rng = np.random.default_rng(0)
    >>> w1, w2, x = rng.normal(size=(3, 2)), rng.normal(size=(1, 3)), rng.normal(size=(8, 2))
    >>> y = rng.normal(size=(8, 1))
    >>> gd = curl_diagnostics(GradientDescent(), w1, w2, x, y, "tanh", "linear")
    >>> cd = curl_diagnostics(CurlDescent(flipped_hidden=1), w1, w2, x, y, "tanh", "linear")
    >>> bool(gd["curl_ratio"] < 1e-6 < cd["curl_ratio"])
    True
    """
    jac = update_jacobian(rule, w1, w2, x, y, activation, output_activation, feedback)
    anti = 0.5 * (jac - jac.T)
    sym = 0.5 * (jac + jac.T)
    total = float(np.linalg.norm(jac))
    a = float(np.linalg.norm(anti))
    return {
        "antisymmetric_norm": a,
        "symmetric_norm": float(np.linalg.norm(sym)),
        "curl_ratio": a / total if total > 0 else 0.0,
    }


def lyapunov_exponent(
    student,
    data,
    rule=None,
    *,
    learning_rate=0.1,
    batch_size=10,
    epochs=200,
    rescale_norms=True,
    perturbation=1e-7,
    seed=None,
) -> float:
    r"""Largest Lyapunov exponent of the mini-batch weight dynamics, per epoch.

    Two copies of the student (the second displaced by ``perturbation`` in a random direction)
    see the same mini-batches; after every epoch their distance ``d`` in weight space is
    logged and the copy is pulled back to distance ``perturbation`` along the same direction.

    .. math:: \lambda_{max} = \frac{1}{n_{epochs}} \sum_{e} \log(d_e / d_0)

    Positive values mean nearby initial conditions separate (chaotic learning); a converging
    learner gives values <= 0. Divide by ``learning_rate`` for a rate per unit of learning time.

    Examples
    --------
    >>> from neurolearn.teacher import TwoLayerNetwork, make_teacher
    >>> from neurolearn.tasks.teacher import make_teacher_data
    >>> data = make_teacher_data(make_teacher(6, 3, activation="linear", seed=0), 40, 10, seed=1)
    >>> s = TwoLayerNetwork(n_inputs=6, n_hidden=3, activation="linear", seed=2).initialize()
    >>> bool(lyapunov_exponent(s, data, epochs=30, seed=3) < 0.01)
    True
    """
    from neurolearn._kernels.numba.teacher import train_minibatch_epochs
    from neurolearn._kernels.teacher_groups import Dataset, MinibatchRule, Recording

    check_param("lyapunov_exponent", "epochs", epochs, Interval(int, 1, None))
    check_param(
        "lyapunov_exponent", "perturbation", perturbation, Interval(float, 0, None, "neither")
    )
    learning_rate = check_param(
        "lyapunov_exponent", "learning_rate", learning_rate, Interval(float, 0, None, "neither")
    )
    batch_size = check_param("lyapunov_exponent", "batch_size", batch_size, Interval(int, 1, None))
    rescale_norms = check_param("lyapunov_exponent", "rescale_norms", rescale_norms, Boolean())
    rule = GradientDescent() if rule is None else rule
    if not isinstance(rule, LearningRule):
        raise ParameterTypeError(
            f"The 'rule' parameter of lyapunov_exponent must be a LearningRule or None. "
            f"Got {rule!r} instead."
        )
    if not isinstance(student, TwoLayerNetwork):
        raise ParameterTypeError(
            "The 'student' parameter of lyapunov_exponent must be a TwoLayerNetwork. "
            f"Got {type(student).__name__} instead."
        )
    check_data("lyapunov_exponent", data)
    student._prepare_for_training()
    x = student.check_inputs(data.x_train, "x_train")
    y = check_array(
        "lyapunov_exponent",
        "y_train",
        data.y_train,
        shape=(x.shape[0], student.n_outputs),
        shape_doc=f"(n_train, {student.n_outputs})",
    )
    s1, s2 = rule.signs(student.n_inputs, student.n_hidden)
    fb_rng, order_rng, dir_rng = as_generator(seed, "lyapunov_exponent").spawn(3)
    feedback = rule.feedback(student.n_outputs, student.n_hidden, fb_rng)
    fb = feedback if feedback is not None else np.zeros_like(student.w2_)
    act, out_act = activation_code(student.activation), activation_code(student.output_activation_)
    a1, a2 = student.w1_.copy(), student.w2_.copy()
    n1 = np.linalg.norm(a1) if rescale_norms else 0.0
    n2 = np.linalg.norm(a2) if rescale_norms else 0.0
    direction = dir_rng.standard_normal(a1.size + a2.size)
    direction *= perturbation / np.linalg.norm(direction)
    b1 = a1 + direction[: a1.size].reshape(a1.shape)
    b2 = a2 + direction[a1.size :].reshape(a2.shape)
    step = learning_rate * min(batch_size, x.shape[0]) / x.shape[0]
    rule = MinibatchRule(
        step_size=step,
        batch_size=batch_size,
        activation=act,
        output_activation=out_act,
        input_signs=s1,
        hidden_signs=s2,
        feedback=fb,
        use_feedback=feedback is not None,
        norm1=n1,
        norm2=n2,
    )
    data = Dataset(x=x, y=y, x_test=x, y_test=y)
    dummy = np.zeros(1)
    record = Recording(record_every=1 << 30, train_curve=dummy, test_curve=dummy)
    total = 0.0
    for epoch in range(epochs):
        orders = epoch_orders(order_rng, 1, x.shape[0])
        for w1, w2 in ((a1, a2), (b1, b2)):
            _, status = train_minibatch_epochs(w1, w2, rule, data, orders, epoch, 0.0, record)
            if status == -1:
                from neurolearn.errors import DivergenceError

                raise DivergenceError(
                    f"weights became non-finite at epoch {epoch + 1}.", step=epoch + 1
                )
        diff = np.concatenate([(b1 - a1).ravel(), (b2 - a2).ravel()])
        dist = float(np.linalg.norm(diff))
        if dist == 0.0:
            return -math.inf
        total += math.log(dist / perturbation)
        diff *= perturbation / dist
        b1[...] = a1 + diff[: a1.size].reshape(a1.shape)
        b2[...] = a2 + diff[a1.size :].reshape(a2.shape)
    return total / epochs
