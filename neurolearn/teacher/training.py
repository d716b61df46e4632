r"""Reshuffled mini-batch epochs on a finite data set (the curl-descent paper's protocol).

:class:`MinibatchTrainer` runs the whole loop in one numba kernel per chunk of epochs, with a
learning-rule object from :mod:`neurolearn.teacher.rules`; online learning (a fresh sample per
step) is :class:`neurolearn.teacher.online.OnlineTrainer`.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from neurolearn._declare import Estimator
from neurolearn._history import History
from neurolearn._params import check_array
from neurolearn._rng import as_generator
from neurolearn.backend import resolve_backend
from neurolearn.errors import DivergenceError, ParameterTypeError
from neurolearn.teacher import _declared as D
from neurolearn.teacher.networks import (
    TwoLayerNetwork,
    activation_code,
    mean_squared_error,
    two_layer_backward,
)
from neurolearn.teacher.rules import GradientDescent

__all__ = ["MinibatchTrainer", "epoch_orders"]

_CHUNK_ENTRIES = 1 << 21


def __getattr__(name):
    if name == "TrainingHistory":
        warnings.warn(
            "neurolearn.teacher.training.TrainingHistory is deprecated; a trainer's history_ is a "
            "neurolearn.History",
            DeprecationWarning,
            2,
        )
        return History
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def check_data(owner: str, data, name: str = "data") -> None:
    """``data`` must carry ``x_train``, ``y_train``, ``x_test`` and ``y_test`` (a TeacherData)."""
    missing = [k for k in ("x_train", "y_train", "x_test", "y_test") if not hasattr(data, k)]
    if missing:
        raise ParameterTypeError(
            f"The '{name}' parameter of {owner}.fit must be a TeacherData (from "
            f"make_teacher_data) with x_train, y_train, x_test and y_test. Got "
            f"{type(data).__name__} instead."
        )


def epoch_orders(rng: np.random.Generator, n_epochs: int, n_samples: int) -> np.ndarray:
    """``(n_epochs, n_samples)`` int64 array: one fresh permutation of the data per epoch.

    Examples
    --------
    >>> epoch_orders(np.random.default_rng(0), 2, 3).shape
    (2, 3)
    """
    return np.stack([rng.permutation(n_samples) for _ in range(n_epochs)]).astype(np.int64)


class MinibatchTrainer(Estimator):
    r"""Reshuffled mini-batch training of a two-layer student on a finite teacher data set.

    Parameters
    ----------
    {parameters}

    Every parameter is validated at each :meth:`fit` and takes effect at the next one.

    Attributes
    ----------
    history_ : neurolearn.History
        Along ``epochs`` (0 = before training; every ``record_every``-th epoch):
        ``train_error`` and ``test_error`` (``0.5 * mean |y_hat - y|^2``, NaN after an early
        stop); summary values ``epochs_run`` and ``epochs_to_threshold`` (the first epoch whose
        training error is below ``threshold``, NaN if never or without a threshold).
    feedback_ : ndarray or None
        The fixed feedback matrix of feedback alignment (None for the other rules).

    Notes
    -----
    Per step, for batch ``b`` of size ``B`` out of ``P`` samples:

    .. math:: W_2 \leftarrow W_2 - \eta \tfrac{B}{P}\langle e h^\top\rangle_b D_2,\quad
              W_1 \leftarrow W_1 - \eta \tfrac{B}{P}\langle ((F^\top e)\odot\phi'(a)) x^\top
              \rangle_b D_1

    :meth:`fit` trains the student it is given in place (like an optimizer, not a copy): its
    ``w1_`` and ``w2_`` are replaced by the trained weights (drawn first when it has none, or
    redrawn after a change of a parameter they are drawn from). The arrays it held before are
    not written to, so ``w1 = student.w1_`` taken before :meth:`fit` keeps the starting weights.

    Examples
    --------
    >>> from neurolearn.teacher import TwoLayerNetwork, make_teacher, CurlDescent
    >>> from neurolearn.tasks.teacher import make_teacher_data
    >>> data = make_teacher_data(make_teacher(8, 3, seed=0), n_train=40, n_test=20, seed=1)
    >>> student = TwoLayerNetwork(n_inputs=8, n_hidden=3, init_scale=2.0, seed=2).initialize()
    >>> trainer = MinibatchTrainer(rule=CurlDescent(flipped_hidden=1), epochs=20, seed=3)
    >>> h = trainer.fit(student, data).history_
    >>> h.train_error.shape, bool(h.train_error[-1] < h.train_error[0])
    ((21,), True)
    """

    params = D.MINIBATCH_TRAINER

    def _validate(self):
        self._check_params()
        return GradientDescent() if self.rule is None else self.rule

    def fit(self, student: TwoLayerNetwork, data) -> MinibatchTrainer:
        """Train ``student`` in place (its ``w1_``/``w2_`` are replaced) on ``data`` (a
        ``TeacherData``); sets ``history_``.

        Raises
        ------
        DivergenceError
            When weights or errors become non-finite; ``step`` is the epoch.
        """
        rule = self._validate()
        backend = resolve_backend(self.backend, self.device)
        owner = type(self).__name__
        if not isinstance(student, TwoLayerNetwork):
            raise ParameterTypeError(
                f"The 'student' parameter of {owner}.fit must be a TwoLayerNetwork. "
                f"Got {type(student).__name__} instead."
            )
        check_data(owner, data)
        student._validate()
        x = student.check_inputs(data.x_train, "x_train")
        x_test = student.check_inputs(data.x_test, "x_test")
        y = check_array(
            owner,
            "y_train",
            data.y_train,
            shape=(x.shape[0], student.n_outputs),
            shape_doc=f"(n_train, {student.n_outputs})",
        )
        y_test = check_array(
            owner,
            "y_test",
            data.y_test,
            shape=(x_test.shape[0], student.n_outputs),
            shape_doc=f"(n_test, {student.n_outputs})",
        )
        student._prepare_for_training()
        input_signs, hidden_signs = rule.signs(student.n_inputs, student.n_hidden)
        fb_rng, order_rng = as_generator(self.seed, owner).spawn(2)
        feedback = rule.feedback(student.n_outputs, student.n_hidden, fb_rng)
        self.feedback_ = feedback
        w1 = student.w1_.copy()
        w2 = student.w2_.copy()
        run = {"numba": _run_numba, "numpy": _run_numpy, "torch": _run_torch}[backend.name]
        hist, w1, w2 = run(
            self,
            student,
            w1,
            w2,
            feedback,
            x,
            y,
            x_test,
            y_test,
            input_signs,
            hidden_signs,
            order_rng,
        )
        student.w1_, student.w2_ = w1, w2
        self.history_ = hist
        return self

    def _common(self, student, x):
        n_train = x.shape[0]
        step = float(self.learning_rate) * min(self.batch_size, n_train) / n_train
        n_slots = self.epochs // self.record_every + 1
        thr = float(self.threshold) if self.threshold is not None else 0.0
        return step, n_slots, thr


def _finish(trainer, curves, epochs_run, first_below):
    train_curve, test_curve = curves
    epochs = np.arange(train_curve.shape[0]) * trainer.record_every
    return History(
        "epochs",
        {
            "epochs": epochs,
            "train_error": train_curve,
            "test_error": test_curve,
            "epochs_run": int(epochs_run),
            "epochs_to_threshold": float(first_below) if first_below is not None else math.nan,
        },
    )


def _run_numba(trainer, student, w1, w2, feedback, x, y, x_test, y_test, s1, s2, order_rng):
    from neurolearn._kernels.numba.teacher import mean_squared_error as kernel_mse
    from neurolearn._kernels.numba.teacher import train_minibatch_epochs
    from neurolearn._kernels.teacher_groups import Dataset, MinibatchRule, Recording

    step, n_slots, thr = trainer._common(student, x)
    act = activation_code(student.activation)
    out_act = activation_code(student.output_activation_)
    train_curve = np.full(n_slots, np.nan)
    test_curve = np.full(n_slots, np.nan)
    scratch = np.empty(student.n_hidden)
    train_curve[0] = kernel_mse(w1, w2, x, y, act, out_act, scratch)
    test_curve[0] = kernel_mse(w1, w2, x_test, y_test, act, out_act, scratch)
    norm1 = float(np.linalg.norm(w1)) if trainer.rescale_norms else 0.0
    norm2 = float(np.linalg.norm(w2)) if trainer.rescale_norms else 0.0
    n_train = x.shape[0]
    chunk = max(1, min(trainer.epochs, _CHUNK_ENTRIES // n_train))
    done, first_below = 0, None
    if thr > 0 and train_curve[0] < thr:
        first_below = 0

    rule = MinibatchRule(
        step_size=step,
        batch_size=int(trainer.batch_size),
        activation=act,
        output_activation=out_act,
        input_signs=s1,
        hidden_signs=s2,
        feedback=feedback if feedback is not None else np.zeros_like(w2),
        use_feedback=feedback is not None,
        norm1=norm1,
        norm2=norm2,
    )
    data = Dataset(x=x, y=y, x_test=x_test, y_test=y_test)
    record = Recording(
        record_every=int(trainer.record_every), train_curve=train_curve, test_curve=test_curve
    )

    def epochs(orders, start, threshold):
        return train_minibatch_epochs(w1, w2, rule, data, orders, start, threshold, record)

    while done < trainer.epochs and not (first_below is not None and trainer.stop_at_threshold):
        n = min(chunk, trainer.epochs - done)
        orders = epoch_orders(order_rng, n, n_train)
        ran, status = epochs(orders, done, thr if first_below is None else 0.0)
        if status == -1:
            raise DivergenceError(
                f"student weights became non-finite at epoch {done + ran} "
                f"(learning_rate={trainer.learning_rate}).",
                step=done + ran,
            )
        if status == 1:
            first_below = done + ran
            if not trainer.stop_at_threshold and ran < n:
                # The kernel stops at the threshold; continue the same chunk without it.
                rest, status = epochs(orders[ran:], done + ran, 0.0)
                if status == -1:
                    raise DivergenceError(
                        f"student weights became non-finite at epoch {done + ran + rest}.",
                        step=done + ran + rest,
                    )
                ran += rest
        done += ran
    return _finish(trainer, (train_curve, test_curve), done, first_below), w1, w2


def _run_numpy(trainer, student, w1, w2, feedback, x, y, x_test, y_test, s1, s2, order_rng):
    step, n_slots, thr = trainer._common(student, x)
    act, out_act = student.activation, student.output_activation_
    train_curve = np.full(n_slots, np.nan)
    test_curve = np.full(n_slots, np.nan)
    train_curve[0] = mean_squared_error(w1, w2, x, y, act, out_act)
    test_curve[0] = mean_squared_error(w1, w2, x_test, y_test, act, out_act)
    norm1, norm2 = np.linalg.norm(w1), np.linalg.norm(w2)
    n_train = x.shape[0]
    chunk = max(1, min(trainer.epochs, _CHUNK_ENTRIES // n_train))
    first_below = 0 if thr > 0 and train_curve[0] < thr else None
    epoch = 0
    while epoch < trainer.epochs and not (first_below is not None and trainer.stop_at_threshold):
        orders = epoch_orders(order_rng, min(chunk, trainer.epochs - epoch), n_train)
        for order in orders:
            if first_below is not None and trainer.stop_at_threshold:
                break
            for start in range(0, n_train, trainer.batch_size):
                idx = order[start : start + trainer.batch_size]
                g1, g2 = two_layer_backward(w1, w2, x[idx], y[idx], act, out_act, feedback)
                w2 = w2 - step * g2 * s2[None, :]
                w1 = w1 - step * g1 * s1[None, :]
                if trainer.rescale_norms:
                    w1 = w1 * (norm1 / np.linalg.norm(w1))
                    w2 = w2 * (norm2 / np.linalg.norm(w2))
            epoch += 1
            err = mean_squared_error(w1, w2, x, y, act, out_act)
            if not np.isfinite(err):
                raise DivergenceError(
                    f"student weights became non-finite at epoch {epoch}.", step=epoch
                )
            if epoch % trainer.record_every == 0:
                train_curve[epoch // trainer.record_every] = err
                test_curve[epoch // trainer.record_every] = mean_squared_error(
                    w1, w2, x_test, y_test, act, out_act
                )
            if first_below is None and thr > 0 and err < thr:
                first_below = epoch
    return _finish(trainer, (train_curve, test_curve), epoch, first_below), w1, w2


def _run_torch(trainer, student, w1, w2, feedback, x, y, x_test, y_test, s1, s2, order_rng):
    from neurolearn._kernels.teacher_groups import Dataset
    from neurolearn.teacher.ensemble import EnsembleProtocol, EnsembleRules, train_ensemble_arrays

    step, n_slots, thr = trainer._common(student, x)
    res = train_ensemble_arrays(
        w1[None],
        w2[None],
        Dataset(x=x[None], y=y[None], x_test=x_test[None], y_test=y_test[None]),
        EnsembleRules(
            input_signs=s1[None],
            hidden_signs=s2[None],
            feedback=None if feedback is None else feedback[None],
        ),
        [order_rng],
        EnsembleProtocol(
            learning_rate=float(trainer.learning_rate),
            batch_size=int(trainer.batch_size),
            epochs=int(trainer.epochs),
            rescale_norms=bool(trainer.rescale_norms),
            record_every=int(trainer.record_every),
            threshold=thr,
            stop_at_threshold=bool(trainer.stop_at_threshold),
            activation=student.activation,
            output_activation=student.output_activation_,
        ),
        device=resolve_backend("torch", trainer.device).device,
        dtype="float64",
    )
    if res["diverged_at"][0] >= 0:
        raise DivergenceError(
            f"student weights became non-finite at epoch {res['diverged_at'][0]} "
            f"(learning_rate={trainer.learning_rate}).",
            step=int(res["diverged_at"][0]),
        )
    first = res["epochs_to_threshold"][0]
    hist = _finish(
        trainer,
        (res["train_error"][0], res["test_error"][0]),
        res["epochs_run"][0],
        None if math.isnan(first) else int(first),
    )
    return hist, res["w1"][0], res["w2"][0]
