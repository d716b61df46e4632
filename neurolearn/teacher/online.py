"""Online learning: a fresh sample per step, Saad-Solla scaling (time ``alpha = steps / M``).

:class:`OnlineTrainer` trains a :class:`~neurolearn.teacher.networks.TwoLayerNetwork` on samples
``x ~ N(0, I_M)`` labelled by a teacher, recording the test error and the order parameters
that :mod:`neurolearn.teacher.theory` integrates.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from neurolearn._params import Boolean, Interval, check_param
from neurolearn._rng import as_generator
from neurolearn.errors import DivergenceError, ParameterTypeError
from neurolearn.teacher.networks import TwoLayerNetwork, activation_code, mean_squared_error
from neurolearn.teacher.rules import GradientDescent, LearningRule

__all__ = ["OnlineHistory", "OnlineTrainer"]


@dataclass
class OnlineHistory:
    """Curves of one online run, recorded at times ``alpha = steps / n_inputs``.

    Attributes
    ----------
    alpha : ndarray
    test_error : ndarray
        ``0.5 * mean |y_hat - y|^2`` on a fixed noiseless test set.
    q, r : ndarray (n_points, K, K) and (n_points, K, M)
        Order parameters ``Q = W1 W1^T`` and ``R = W1 B^T`` (inputs N(0, I)).
    w2 : ndarray (n_points, n_outputs, K)
    """

    alpha: np.ndarray
    test_error: np.ndarray
    q: np.ndarray
    r: np.ndarray
    w2: np.ndarray


class OnlineTrainer:
    r"""Online learning with a fresh sample ``x ~ N(0, I_M)`` per step (Saad-Solla scaling).

    Parameters
    ----------
    rule : LearningRule or None, default=None
        Gradient descent when None; :class:`~neurolearn.teacher.rules.CurlDescent` flips apply
        (``flipped_inputs`` per input neuron, ``flipped_hidden`` on the second layer).
    learning_rate : float, default=0.5
    alpha_max : float, default=100.0
        Training time; ``round(alpha_max * M)`` steps.
    record_every_alpha : float, default=1.0
    train_second_layer : bool, default=True
    hidden_input_flips : int or sequence of int, default=0
        Hidden units whose *incoming* weights learn with the flipped sign (the order-parameter
        ODEs stay closed for these).
    label_noise_std : float, default=0.0
    n_test : int, default=2000
    seed : int, Generator or None, default=None

    Notes
    -----
    With ``a = W1 x`` and ``e = y - y_hat``:
    :math:`W_1 \mathrel{+}= \frac{\eta}{M}\, ((W_2^\top e)\odot\phi'(a))\, x^\top`,
    :math:`W_2 \mathrel{+}= \frac{\eta}{M}\, e\, \phi(a)^\top`.

    Examples
    --------
    >>> from neurolearn.teacher import TwoLayerNetwork, make_teacher
    >>> teacher = make_teacher(50, 2, activation="erf", output_activation="linear", seed=0)
    >>> student = TwoLayerNetwork(n_inputs=50, n_hidden=2, activation="erf",
    ...                           output_activation="linear", seed=1).initialize()
    >>> h = OnlineTrainer(alpha_max=5, seed=2).fit(student, teacher).history_
    >>> float(h.alpha[-1]), h.q.shape
    (5.0, (6, 2, 2))
    """

    def __init__(
        self,
        *,
        rule: LearningRule | None = None,
        learning_rate: float = 0.5,
        alpha_max: float = 100.0,
        record_every_alpha: float = 1.0,
        train_second_layer: bool = True,
        hidden_input_flips=0,
        label_noise_std: float = 0.0,
        n_test: int = 2000,
        seed=None,
    ):
        self.rule = rule
        self.learning_rate = learning_rate
        self.alpha_max = alpha_max
        self.record_every_alpha = record_every_alpha
        self.train_second_layer = train_second_layer
        self.hidden_input_flips = hidden_input_flips
        self.label_noise_std = label_noise_std
        self.n_test = n_test
        self.seed = seed

    def fit(self, student: TwoLayerNetwork, teacher: TwoLayerNetwork) -> OnlineTrainer:
        """Train ``student`` online on samples labelled by ``teacher``; sets ``history_``."""
        from neurolearn._kernels.numba.teacher import train_online_steps
        from neurolearn._kernels.teacher_groups import OnlineRule, TeacherWeights
        from neurolearn.teacher.rules import flip_signs

        owner = type(self).__name__
        check_param(owner, "learning_rate", self.learning_rate, Interval(float, 0, None, "neither"))
        check_param(owner, "alpha_max", self.alpha_max, Interval(float, 0, None, "neither"))
        check_param(
            owner,
            "record_every_alpha",
            self.record_every_alpha,
            Interval(float, 0, None, "neither"),
        )
        check_param(owner, "train_second_layer", self.train_second_layer, Boolean())
        check_param(owner, "label_noise_std", self.label_noise_std, Interval(float, 0, None))
        check_param(owner, "n_test", self.n_test, Interval(int, 1, None))
        rule = GradientDescent() if self.rule is None else self.rule
        if not isinstance(rule, LearningRule) or rule.uses_feedback:
            raise ParameterTypeError(
                f"The 'rule' parameter of {owner} must be GradientDescent or CurlDescent. "
                f"Got {rule!r} instead."
            )
        for net, name in ((student, "student"), (teacher, "teacher")):
            if not isinstance(net, TwoLayerNetwork) or not hasattr(net, "w1_"):
                raise ParameterTypeError(
                    f"The '{name}' parameter of {owner}.fit must be an initialised "
                    f"TwoLayerNetwork. Got {net!r} instead."
                )
        student._prepare_for_training()
        teacher._check_fitted()
        if teacher.n_inputs != student.n_inputs or teacher.n_outputs != student.n_outputs:
            from neurolearn.errors import ParameterError

            raise ParameterError(
                f"student and teacher of {owner}.fit must have the same n_inputs and n_outputs. "
                f"Got student ({student.n_inputs}, {student.n_outputs}) and teacher "
                f"({teacher.n_inputs}, {teacher.n_outputs})."
            )
        n_in = student.n_inputs
        s1, s2 = rule.signs(n_in, student.n_hidden)
        s_in = flip_signs(self.hidden_input_flips, student.n_hidden, owner, "hidden_input_flips")
        act = activation_code(student.activation)
        out_act = activation_code(student.output_activation_)
        rng = as_generator(self.seed, owner)
        data_rng, noise_rng, test_rng = rng.spawn(3)
        x_test = test_rng.standard_normal((self.n_test, n_in))
        y_test = teacher.predict(x_test)
        w1, w2 = student.w1_.copy(), student.w2_.copy()
        tw1, tw2 = teacher.w1_, teacher.w2_
        steps_per_record = max(1, round(self.record_every_alpha * n_in))
        total = round(self.alpha_max * n_in)
        n_points = total // steps_per_record + 1
        alpha = np.arange(n_points) * steps_per_record / n_in
        test_error = np.empty(n_points)
        q = np.empty((n_points, student.n_hidden, student.n_hidden))
        r = np.empty((n_points, student.n_hidden, teacher.n_hidden))
        w2_hist = np.empty((n_points,) + w2.shape)

        def record(i):
            test_error[i] = mean_squared_error(
                w1, w2, x_test, y_test, student.activation, student.output_activation_
            )
            q[i], r[i], w2_hist[i] = w1 @ w1.T, w1 @ tw1.T, w2

        labeller = TeacherWeights(w1=tw1, w2=tw2)
        online_rule = OnlineRule(
            learning_rate=float(self.learning_rate),
            train_second_layer=bool(self.train_second_layer),
            activation=act,
            output_activation=out_act,
            input_signs=s1,
            hidden_in_signs=s_in,
            hidden_signs=s2,
        )
        record(0)
        for i in range(1, n_points):
            inputs = data_rng.standard_normal((steps_per_record, n_in))
            noise = self.label_noise_std * noise_rng.standard_normal(
                (steps_per_record, student.n_outputs)
            )
            ran = train_online_steps(w1, w2, labeller, inputs, noise, online_rule)
            if ran < 0 or not np.all(np.isfinite(w1)):
                step = (i - 1) * steps_per_record + abs(ran)
                raise DivergenceError(
                    f"online student diverged at step {step} (alpha = {step / n_in:.3g}).",
                    step=step,
                )
            record(i)
        student.w1_, student.w2_ = w1, w2
        self.history_ = OnlineHistory(alpha, test_error, q, r, w2_hist)
        return self
