"""Torch ensemble trainer: parity with the numba trainer, member independence, CUDA."""

from __future__ import annotations

import numpy as np
import pytest

import neurolearn as nl
from neurolearn.errors import ParameterError
from neurolearn.tasks.teacher import make_teacher_data
from neurolearn.teacher import (
    CurlDescent,
    GradientDescent,
    MinibatchTrainer,
    TwoLayerNetwork,
    make_teacher,
)
from neurolearn.teacher.ensemble import EnsembleTrainer

pytestmark = pytest.mark.torch


def _students(n, act="tanh"):
    return [
        TwoLayerNetwork(
            n_inputs=15, n_hidden=5, activation=act, init_scale=2.0, seed=10 + i
        ).initialize()
        for i in range(n)
    ]


def _ensemble_vs_numba(device, dtype, rtol):
    teacher = make_teacher(15, 4, seed=0)
    sets = [make_teacher_data(teacher, n_train=57, n_test=20, seed=s) for s in (1, 2, 3, 4)]
    rules = [
        GradientDescent(),
        CurlDescent(flipped_hidden=1),
        CurlDescent(flipped_inputs=[0, 7], flipped_hidden=[2, 4]),
        GradientDescent(),
    ]
    seeds = [5, 6, 7, 8]
    ens = _students(4)
    hist = (
        EnsembleTrainer(
            rules=rules,
            epochs=25,
            record_every=5,
            threshold=0.02,
            stop_at_threshold=True,
            seed=seeds,
            device=device,
            dtype=dtype,
        )
        .fit(ens, sets)
        .history_
    )
    for i, (rule, data, seed) in enumerate(zip(rules, sets, seeds, strict=True)):
        single = _students(4)[i]
        h = (
            MinibatchTrainer(
                rule=rule,
                epochs=25,
                record_every=5,
                threshold=0.02,
                stop_at_threshold=True,
                seed=seed,
            )
            .fit(single, data)
            .history_
        )
        np.testing.assert_allclose(hist.train_error[i], h.train_error, rtol=rtol)
        np.testing.assert_allclose(hist.test_error[i], h.test_error, rtol=rtol)
        np.testing.assert_allclose(ens[i].w1_, single.w1_, rtol=rtol, atol=rtol * 1e-2)
        assert np.array_equal(hist.epochs_to_threshold[i], h.epochs_to_threshold, equal_nan=True)


def test_ensemble_equals_numba_runs_member_by_member():
    _ensemble_vs_numba("cpu", "float64", 1e-10)


@pytest.mark.gpu
def test_ensemble_on_cuda_equals_numba():
    _ensemble_vs_numba("cuda", "float64", 1e-9)


def test_torch_backend_through_run_matches_numba():
    small = [
        "task.n_inputs=12",
        "task.teacher_hidden=3",
        "task.n_train=60",
        "task.n_test=20",
        "network.n_hidden=4",
        "train.epochs=15",
    ]
    a = nl.run("curl-descent", "teacher", seed=2, overrides=small, backend="numba")
    b = nl.run("curl-descent", "teacher", seed=2, overrides=small, backend="torch")
    assert b.attrs["status"] == "ok" and b.attrs["backend"] == "torch"
    np.testing.assert_allclose(a["train_error"], b["train_error"], rtol=1e-10)


def test_ensemble_input_errors():
    teacher = make_teacher(15, 4, seed=0)
    data = make_teacher_data(teacher, n_train=30, n_test=10, seed=1)
    with pytest.raises(ParameterError, match="one per student"):
        EnsembleTrainer(rules=[GradientDescent()] * 3).fit(_students(2), data)
    mixed = _students(1) + [TwoLayerNetwork(n_inputs=15, n_hidden=6).initialize()]
    with pytest.raises(ParameterError, match="must share"):
        EnsembleTrainer(rules=GradientDescent()).fit(mixed, data)
