"""Train many students at once with torch (CPU or CUDA): seeds x flip configurations x rules.

:class:`EnsembleTrainer` takes a list of students (same sizes), one rule per student and one
data set (shared) or one per student, and runs the mini-batch protocol of
:class:`~neurolearn.teacher.training.MinibatchTrainer` for all of them in one batched loop.
Member ``i`` trained with seed ``s_i`` equals ``MinibatchTrainer(seed=s_i)`` up to rounding.
"""

from __future__ import annotations

import warnings
from typing import NamedTuple

import numpy as np

from neurolearn._declare import Estimator
from neurolearn._history import History
from neurolearn._kernels.teacher_groups import Dataset
from neurolearn._params import check_array
from neurolearn._rng import as_generator
from neurolearn.backend import resolve_backend
from neurolearn.errors import ParameterError, ParameterTypeError
from neurolearn.teacher import _declared as D
from neurolearn.teacher.networks import TwoLayerNetwork
from neurolearn.teacher.rules import GradientDescent, LearningRule
from neurolearn.teacher.training import check_data, epoch_orders

__all__ = [
    "EnsembleTrainer",
    "EnsembleProtocol",
    "EnsembleRules",
    "train_ensemble_arrays",
]

_CHUNK_ENTRIES = 1 << 22


def __getattr__(name):
    if name == "EnsembleHistory":
        warnings.warn(
            "neurolearn.teacher.ensemble.EnsembleHistory is deprecated; a trainer's history_ is "
            "a neurolearn.History",
            DeprecationWarning,
            2,
        )
        return History
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class EnsembleProtocol(NamedTuple):
    """The mini-batch protocol shared by every member of an ensemble (see
    :class:`~neurolearn.teacher.training.MinibatchTrainer`); ``threshold`` 0 disables it."""

    learning_rate: float
    batch_size: int
    epochs: int
    rescale_norms: bool
    record_every: int
    threshold: float
    stop_at_threshold: bool
    activation: str
    output_activation: str


class EnsembleRules(NamedTuple):
    """The members' rules as arrays: sign vectors ``input_signs (E, M)``, ``hidden_signs
    (E, N)`` and the fixed feedback ``(E, K, N)`` of feedback alignment, or None."""

    input_signs: np.ndarray
    hidden_signs: np.ndarray
    feedback: np.ndarray | None


