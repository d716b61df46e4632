"""Benchmark protocols on a reservoir: memory capacity, NARMA, Mackey-Glass, Lorenz.

Every protocol (1) optionally adapts the reservoir on ``adapt_steps`` of fresh task input,
(2) drives it from rest, (3) fits a :class:`Readout` on the training part after ``washout``,
(4) scores on the held-out part that follows without a reset. Inputs come from ``seed``.
"""

from __future__ import annotations

import numpy as np

from neurolearn._params import Interval, Options, check_param
from neurolearn._rng import as_generator
from neurolearn.errors import ParameterError
from neurolearn.reservoir.readout import Readout
from neurolearn.tasks import (
    LORENZ_LYAPUNOV,
    delayed_targets,
    lorenz,
    mackey_glass,
    memory_capacity_curve,
    narma,
    nrmse,
    valid_prediction_time,
)

__all__ = [
    "memory_capacity",
    "narma_prediction",
    "mackey_glass_prediction",
    "lorenz_prediction",
    "classify_sequences",
]


def _adapt(reservoir, u_adapt):
    if u_adapt is not None and hasattr(reservoir, "adapt"):
        reservoir.adapt(u_adapt)


def memory_capacity(
    reservoir,
    *,
    max_delay=100,
    train_steps=4000,
    test_steps=1000,
    washout=200,
    ridge=1e-6,
    input_amplitude=0.8,
    adapt_steps=0,
    series=None,
    seed=None,
) -> dict:
    """Jaeger's memory capacity of ``reservoir`` on held-out data.

    The reservoir is driven from rest by ``u[max_delay:]`` so that every delayed target
    ``u(t-k)``, ``k = 1..max_delay``, exists; the first ``washout`` driven steps are dropped,
    the next ``train_steps`` fit one multi-output ridge readout, the last ``test_steps``
    measure ``MC_k``. With ``washout = max_delay``, ``train_steps + test_steps = 9 max_delay``
    and ``test_steps = 2 max_delay`` this is the protocol behind ReservoirPy's
    ``memory_capacity`` (series of length ``10 max_delay``, 20% test).

    Parameters
    ----------
    reservoir : ESN or EIReservoir (one input)
    series : array of shape (T,) or None, default=None
        The input; by default i.i.d. ``U[-input_amplitude, input_amplitude]`` from ``seed``.
    adapt_steps : int, default=0
        If > 0 and the reservoir can adapt, it first adapts on that many fresh input steps.

    Returns
    -------
    dict with ``curve`` (MC_k for k = 1..max_delay) and ``total`` (their sum).

    Examples
    --------
    >>> from neurolearn.reservoir import ESN
    >>> mc = memory_capacity(ESN(n=30, spectral_radius=0.9, seed=0), max_delay=40,
    ...                      train_steps=1000, test_steps=300, washout=40, seed=1)
    >>> bool(0 < mc["total"] <= 30)
    True
    """
    owner = "memory_capacity"
    max_delay = check_param(owner, "max_delay", max_delay, Interval(int, 1, None))
    washout = check_param(owner, "washout", washout, Interval(int, 0, None))
    rng_adapt, rng_u = as_generator(seed, owner).spawn(2)
    if adapt_steps:
        _adapt(reservoir, rng_adapt.uniform(-input_amplitude, input_amplitude, (adapt_steps, 1)))
    length = max_delay + washout + train_steps + test_steps
    if series is None:
        series = rng_u.uniform(-input_amplitude, input_amplitude, length)
    series = np.ravel(np.asarray(series, dtype=np.float64))
    if series.shape[0] != length:
        raise ValueError(
            f"series must have max_delay + washout + train_steps + test_steps = {length} steps. "
            f"Got {series.shape[0]} instead."
        )
    states = reservoir.run(series[max_delay:, None])
    targets = delayed_targets(series, max_delay, max_delay)
    split = washout + train_steps
    readout = Readout(ridge=ridge, washout=washout).fit(states[:split], targets[:split])
    pred = readout.predict(states[split:])
    curve = memory_capacity_curve(targets[split:], pred)
    return {"curve": curve, "total": float(curve.sum())}


