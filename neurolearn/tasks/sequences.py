"""Sequence classification: a synthetic task shaped like the Japanese-vowels benchmark.

The Japanese-vowels data (Kudo, Toyama & Shimbo 1999; UCI) are 640 utterances of /ae/ by 9
speakers, each a sequence of 7-29 frames of 12 LPC cepstrum coefficients; 270 train (30 per
speaker) and 370 test; the task is to name the speaker. The data cannot be downloaded at run
time, so :func:`make_vowels` generates sequences with the same shapes: each class has a smooth
prototype trajectory per channel (a few cosine harmonics over the normalised utterance time),
and each utterance is that trajectory, time-warped, at its own length, scaled and noisy.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from neurolearn._params import Interval, Options, check_param
from neurolearn._rng import as_generator
from neurolearn._schema import SpecTable, param, spec_table
from neurolearn.tasks import digits as _digits  # noqa: F401  (registers metric.kind "accuracy")

__all__ = ["SequenceSplit", "make_vowels"]


class SequenceSplit(NamedTuple):
    """Train and test sequences (lists of ``(T_i, channels)`` arrays) and their labels."""

    train: list
    train_labels: np.ndarray
    test: list
    test_labels: np.ndarray


def make_vowels(
    *,
    n_classes: int = 9,
    n_channels: int = 12,
    n_train_per_class: int = 30,
    n_test: int = 370,
    min_length: int = 7,
    max_length: int = 29,
    class_spread: float = 0.5,
    noise: float = 0.5,
    seed=None,
) -> SequenceSplit:
    """Variable-length multichannel sequences of ``n_classes`` classes (speakers).

    Class ``c``, channel ``j``: ``p_cj(tau) = m_j + sum_h a_cjh sin(2 pi h tau + phi_cjh)`` for
    ``h = 1, 2`` with ``m ~ N(0, 1)`` shared by all classes, ``a ~ N(0, class_spread)`` and
    ``tau`` in [0, 1]: the classes differ in how a sequence moves, not in its mean over the
    utterance, so the time-averaged input alone says little about the class. An utterance
    draws its length uniformly in ``[min_length, max_length]``, a time warp
    ``tau_k = (k / (T - 1)) ** g`` with ``log g ~ N(0, 0.25)``, an amplitude ``s ~ N(1, 0.1)``
    and i.i.d. noise ``N(0, noise)`` per frame and channel.

    Examples
    --------
    >>> split = make_vowels(n_train_per_class=2, n_test=5, seed=0)
    >>> len(split.train), split.train[0].shape[1], len(split.test)
    (18, 12, 5)
    >>> 7 <= min(len(x) for x in split.train + split.test)
    True
    """
    owner = "make_vowels"
    n_classes = check_param(owner, "n_classes", n_classes, Interval(int, 2, None))
    n_channels = check_param(owner, "n_channels", n_channels, Interval(int, 1, None))
    n_train = check_param(owner, "n_train_per_class", n_train_per_class, Interval(int, 1, None))
    n_test = check_param(owner, "n_test", n_test, Interval(int, 1, None))
    min_length = check_param(owner, "min_length", min_length, Interval(int, 2, None))
    max_length = check_param(owner, "max_length", max_length, Interval(int, min_length, None))
    class_spread = check_param(owner, "class_spread", class_spread, Interval(float, 0, None))
    noise = check_param(owner, "noise", noise, Interval(float, 0, None))
    rng_class, rng_train, rng_test = as_generator(seed, owner).spawn(3)
    harmonics = np.arange(1, 3)
    offsets = rng_class.normal(0, 1.0, n_channels)
    amplitudes = rng_class.normal(0, class_spread, (n_classes, n_channels, 2))
    phases = rng_class.uniform(0, 2 * np.pi, (n_classes, n_channels, 2))

    def utterance(c, rng):
        length = int(rng.integers(min_length, max_length + 1))
        tau = (np.arange(length) / (length - 1)) ** np.exp(rng.normal(0, 0.25))
        angle = 2 * np.pi * tau[:, None, None] * harmonics + phases[c][None]
        clean = offsets + np.sum(amplitudes[c][None] * np.sin(angle), axis=2)
        return rng.normal(1.0, 0.1) * clean + rng.normal(0, noise, (length, n_channels))

    train_labels = np.repeat(np.arange(n_classes), n_train)
    test_labels = np.sort(rng_test.integers(0, n_classes, n_test))
    train = [utterance(c, rng_train) for c in train_labels]
    test = [utterance(c, rng_test) for c in test_labels]
    return SequenceSplit(train, train_labels, test, test_labels)


@spec_table("task", "sequence-classification")
class SequenceClassificationTask(SpecTable):
    """Name the class of variable-length sequences (synthetic Japanese-vowels shapes)."""

    n_classes: int = param(9, Interval(int, 2, None), "classes (speakers)")
    n_channels: int = param(12, Interval(int, 1, None), "channels per frame (LPC coefficients)")
    n_train_per_class: int = param(30, Interval(int, 1, None), "training sequences per class")
    n_test: int = param(370, Interval(int, 1, None), "test sequences")
    min_length: int = param(7, Interval(int, 2, None), "shortest sequence")
    max_length: int = param(29, Interval(int, 2, None), "longest sequence")
    class_spread: float = param(0.5, Interval(float, 0, None), "spread of class prototypes")
    noise: float = param(0.5, Interval(float, 0, None), "frame noise std")
    feature: str = param(
        "mean", Options(("mean", "last")), "a sequence's feature: mean or last state"
    )
    washout: int = param(
        0,
        Interval(int, 0, None),
        "leading frames of every sequence left out of its mean (readout.washout applies to "
        "the long time-series tasks, not here)",
    )


DEFAULT_KINDS = {"metric": "accuracy"}
REQUIRED_SECTIONS = {"tasks": ("task",)}
