"""The ``digits`` task: scikit-learn's bundled 8x8 handwritten digits (1797 images, 10 classes).

:func:`load_digits_split` returns a seeded train/test split with inputs scaled to [0, 1]
(or standardised with the training set's statistics) and one-hot targets; the metric is the
test accuracy. The images ship inside scikit-learn, so nothing is downloaded.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from neurolearn._params import Interval, Options, check_param
from neurolearn._rng import as_generator
from neurolearn._schema import SpecTable, param, spec_table
from neurolearn.errors import MissingDependencyError

__all__ = [
    "DigitsSplit",
    "load_digits_split",
    "DigitsTask",
    "AccuracyMetric",
    "DEFAULT_KINDS",
    "REQUIRED_SECTIONS",
]

N_CLASSES = 10


@dataclass(frozen=True)
class DigitsSplit:
    """A train/test split: inputs ``(n, 64)``, integer labels and one-hot targets ``(n, 10)``."""

    x_train: np.ndarray
    labels_train: np.ndarray
    x_test: np.ndarray
    labels_test: np.ndarray

    @property
    def y_train(self) -> np.ndarray:
        return np.eye(N_CLASSES)[self.labels_train]

    @property
    def y_test(self) -> np.ndarray:
        return np.eye(N_CLASSES)[self.labels_test]


def _raw_digits():
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise MissingDependencyError(
            "The digits task reads the 8x8 digits bundled with scikit-learn. Install it with "
            "`pip install 'neurolearn[digits]'` (scikit-learn)."
        ) from None
    data = load_digits()
    return np.asarray(data.data, dtype=np.float64), np.asarray(data.target, dtype=np.int64)


def load_digits_split(test_fraction: float = 0.25, seed=None, *, scaling: str = "unit"):
    """Seeded, stratified train/test split of the digits.

    Parameters
    ----------
    test_fraction : float, default=0.25
        Share of each class held out for testing, in (0, 1).
    seed : int, Generator or None
    scaling : {"unit", "standardize"}, default="unit"
        ``"unit"`` divides the 0..16 pixel values by 16; ``"standardize"`` subtracts the
        training mean and divides by the training std (pixels that never vary stay 0).

    Examples
    --------
    >>> split = load_digits_split(0.25, seed=0)
    >>> split.x_train.shape[1], split.y_test.shape[1], len(split.x_train) + len(split.x_test)
    (64, 10, 1797)
    """
    test_fraction = check_param(
        "load_digits_split", "test_fraction", test_fraction, Interval(float, 0, 1, "neither")
    )
    scaling = check_param("load_digits_split", "scaling", scaling, Options(("unit", "standardize")))
    rng = as_generator(seed, "load_digits_split")
    X, labels = _raw_digits()
    test_rows = []
    for c in range(N_CLASSES):
        rows = np.flatnonzero(labels == c)
        rows = rng.permutation(rows)
        test_rows.append(rows[: int(round(test_fraction * rows.size))])
    test_mask = np.zeros(labels.size, dtype=bool)
    test_mask[np.concatenate(test_rows)] = True
    train_idx = rng.permutation(np.flatnonzero(~test_mask))
    test_idx = np.flatnonzero(test_mask)
    x_train, x_test = X[train_idx], X[test_idx]
    if scaling == "unit":
        x_train, x_test = x_train / 16.0, x_test / 16.0
    else:
        mean, std = x_train.mean(axis=0), x_train.std(axis=0)
        std = np.where(std > 0, std, 1.0)
        x_train, x_test = (x_train - mean) / std, (x_test - mean) / std
    return DigitsSplit(x_train, labels[train_idx], x_test, labels[test_idx])


@spec_table("task", "digits")
class DigitsTask(SpecTable):
    """scikit-learn's 8x8 digits: seeded stratified train/test split, mini-batch training."""

    test_fraction: float = param(0.25, Interval(float, 0, 1, "neither"), "share held out")
    scaling: str = param("unit", Options(("unit", "standardize")), "input scaling")


@spec_table("metric", "accuracy")
class AccuracyMetric(SpecTable):
    """Test accuracy (fraction of test images whose largest output is the label)."""


DEFAULT_KINDS = {"metric": "accuracy"}
REQUIRED_SECTIONS = {"tasks": ("task",)}
