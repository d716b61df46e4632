r"""Reshuffled mini-batch epochs on a finite data set (the curl-descent paper's protocol).

:class:`MinibatchTrainer` runs the whole loop in one numba kernel per chunk of epochs, with a
learning-rule object from :mod:`neurolearn.teacher.rules`; online learning (a fresh sample per
step) is :class:`neurolearn.teacher.online.OnlineTrainer`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from neurolearn._params import Boolean, Interval, NoneOr, Options, check_array, check_param
from neurolearn._rng import as_generator
from neurolearn.errors import DivergenceError, ParameterTypeError
from neurolearn.teacher.networks import (
    TwoLayerNetwork,
    activation_code,
    mean_squared_error,
    two_layer_backward,
)
from neurolearn.teacher.rules import GradientDescent, LearningRule

__all__ = ["TrainingHistory", "MinibatchTrainer", "epoch_orders"]

_CHUNK_ENTRIES = 1 << 21


@dataclass
class TrainingHistory:
    """Learning curves of one mini-batch run.

    Attributes
    ----------
    epochs : ndarray of int
        Epochs at which errors were recorded (0 = before training).
    train_error, test_error : ndarray
        ``0.5 * mean |y_hat - y|^2`` on the training and test sets (NaN after an early stop).
    epochs_run : int
    epochs_to_threshold : float
        First epoch whose training error is below the threshold (NaN if never / no threshold).
    """

    epochs: np.ndarray
    train_error: np.ndarray
    test_error: np.ndarray
    epochs_run: int
    epochs_to_threshold: float


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


class MinibatchTrainer:
    r"""Reshuffled mini-batch training of a two-layer student on a finite teacher data set.

    Parameters
    ----------
    rule : LearningRule or None, default=None
        :class:`~neurolearn.teacher.rules.GradientDescent` when None.
    learning_rate : float, default=0.1
        ``eta``; each mini-batch step uses ``eta' = eta * batch_size / n_train`` on the
        batch-mean update (the paper's convention: one epoch integrates time ``eta``).
    batch_size : int, default=10
    epochs : int, default=100
    rescale_norms : bool, default=True
        After every step rescale ``W1`` and ``W2`` to their initial Frobenius norms (the paper).
    record_every : int, default=1
        Record training and test error every this many epochs.
    threshold : float or None, default=None
        Training-error threshold; ``epochs_to_threshold`` is the first epoch below it.
    stop_at_threshold : bool, default=False
        Stop as soon as the threshold is reached.
    backend : {"numba", "numpy", "torch"}, default="numba"
        ``"numba"``: jitted whole loop; ``"numpy"``: plain per-batch numpy (slow reference);
        ``"torch"``: the ensemble trainer with one member.
    device : str, default="cpu"
        Torch device (``"cpu"``, ``"cuda"``); only used by the torch backend.
    seed : int, Generator or None, default=None
        Epoch permutations and the feedback matrix (feedback alignment).

    Attributes
    ----------
    history_ : TrainingHistory
    feedback_ : ndarray or None

    Notes
    -----
    Per step, for batch ``b`` of size ``B`` out of ``P`` samples:

    .. math:: W_2 \leftarrow W_2 - \eta \tfrac{B}{P}\langle e h^\top\rangle_b D_2,\quad
              W_1 \leftarrow W_1 - \eta \tfrac{B}{P}\langle ((F^\top e)\odot\phi'(a)) x^\top
              \rangle_b D_1

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

    def __init__(
        self,
        *,
        rule: LearningRule | None = None,
        learning_rate: float = 0.1,
        batch_size: int = 10,
        epochs: int = 100,
        rescale_norms: bool = True,
        record_every: int = 1,
        threshold: float | None = None,
        stop_at_threshold: bool = False,
        backend: str = "numba",
        device: str = "cpu",
        seed=None,
    ):
        self.rule = rule
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.epochs = epochs
        self.rescale_norms = rescale_norms
        self.record_every = record_every
        self.threshold = threshold
        self.stop_at_threshold = stop_at_threshold
        self.backend = backend
        self.device = device
        self.seed = seed

    def _validate(self):
        owner = type(self).__name__
        check_param(owner, "learning_rate", self.learning_rate, Interval(float, 0, None, "neither"))
        check_param(owner, "batch_size", self.batch_size, Interval(int, 1, None))
        check_param(owner, "epochs", self.epochs, Interval(int, 0, None))
        check_param(owner, "rescale_norms", self.rescale_norms, Boolean())
        check_param(owner, "record_every", self.record_every, Interval(int, 1, None))
        check_param(owner, "threshold", self.threshold, NoneOr(Interval(float, 0, None, "neither")))
        check_param(owner, "stop_at_threshold", self.stop_at_threshold, Boolean())
        check_param(owner, "backend", self.backend, Options(("numba", "numpy", "torch")))
        rule = GradientDescent() if self.rule is None else self.rule
        if not isinstance(rule, LearningRule):
            raise ParameterTypeError(
                f"The 'rule' parameter of {owner} must be a LearningRule (GradientDescent, "
                f"CurlDescent, FeedbackAlignment) or None. Got {self.rule!r} instead."
            )
        return rule

    def fit(self, student: TwoLayerNetwork, data) -> MinibatchTrainer:
        """Train ``student`` (its ``w1_``/``w2_`` are updated) on ``data`` (a ``TeacherData``).

        Raises
        ------
        DivergenceError
            When weights or errors become non-finite; ``step`` is the epoch.
        """
        rule = self._validate()
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
        run = {"numba": _run_numba, "numpy": _run_numpy, "torch": _run_torch}[self.backend]
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
    return TrainingHistory(
        epochs=epochs,
        train_error=train_curve,
        test_error=test_curve,
        epochs_run=int(epochs_run),
        epochs_to_threshold=float(first_below) if first_below is not None else math.nan,
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
        device=trainer.device,
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
