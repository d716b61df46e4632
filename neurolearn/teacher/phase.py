r"""The simulated phase diagram of curl descent in linear networks and its critical fraction.

A linear student learns a linear teacher of the same shape (M inputs, N hidden units,
``M + N = n_total``) with a fraction of its input neurons rule-flipped (``D1``), as in the
curl-descent paper's phase diagram: P = 250 training points, 100 test points, batch 10,
eta = 0.1, norm rescaling. :func:`final_test_error` runs one cell, :func:`phase_diagram` the grid
of aspect ratios ``c = M / N`` times flipped fractions, and :func:`simulated_critical_fraction`
the largest flipped fraction that still learns: the simulated counterpart of
:func:`~neurolearn.teacher.theory.critical_flip_fraction` (sampled ``lambda_min(A)``) and
:func:`~neurolearn.teacher.theory.critical_flip_fraction_theory` (random-matrix limit).
"""

from __future__ import annotations

import math

import numpy as np

from neurolearn._params import Interval, check_array, check_param

__all__ = [
    "final_test_error",
    "phase_diagram",
    "learned_boundary",
    "simulated_critical_fraction",
]


def _network_sizes(ratio, n_total):
    n_in = max(1, min(n_total - 1, round(n_total * ratio / (1 + ratio))))
    return n_in, n_total - n_in


def final_test_error(ratio, fraction, *, n_total=219, epochs=3000, seed=0) -> float:
    """Final test error of one linear student with ``round(fraction * M)`` flipped inputs.

    Parameters
    ----------
    ratio : float
        Aspect ratio ``c = M / N``; the network has ``M = round(n_total c / (1 + c))`` inputs
        (the sizes must be integers, so the realised ratio is the nearest ``n_total`` allows).
    fraction : float
        Fraction of rule-flipped input neurons, in [0, 1].
    n_total : int, default=219
        ``M + N``.
    epochs : int, default=3000
    seed : int, default=0
        With ``M`` and the flipped count, seeds the teacher, the data, the student and the
        batches (``SeedSequence([M, k, seed])``).

    Returns
    -------
    float
        ``0.5 * mean |y_hat - y|^2`` on the 100 test points; ``inf`` when training diverged.

    Examples
    --------
    >>> final_test_error(0.2, 0.0, n_total=20, epochs=200) < 1e-6
    True
    """
    from neurolearn.errors import DivergenceError
    from neurolearn.tasks.teacher import make_teacher_data
    from neurolearn.teacher.networks import TwoLayerNetwork, make_teacher
    from neurolearn.teacher.rules import CurlDescent
    from neurolearn.teacher.training import MinibatchTrainer

    check_param("final_test_error", "ratio", ratio, Interval(float, 0, None, "neither"))
    check_param("final_test_error", "fraction", fraction, Interval(float, 0, 1))
    check_param("final_test_error", "n_total", n_total, Interval(int, 2, None))
    check_param("final_test_error", "epochs", epochs, Interval(int, 1, None))
    check_param("final_test_error", "seed", seed, Interval(int, 0, None))
    n_in, n_hid = _network_sizes(ratio, n_total)
    k = round(fraction * n_in)
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence([n_in, k, seed]).spawn(4)]
    teacher = make_teacher(n_in, n_hid, activation="linear", seed=streams[0])
    data = make_teacher_data(teacher, n_train=250, n_test=100, seed=streams[1])
    student = TwoLayerNetwork(n_inputs=n_in, n_hidden=n_hid, activation="linear", seed=streams[2])
    trainer = MinibatchTrainer(
        rule=CurlDescent(flipped_inputs=k),
        learning_rate=0.1,
        batch_size=10,
        epochs=epochs,
        record_every=epochs,
        seed=streams[3],
    )
    try:
        trainer.fit(student.initialize(), data)
    except DivergenceError:
        return math.inf
    return student.error(data.x_test, data.y_test)


def phase_diagram(ratios, fractions, *, n_total=219, epochs=3000, seed=0) -> np.ndarray:
    """Final test errors on the grid, shape ``(len(fractions), len(ratios))``.

    Examples
    --------
    >>> phase_diagram([0.2], [0.0, 1.0], n_total=20, epochs=200).shape
    (2, 1)
    """
    ratios = check_array("phase_diagram", "ratios", ratios, ndim=1)
    fractions = check_array("phase_diagram", "fractions", fractions, ndim=1)
    return np.array(
        [
            [
                final_test_error(float(c), float(f), n_total=n_total, epochs=epochs, seed=seed)
                for c in ratios
            ]
            for f in fractions
        ]
    )


def learned_boundary(errors, fractions, *, threshold=1e-6) -> np.ndarray:
    """Per column of a :func:`phase_diagram`, the largest flipped fraction below which every
    fraction learned (final test error below ``threshold``).

    NaN for a column whose smallest fraction already failed (train longer, or raise the
    threshold).

    Examples
    --------
    >>> learned_boundary(np.array([[1e-12, 1e-12], [1e-12, 0.3], [0.5, 0.3]]), [0.0, 0.5, 1.0])
    array([0.5, 0. ])
    """
    fractions = check_array("learned_boundary", "fractions", fractions, ndim=1)
    errors = check_array(
        "learned_boundary",
        "errors",
        errors,
        ndim=2,
        shape=(fractions.shape[0], None),
        shape_doc=f"({fractions.shape[0]}, n_ratios)",
        allow_nonfinite=True,
    )
    check_param("learned_boundary", "threshold", threshold, Interval(float, 0, None, "neither"))
    order = np.argsort(fractions, kind="stable")
    out = np.full(errors.shape[1], np.nan)
    for j in range(errors.shape[1]):
        learned = errors[order, j] < threshold
        if learned[0]:
            failed = np.flatnonzero(~learned)
            last = order[-1] if failed.size == 0 else order[failed[0] - 1]
            out[j] = fractions[last]
    return out


def simulated_critical_fraction(
    ratio, *, fractions=None, n_total=219, epochs=3000, threshold=1e-6, seed=0
) -> float:
    """The largest flipped fraction (on the grid ``fractions``) up to which a linear student
    still learns, by simulation: the first column of :func:`learned_boundary`, running the
    fractions in increasing order and stopping at the first failure.

    Parameters
    ----------
    ratio : float
        Aspect ratio ``c = M / N`` (see :func:`final_test_error`).
    fractions : array-like or None, default=None
        Flipped fractions tried; None means ``0, 0.1, ..., 1``.
    n_total, epochs, seed
        As in :func:`final_test_error`.
    threshold : float, default=1e-6
        Final test error below which a cell counts as learned (learned cells of the linear
        network reach ~1e-16 with enough epochs; failed ones stay at order 1 or diverge).

    Returns
    -------
    float
        A value of ``fractions``; NaN when the smallest fraction already fails.

    Examples
    --------
    >>> simulated_critical_fraction(0.2, fractions=[0.0, 1.0], n_total=20, epochs=200)
    1.0
    """
    fractions = np.sort(
        check_array(
            "simulated_critical_fraction",
            "fractions",
            np.linspace(0, 1, 11) if fractions is None else fractions,
            ndim=1,
        )
    )
    check_param(
        "simulated_critical_fraction", "threshold", threshold, Interval(float, 0, None, "neither")
    )
    best = math.nan
    for f in fractions:
        error = final_test_error(ratio, float(f), n_total=n_total, epochs=epochs, seed=seed)
        if not error < threshold:
            break
        best = float(f)
    return best