def narma_prediction(
    reservoir,
    *,
    order=10,
    train_steps=5000,
    test_steps=2000,
    washout=200,
    ridge=1e-6,
    input_low=0.0,
    input_high=0.5,
    adapt_steps=0,
    seed=None,
) -> dict:
    """NARMA one-step prediction: the state after ``u(t)`` predicts ``y(t+1)``.

    Returns a dict with ``nrmse`` (held out) and ``target``/``prediction`` of the test part.

    Examples
    --------
    >>> from neurolearn.reservoir import ESN
    >>> r = narma_prediction(ESN(n=50, spectral_radius=0.9, seed=0), train_steps=1000,
    ...                      test_steps=300, seed=0)
    >>> bool(r["nrmse"] < 1.0)
    True
    """
    rng_adapt, rng_u = as_generator(seed, "narma_prediction").spawn(2)
    if adapt_steps:
        _adapt(reservoir, rng_adapt.uniform(input_low, input_high, (adapt_steps, 1)))
    length = washout + train_steps + test_steps + 1
    u = rng_u.uniform(input_low, input_high, length)
    y = narma(u, order)
    states = reservoir.run(u[:-1, None])
    target = y[1:, None]
    split = washout + train_steps
    readout = Readout(ridge=ridge, washout=washout).fit(states[:split], target[:split])
    pred = readout.predict(states[split:])
    return {
        "nrmse": nrmse(target[split:], pred),
        "target": target[split:, 0],
        "prediction": pred[:, 0],
    }


def _standardize(series, n_fit):
    mean = series[:n_fit].mean(axis=0)
    std = series[:n_fit].std(axis=0)
    return (series - mean) / std


def mackey_glass_prediction(
    reservoir,
    *,
    tau=17.0,
    sample_every=1.0,
    dt=0.1,
    train_steps=3000,
    test_steps=1000,
    free_run_steps=100,
    washout=200,
    ridge=1e-6,
    adapt_steps=0,
    seed=None,
) -> dict:
    """Mackey-Glass one-step prediction (held out) and free-running prediction.

    The series is standardised with the training statistics. One-step: the state after
    ``x(t)`` predicts ``x(t+1)`` on ``test_steps`` held-out steps. Free run: after the
    teacher-forced training part, the reservoir runs on its own predictions for
    ``free_run_steps``; ``nrmse_free_run`` compares them with the true continuation.

    Examples
    --------
    >>> from neurolearn.reservoir import ESN
    >>> r = mackey_glass_prediction(ESN(n=50, spectral_radius=0.9, seed=0), train_steps=800,
    ...                             test_steps=200, free_run_steps=20, seed=0)
    >>> bool(r["nrmse_one_step"] < 0.2)
    True
    """
    rng_series = as_generator(seed, "mackey_glass_prediction")
    n_total = adapt_steps + washout + train_steps + max(test_steps, free_run_steps) + 1
    raw = mackey_glass(n_total, tau=tau, dt=dt, sample_every=sample_every, seed=rng_series)
    series = _standardize(raw, adapt_steps + washout + train_steps)
    if adapt_steps:
        _adapt(reservoir, series[:adapt_steps, None])
    x = series[adapt_steps:]
    split = washout + train_steps
    end = split + test_steps
    train_states = reservoir.run(x[:split, None])
    after_training = reservoir.last_state_  # the state after x[split - 1]: free runs start here
    test_states = reservoir.run(x[split:end, None], continue_state=True)
    target = x[1 : end + 1, None]
    readout = Readout(ridge=ridge, washout=washout).fit(train_states, target[:split])
    one_step = readout.predict(test_states)
    free = reservoir.free_run(readout, free_run_steps, initial_state=after_training)
    truth = x[split : split + free_run_steps, None]
    return {
        "nrmse_one_step": nrmse(target[split:end], one_step),
        "nrmse_free_run": nrmse(truth, free) if np.all(np.isfinite(free)) else float("inf"),
        "free_run": free[:, 0],
        "free_run_target": truth[:, 0],
    }


