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


def test_torch_backend_gives_the_same_numbers():
    a = nl.run("esn", "memory-capacity", seed=1, overrides=SMALL + ["task.max_delay=10"])
    b = nl.run(
        "esn", "memory-capacity", seed=1, overrides=SMALL + ["task.max_delay=10"], backend="torch"
    )
    assert b.attrs["backend"] == "torch"
    np.testing.assert_allclose(b["mc_curve"], a["mc_curve"], atol=1e-8)


def test_cuda_without_gpu_is_a_clear_error():
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    with pytest.raises(BackendError, match="no CUDA GPU"):
        nl.run("esn", "narma10", device="cuda", overrides=SMALL)


def test_divergence_is_recorded_not_returned_as_numbers():
    with pytest.warns(NeurolearnWarning, match="diverged"):
        ds = nl.run("esn", "narma10", overrides=SMALL + ["task.input_high=2.0"])
    assert ds.attrs["status"] == "diverged"
    assert "nrmse" not in ds


def test_mackey_glass_one_step_beats_persistence():
    """The readout must do far better than predicting x(t+1) = x(t)."""
    from neurolearn.tasks import mackey_glass, nrmse

    over = [
        "network.n=80",
        "task.train_steps=800",
        "readout.washout=100",
        "task.test_steps=200",
        "task.free_run_steps=50",
    ]
    ds = nl.run("esn", "mackey-glass", seed=0, overrides=over)
    assert ds.attrs["status"] == "ok"
    x = mackey_glass(1200, seed=0)
    persistence = nrmse(x[1:], x[:-1])
    assert float(ds["nrmse_one_step"]) < 0.1 * persistence
    assert np.isfinite(float(ds["nrmse_free_run"]))


def test_lorenz_free_run_outlasts_a_frozen_prediction():
    from neurolearn.tasks import LORENZ_LYAPUNOV, valid_prediction_time

    over = [
        "network.n=80",
        "task.train_steps=800",
        "readout.washout=100",
        "task.free_run_steps=100",
        "task.repeats=2",
        "network.input_scaling=0.3",
        "network.spectral_radius=0.9",
    ]
    ds = nl.run("esn", "lorenz", seed=0, overrides=over)
    assert ds.attrs["status"] == "ok"
    target = ds["target"].values
    frozen = np.repeat(target[:1], target.shape[0], axis=0)
    frozen_time = valid_prediction_time(target, frozen, 0.4, scale=np.ones(3)) * 0.02
    assert float(ds["valid_time_lyapunov"]) > 2 * frozen_time * LORENZ_LYAPUNOV
