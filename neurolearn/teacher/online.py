"""Online learning: a fresh sample per step, Saad-Solla scaling (time ``alpha = steps / M``).

:class:`OnlineTrainer` trains a :class:`~neurolearn.teacher.networks.TwoLayerNetwork` on samples
``x ~ N(0, I_M)`` labelled by a teacher, recording the test error and the order parameters
that :mod:`neurolearn.teacher.theory` integrates.
"""

from __future__ import annotations

import warnings

import numpy as np

from neurolearn._declare import Estimator
from neurolearn._history import History
from neurolearn._rng import as_generator
from neurolearn.backend import resolve_backend
from neurolearn.errors import BackendError, DivergenceError, ParameterError, ParameterTypeError
from neurolearn.teacher import _declared as D
from neurolearn.teacher.networks import (
    TwoLayerNetwork,
    activation_code,
    activation_functions,
    mean_squared_error,
)
from neurolearn.teacher.rules import GradientDescent, LearningRule

__all__ = ["OnlineTrainer"]


def __getattr__(name):
    if name == "OnlineHistory":
        warnings.warn(
            "neurolearn.teacher.online.OnlineHistory is deprecated; a trainer's history_ is a "
            "neurolearn.History",
            DeprecationWarning,
            2,
        )
        return History
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class OnlineTrainer(Estimator):
    r"""Online learning with a fresh sample ``x ~ N(0, I_M)`` per step (Saad-Solla scaling).

    Parameters
    ----------
    {parameters}

    Every parameter is validated at each :meth:`fit` and takes effect at the next one.

    Attributes
    ----------
    history_ : neurolearn.History
        Along ``alpha`` (``steps / n_inputs``): ``test_error`` (``0.5 * mean |y_hat - y|^2``
        on a fixed noiseless test set), the order parameters ``q = W1 W1^T`` (n_points, K, K)
        and ``r = W1 B^T`` (n_points, K, K_teacher), and ``w2`` (n_points, n_outputs, K).

    Notes
    -----
    With ``a = W1 x`` and ``e = y - y_hat``:
    :math:`W_1 \mathrel{+}= \frac{\eta}{M}\, ((W_2^\top e)\odot\phi'(a))\, x^\top`,
    :math:`W_2 \mathrel{+}= \frac{\eta}{M}\, e\, \phi(a)^\top`.

    :meth:`fit` trains the student it is given in place (its ``w1_``/``w2_`` are replaced by
    the trained weights; the arrays it held before are not written to). The teacher is only
    read.

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

    params = D.ONLINE_TRAINER

    def fit(self, student: TwoLayerNetwork, teacher: TwoLayerNetwork) -> OnlineTrainer:
        """Train ``student`` in place, online, on samples labelled by ``teacher``; sets
        ``history_``."""
        from neurolearn._kernels.teacher_groups import OnlineRule, TeacherWeights
        from neurolearn.teacher.rules import flip_signs

        owner = type(self).__name__
        self._check_params()
        engine = resolve_backend(self.backend).name
        if engine not in ("numba", "numpy"):
            raise BackendError(
                f"{owner} runs on backend='numba' or 'numpy'. Got backend {engine!r} instead."
            )
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
            raise ParameterError(
                f"student and teacher of {owner}.fit must have the same n_inputs and n_outputs. "
                f"Got student ({student.n_inputs}, {student.n_outputs}) and teacher "
                f"({teacher.n_inputs}, {teacher.n_outputs})."
            )
        same_activations = (teacher.activation, teacher.output_activation_) == (
            student.activation,
            student.output_activation_,
        )
        if engine == "numpy":
            train_online_steps = _numpy_online_steps(teacher)
        elif not same_activations:
            raise ParameterError(
                f"The numba engine of {owner} labels each sample with the student's activations, "
                f"but the teacher's ({teacher.activation!r}, {teacher.output_activation_!r}) "
                f"differ from the student's ({student.activation!r}, "
                f"{student.output_activation_!r}). Use backend='numpy' for such a teacher."
            )
        else:
            from neurolearn._kernels.numba.teacher import train_online_steps
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
        self.history_ = History(
            "alpha", {"alpha": alpha, "test_error": test_error, "q": q, "r": r, "w2": w2_hist}
        )
        return self


def _numpy_online_steps(teacher):
    """The online steps in plain numpy (the reference engine), labels from ``teacher`` with its
    own activations; same arguments and return value as the numba kernel
    ``train_online_steps(w1, w2, teacher_weights, inputs, label_noise, rule)``."""
    t_phi, _ = activation_functions(teacher.activation)
    t_phi_out, _ = activation_functions(teacher.output_activation_)

    def steps(w1, w2, teacher_weights, inputs, noise, rule):
        phi, dphi = activation_functions(D.ACTIVATION_NAMES[rule.activation])
        phi_out, _ = activation_functions(D.ACTIVATION_NAMES[rule.output_activation])
        tw1, tw2 = teacher_weights.w1, teacher_weights.w2
        step = rule.learning_rate / inputs.shape[1]
        for t, x in enumerate(inputs):
            pre = w1 @ x
            hidden = phi(pre)
            err = t_phi_out(tw2 @ t_phi(tw1 @ x)) + noise[t] - phi_out(w2 @ hidden)
            delta = step * rule.hidden_in_signs * (w2.T @ err) * dphi(pre)
            w1 += np.outer(delta, x * rule.input_signs)
            if rule.train_second_layer:
                w2 += step * np.outer(err, hidden * rule.hidden_signs)
            if not np.isfinite(err[0]):
                return -(t + 1)
        return inputs.shape[0]

    return steps