def lorenz_prediction(
    reservoir,
    *,
    dt=0.02,
    train_steps=5000,
    free_run_steps=1000,
    repeats=5,
    washout=200,
    ridge=1e-6,
    threshold=0.4,
    lyapunov_exponent=LORENZ_LYAPUNOV,
    adapt_steps=0,
    seed=None,
) -> dict:
    """Lorenz-63 free-running prediction; valid time in Lyapunov times.

    The reservoir (3 inputs) learns the one-step map on the standardised trajectory, then runs
    freely from ``repeats`` successive points after the training part (each after a
    teacher-forced warm-up of ``washout`` steps). Valid time: steps until the normalised error
    exceeds ``threshold``, times ``dt * lyapunov_exponent``; the mean over repeats is reported.

    Examples
    --------
    >>> from neurolearn.reservoir import ESN
    >>> r = lorenz_prediction(ESN(n=100, n_inputs=3, spectral_radius=0.9, input_scaling=0.5,
    ...                           seed=0), train_steps=1500, free_run_steps=200, repeats=1, seed=0)
    >>> bool(r["valid_time"] > 0.5)
    True
    """
    rng_series = as_generator(seed, "lorenz_prediction")
    segment = washout + free_run_steps
    n_total = adapt_steps + washout + train_steps + repeats * segment + 1
    raw = lorenz(n_total, dt=dt, seed=rng_series)
    series = _standardize(raw, adapt_steps + washout + train_steps)
    if adapt_steps:
        _adapt(reservoir, series[:adapt_steps])
    x = series[adapt_steps:]
    split = washout + train_steps
    states = reservoir.run(x[:split])
    readout = Readout(ridge=ridge, washout=washout).fit(states, x[1 : split + 1])
    times, first = [], None
    for r in range(repeats):
        start = split + r * segment
        reservoir.run(x[start : start + washout])
        free = reservoir.free_run(readout, free_run_steps)
        truth = x[start + washout : start + washout + free_run_steps]
        steps = valid_prediction_time(truth, free, threshold, scale=np.ones(3))
        times.append(steps * dt * lyapunov_exponent)
        if first is None:
            first = (free, truth)
    return {
        "valid_time": float(np.mean(times)),
        "valid_times": np.array(times),
        "free_run": first[0],
        "free_run_target": first[1],
    }


def classify_sequences(
    reservoir,
    train,
    train_labels,
    test,
    test_labels,
    *,
    feature="mean",
    washout=0,
    ridge=1e-6,
    adapt_steps=0,
    seed=None,
):
    """Sequence classification: one feature per sequence, a ridge readout to one-hot labels.

    Every list of sequences (any lengths) runs through the reservoir in one kernel call. A
    sequence's feature is the mean of its states after ``washout`` (``feature="mean"``) or its
    last state (``"last"``); the readout maps features to one-hot labels and a test sequence
    gets the class of its largest output.

    Returns
    -------
    dict with ``accuracy`` (test), ``train_accuracy``, ``predicted`` (test labels) and
    ``confusion`` (``(n_classes, n_classes)`` counts, true class by row).

    Examples
    --------
    >>> from neurolearn.reservoir import ESN
    >>> from neurolearn.tasks.sequences import make_vowels
    >>> s = make_vowels(n_train_per_class=10, n_test=60, seed=0)
    >>> esn = ESN(n=100, n_inputs=12, input_scaling=0.3, leak=0.5, seed=0)
    >>> bool(classify_sequences(esn, *s, ridge=0.1)["accuracy"] > 0.9)
    True
    """
    owner = "classify_sequences"
    feature = check_param(owner, "feature", feature, Options(("mean", "last")))
    washout = check_param(owner, "washout", washout, Interval(int, 0, None))
    train_labels = np.asarray(train_labels)
    test_labels = np.asarray(test_labels)
    if len(train) != train_labels.shape[0] or len(test) != test_labels.shape[0]:
        raise ParameterError(f"{owner}: one label per sequence is needed.")
    shortest = min(len(x) for x in list(train) + list(test))
    if washout >= shortest:
        raise ParameterError(
            f"The 'washout' parameter of {owner} ({washout}) must be smaller than the shortest "
            f"sequence ({shortest} steps)."
        )
    if adapt_steps:
        rng = as_generator(seed, owner)
        order = rng.permutation(len(train))
        stream = np.concatenate([train[i] for i in order])
        _adapt(reservoir, np.resize(stream, (adapt_steps, stream.shape[1])))
    classes = np.unique(train_labels)

    def features(sequences):
        states = reservoir.run(list(sequences))
        if feature == "last":
            return np.stack([x[-1] for x in states])
        return np.stack([x[washout:].mean(axis=0) for x in states])

    x_train, x_test = features(train), features(test)
    one_hot = (train_labels[:, None] == classes[None, :]).astype(float)
    readout = Readout(ridge=ridge).fit(x_train, one_hot)
    predicted = classes[np.argmax(readout.predict(x_test), axis=1)]
    train_predicted = classes[np.argmax(readout.predict(x_train), axis=1)]
    index = {c: i for i, c in enumerate(classes)}
    confusion = np.zeros((classes.size, classes.size), dtype=np.int64)
    for true, guess in zip(test_labels, predicted, strict=True):
        if true in index:
            confusion[index[true], index[guess]] += 1
    return {
        "accuracy": float(np.mean(predicted == test_labels)),
        "train_accuracy": float(np.mean(train_predicted == train_labels)),
        "predicted": predicted,
        "confusion": confusion,
    }
