"""nl.run from Python: the Dataset contract, statuses, rerun, backends."""

import numpy as np
import pytest

import neurolearn as nl
from neurolearn.errors import BackendError, NeurolearnWarning

SMALL = ["network.n=30", "task.train_steps=400", "task.test_steps=150", "readout.washout=50"]


def test_dataset_contract():
    ds = nl.run("esn", "narma10", seed=2, overrides=SMALL)
    for key in (
        "spec",
        "seed",
        "backend",
        "device",
        "neurolearn_version",
        "wall_s",
        "status",
        "message",
    ):
        assert key in ds.attrs
    assert ds.attrs["status"] == "ok" and ds.attrs["seed"] == 2
    assert ds["nrmse"].ndim == 0 and ds["prediction"].dims == ("t",)


def test_rerun_reproduces_the_numbers():
    ds = nl.run(
        "ei-reservoir",
        "narma10",
        seed=4,
        overrides=SMALL + ["network.in_degree_exc=5", "network.in_degree_inh=5", "rule.steps=200"],
    )
    again = nl.rerun(ds)
    assert float(again["nrmse"]) == float(ds["nrmse"])


@pytest.mark.torch
def test_torch_backend_gives_the_same_numbers():
    a = nl.run("esn", "memory-capacity", seed=1, overrides=SMALL + ["task.max_delay=10"])
    b = nl.run(
        "esn", "memory-capacity", seed=1, overrides=SMALL + ["task.max_delay=10"], backend="torch"
    )
    assert b.attrs["backend"] == "torch"
    np.testing.assert_allclose(b["mc_curve"], a["mc_curve"], atol=1e-8)


@pytest.mark.torch
def test_cuda_without_gpu_is_a_clear_error():
    import torch

    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    with pytest.raises(BackendError, match="no CUDA GPU"):
        nl.run("esn", "narma10", device="cuda", overrides=SMALL)


def test_divergence_is_recorded_not_returned_as_numbers():
    with pytest.warns(NeurolearnWarning, match="diverged"):
        ds = nl.run("esn", "narma10", overrides=SMALL + ["task.input_high=2.0"])
    assert ds.attrs["status"] == "diverged"
    assert "nrmse" not in ds


def _task_series(generate, n_total, n_fit, seed):
    """The standardised series a reservoir task protocol scores, drawn from the run's seed as
    ``reservoir.experiment`` draws it (the task stream is the second child of the seed)."""
    rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(2)[1])
    raw = generate(n_total, rng)
    return (raw - raw[:n_fit].mean(axis=0)) / raw[:n_fit].std(axis=0)


def _linear_autoregression(x, order, first, last):
    """Least-squares ``x(t+1) ~ x(t), ..., x(t-order+1), 1`` on ``t`` in ``[first, last)``."""
    t = np.arange(max(first, order - 1), last)
    lags = np.stack([x[t - j] for j in range(order)] + [np.ones(t.size)], axis=1)
    coef = np.linalg.lstsq(lags, x[t + 1], rcond=None)[0]
    return lambda ts: np.stack([x[ts - j] for j in range(order)] + [np.ones(ts.size)], 1) @ coef


def test_mackey_glass_beats_baselines_on_the_scored_series():
    """One step: far better than persistence and than linear extrapolation from two points, on
    the very steps the run scored. (Measured: a linear AR(5) on the same data matches this
    80-unit ESN, 0.0025 vs 0.0063, and AR(10) reaches 0.0008; at the shipped spec the ESN's
    0.0024 equals AR(5)'s 0.0023. The one-step task is nearly linear.) Free run: closer to the
    true continuation than holding the last seen value."""
    from neurolearn.tasks import mackey_glass, nrmse

    washout, train, test, free = 100, 800, 200, 50
    over = [
        "network.n=80",
        f"task.train_steps={train}",
        f"readout.washout={washout}",
        f"task.test_steps={test}",
        f"task.free_run_steps={free}",
    ]
    ds = nl.run("esn", "mackey-glass", seed=0, overrides=over)
    assert ds.attrs["status"] == "ok"
    split, end = washout + train, washout + train + test
    x = _task_series(lambda n, rng: mackey_glass(n, seed=rng), end + 1, split, seed=0)
    np.testing.assert_array_equal(ds["target"].values, x[split : split + free])  # same data

    scored = np.arange(split, end)  # x(t) -> x(t+1), held out
    persistence = nrmse(x[scored + 1], x[scored])
    extrapolation = nrmse(x[scored + 1], _linear_autoregression(x, 2, washout, split - 1)(scored))
    assert float(ds["nrmse_one_step"]) < 0.1 * persistence
    assert float(ds["nrmse_one_step"]) < 0.5 * extrapolation
    held = nrmse(x[split : split + free], np.full(free, x[split - 1]))
    assert float(ds["nrmse_free_run"]) < held


def test_lorenz_free_run_outlasts_a_linear_model():
    """On the scored continuation, the free-running ESN stays valid several times longer than
    a linear one-step map ``x(t+1) = A x(t) + b`` fitted on the same training part and started
    from the same point (measured: 0.43 vs 0.09 Lyapunov times)."""
    from neurolearn.tasks import LORENZ_LYAPUNOV, lorenz, valid_prediction_time

    washout, train, free, repeats = 100, 800, 100, 2
    over = [
        "network.n=80",
        f"task.train_steps={train}",
        f"readout.washout={washout}",
        f"task.free_run_steps={free}",
        f"task.repeats={repeats}",
        "network.input_scaling=0.3",
        "network.spectral_radius=0.9",
    ]
    ds = nl.run("esn", "lorenz", seed=0, overrides=over)
    assert ds.attrs["status"] == "ok"
    split = washout + train
    n_total = split + repeats * (washout + free) + 1
    x = _task_series(lambda n, rng: lorenz(n, dt=0.02, seed=rng), n_total, split, seed=0)
    start = split + washout  # the first repeat's free run predicts x[start:start + free]
    truth = x[start : start + free]
    np.testing.assert_array_equal(ds["target"].values, truth)

    inputs = np.c_[x[washout:split], np.ones(split - washout)]
    coef = np.linalg.lstsq(inputs, x[washout + 1 : split + 1], rcond=None)[0]
    state, linear = x[start - 1], []
    for _ in range(free):
        state = np.r_[state, 1.0] @ coef
        linear.append(state)

    def lyapunov_times(prediction):
        steps = valid_prediction_time(truth, prediction, 0.4, scale=np.ones(3))
        return steps * 0.02 * LORENZ_LYAPUNOV

    esn = lyapunov_times(ds["prediction"].values)
    assert esn > 3 * lyapunov_times(np.array(linear))
    assert esn > 3 * lyapunov_times(np.repeat(x[start - 1 : start], free, axis=0))