def train_ensemble_arrays(
    w1, w2, data, rules, order_rngs, protocol, *, device="cpu", dtype="float64"
):
    """Array-level ensemble trainer (no validation): returns a dict of numpy arrays.

    Shapes: ``w1 (E, N, M)``, ``w2 (E, K, N)``; ``data`` a
    ``Dataset`` (``neurolearn._kernels.teacher_groups``) with ``x (E or 1, P, M)``,
    ``y (E or 1, P, K)`` (and the test set alike); ``rules`` an :class:`EnsembleRules`;
    ``order_rngs`` one numpy Generator per member (each draws its epoch permutations);
    ``protocol`` an :class:`EnsembleProtocol`.
    """
    from neurolearn._kernels.torch.teacher import (
        EnsembleRule,
        activation_pair,
        ensemble_epoch,
        ensemble_errors,
    )
    from neurolearn.backend import import_torch

    torch = import_torch()
    dev = torch.device(device)
    dt = {"float64": torch.float64, "float32": torch.float32}[dtype]

    def t(a):
        return torch.as_tensor(np.asarray(a), dtype=dt, device=dev).contiguous()

    learning_rate, batch_size, epochs = protocol.learning_rate, protocol.batch_size, protocol.epochs
    record_every, threshold = protocol.record_every, protocol.threshold
    stop_at_threshold = protocol.stop_at_threshold
    w1_t, w2_t = t(w1).clone(), t(w2).clone()
    x_t, y_t, xt_t, yt_t = t(data.x), t(data.y), t(data.x_test), t(data.y_test)
    phi, dphi = activation_pair(torch, protocol.activation)
    phi_out, _ = activation_pair(torch, protocol.output_activation)
    n_members, n_samples = w1_t.shape[0], x_t.shape[1]
    step = learning_rate * min(batch_size, n_samples) / n_samples
    if protocol.rescale_norms:
        norm1 = torch.linalg.vector_norm(w1_t, dim=(1, 2), keepdim=True)
        norm2 = torch.linalg.vector_norm(w2_t, dim=(1, 2), keepdim=True)
    else:
        norm1 = norm2 = None
    rule = EnsembleRule(
        step_size=step,
        batch_size=batch_size,
        phi=phi,
        dphi=dphi,
        phi_out=phi_out,
        input_signs=t(rules.input_signs),
        hidden_signs=t(rules.hidden_signs),
        feedback=None if rules.feedback is None else t(rules.feedback),
        norm1=norm1,
        norm2=norm2,
    )
    n_slots = epochs // record_every + 1
    train_curve = np.full((n_members, n_slots), np.nan)
    test_curve = np.full((n_members, n_slots), np.nan)
    first = np.full(n_members, np.nan)
    diverged = np.full(n_members, -1)
    active = torch.ones((n_members, 1, 1), dtype=dt, device=dev)
    with torch.no_grad():
        err = ensemble_errors(w1_t, w2_t, x_t, y_t, phi, phi_out).cpu().numpy()
        train_curve[:, 0] = err
        test_curve[:, 0] = ensemble_errors(w1_t, w2_t, xt_t, yt_t, phi, phi_out).cpu().numpy()
        if threshold > 0:
            first[err < threshold] = 0
        chunk = max(1, min(epochs, _CHUNK_ENTRIES // max(1, n_samples * n_members)))
        epoch = 0
        while epoch < epochs:
            n = min(chunk, epochs - epoch)
            orders = np.stack([epoch_orders(r, n, n_samples) for r in order_rngs], axis=1)
            orders_t = torch.as_tensor(orders, device=dev)
            for e in range(n):
                if stop_at_threshold:
                    frozen = ~np.isnan(first) | (diverged >= 0)
                    if frozen.all():
                        break
                    active = torch.as_tensor((~frozen).astype(float), dtype=dt, device=dev)[
                        :, None, None
                    ]
                ensemble_epoch(torch, w1_t, w2_t, rule, x_t, y_t, orders_t[e], active)
                epoch += 1
                record = epoch % record_every == 0
                if threshold > 0 or record:
                    err = ensemble_errors(w1_t, w2_t, x_t, y_t, phi, phi_out).cpu().numpy()
                    bad = ~np.isfinite(err) & (diverged < 0)
                    diverged[bad] = epoch
                    if threshold > 0:
                        newly = np.isnan(first) & (err < threshold)
                        first[newly] = epoch
                    if record:
                        still = np.ones(n_members, bool)
                        if stop_at_threshold:
                            still = np.isnan(first) | (first == epoch)
                        slot = epoch // record_every
                        train_curve[still, slot] = err[still]
                        test_err = (
                            ensemble_errors(w1_t, w2_t, xt_t, yt_t, phi, phi_out).cpu().numpy()
                        )
                        test_curve[still, slot] = test_err[still]
            else:
                continue
            break
        w1_out, w2_out = w1_t.cpu().numpy(), w2_t.cpu().numpy()
    if not (threshold > 0):
        finite = np.isfinite(w1_out).all(axis=(1, 2)) & np.isfinite(w2_out).all(axis=(1, 2))
        diverged[~finite & (diverged < 0)] = epoch
    epochs_run = np.where(np.isnan(first) | (not stop_at_threshold), epoch, first)
    epochs_run = np.where(diverged >= 0, diverged, epochs_run).astype(int)
    return {
        "w1": w1_out,
        "w2": w2_out,
        "train_error": train_curve,
        "test_error": test_curve,
        "epochs_to_threshold": first,
        "epochs_run": epochs_run,
        "diverged_at": diverged,
    }


class EnsembleTrainer(Estimator):
    """Mini-batch training of many two-layer students at once (torch, CPU or CUDA).

    Parameters
    ----------
    {parameters}

    Every parameter is validated at each :meth:`fit` and takes effect at the next one.

    Attributes
    ----------
    history_ : neurolearn.History
        Along ``epochs``: ``train_error`` and ``test_error`` of shape (n_members, n_points)
        (dimensions ``member``, ``epochs``); per member ``epochs_to_threshold`` (NaN where
        never reached) and ``diverged_at`` (-1 where the member stayed finite).

    Notes
    -----
    :meth:`fit` trains the students it is given in place (each one's ``w1_``/``w2_`` are
    replaced by its trained weights; the arrays they held before are not written to).

    Examples
    --------
    >>> from neurolearn.teacher import TwoLayerNetwork, make_teacher, CurlDescent
    >>> from neurolearn.tasks.teacher import make_teacher_data
    >>> data = make_teacher_data(make_teacher(8, 3, seed=0), n_train=40, n_test=20, seed=1)
    >>> students = [TwoLayerNetwork(n_inputs=8, n_hidden=3, seed=s).initialize() for s in range(4)]
    >>> h = EnsembleTrainer(rules=CurlDescent(flipped_hidden=1), epochs=5,
    ...                     seed=0).fit(students, data).history_
    >>> h.train_error.shape
    (4, 6)
    """

    params = D.ENSEMBLE_TRAINER

    def fit(self, students, data) -> EnsembleTrainer:
        """Train every student in place (weights replaced) on ``data`` (shared or a list)."""
        owner = type(self).__name__
        self._check_params()
        device = resolve_backend("torch", self.device).device
        students = list(students)
        if not students or not all(isinstance(s, TwoLayerNetwork) for s in students):
            raise ParameterTypeError(
                f"The 'students' parameter of {owner}.fit must be a non-empty list of "
                "TwoLayerNetwork objects."
            )
        first = students[0]
        sizes = {
            (s.n_inputs, s.n_hidden, s.n_outputs, s.activation, s.output_activation_)
            for s in students
        }
        if len(sizes) != 1:
            raise ParameterError(
                f"All students of {owner}.fit must share n_inputs, n_hidden, n_outputs and "
                f"activations. Got {sorted(sizes)}."
            )
        for s in students:
            s._prepare_for_training()
        n = len(students)
        rule = GradientDescent() if self.rules is None else self.rules
        rules = list(rule) if isinstance(rule, list | tuple) else [rule] * n
        if len(rules) != n or not all(isinstance(r, LearningRule) for r in rules):
            raise ParameterError(
                f"The 'rules' parameter of {owner} must be one LearningRule or a list of "
                f"{n} (one per student). Got {self.rules!r}."
            )
        if isinstance(self.seed, list | tuple):
            if len(self.seed) != n:
                raise ParameterError(
                    f"The 'seed' parameter of {owner} must be one seed or a list of {n}. "
                    f"Got a list of {len(self.seed)}."
                )
            member_rngs = [as_generator(s, owner) for s in self.seed]
        else:
            member_rngs = as_generator(self.seed, owner).spawn(n)
        streams = [r.spawn(2) for r in member_rngs]
        sets = data if isinstance(data, list | tuple) else [data]
        if len(sets) not in (1, n):
            raise ParameterError(
                f"{owner}.fit needs one data set or one per student ({n}). Got {len(sets)}."
            )
        for d in sets:
            check_data(owner, d)
        xs = np.stack([first.check_inputs(d.x_train, "x_train") for d in sets])
        xts = np.stack([first.check_inputs(d.x_test, "x_test") for d in sets])
        n_out = first.n_outputs
        ys = np.stack(
            [
                check_array(owner, "y_train", d.y_train, shape=(x.shape[0], n_out))
                for d, x in zip(sets, xs, strict=True)
            ]
        )
        yts = np.stack(
            [
                check_array(owner, "y_test", d.y_test, shape=(x.shape[0], n_out))
                for d, x in zip(sets, xts, strict=True)
            ]
        )
        signs = [r.signs(first.n_inputs, first.n_hidden) for r in rules]
        fbs = [
            r.feedback(first.n_outputs, first.n_hidden, st[0])
            for r, st in zip(rules, streams, strict=True)
        ]
        use_fb = any(f is not None for f in fbs)
        feedback = None
        if use_fb:
            feedback = np.stack(
                [f if f is not None else s.w2_ for f, s in zip(fbs, students, strict=True)]
            )
            if not all(f is not None for f in fbs):
                raise ParameterError(
                    f"{owner}: feedback alignment cannot be mixed with backpropagating rules "
                    "in one ensemble; train them as separate ensembles."
                )
        res = _with_threads(self.num_threads if device == "cpu" else None)(train_ensemble_arrays)(
            np.stack([s.w1_ for s in students]),
            np.stack([s.w2_ for s in students]),
            Dataset(x=xs, y=ys, x_test=xts, y_test=yts),
            EnsembleRules(
                input_signs=np.stack([s[0] for s in signs]),
                hidden_signs=np.stack([s[1] for s in signs]),
                feedback=feedback,
            ),
            [st[1] for st in streams],
            EnsembleProtocol(
                learning_rate=float(self.learning_rate),
                batch_size=int(self.batch_size),
                epochs=int(self.epochs),
                rescale_norms=bool(self.rescale_norms),
                record_every=int(self.record_every),
                threshold=float(self.threshold) if self.threshold is not None else 0.0,
                stop_at_threshold=bool(self.stop_at_threshold),
                activation=first.activation,
                output_activation=first.output_activation_,
            ),
            device=device,
            dtype=self.dtype,
        )
        for i, s in enumerate(students):
            s.w1_, s.w2_ = res["w1"][i], res["w2"][i]
        self.history_ = History(
            "epochs",
            {
                "epochs": np.arange(res["train_error"].shape[1]) * self.record_every,
                "train_error": res["train_error"],
                "test_error": res["test_error"],
                "epochs_to_threshold": res["epochs_to_threshold"],
                "diverged_at": res["diverged_at"],
            },
            dims={
                "train_error": ("member", "epochs"),
                "test_error": ("member", "epochs"),
                "epochs_to_threshold": ("member",),
                "diverged_at": ("member",),
            },
        )
        return self


def _with_threads(n_threads):
    """Wrap ``fn`` so that it runs with ``n_threads`` torch intra-op threads (None: as is)."""

    def wrap(fn):
        if n_threads is None:
            return fn

        def run(*args, **kwargs):
            from neurolearn.backend import import_torch

            torch = import_torch()
            before = torch.get_num_threads()
            torch.set_num_threads(n_threads)
            try:
                return fn(*args, **kwargs)
            finally:
                torch.set_num_threads(before)

        return run

    return wrap
