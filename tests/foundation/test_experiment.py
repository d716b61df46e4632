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


@pytest.mark.parametrize(
    "task, metric", [("mackey-glass", "nrmse_one_step"), ("lorenz", "valid_time_lyapunov")]
)
def test_prediction_tasks_run(task, metric):
    over = ["network.n=80", "task.train_steps=800", "readout.washout=100"]
    if task == "lorenz":
        over += [
            "task.free_run_steps=100",
            "task.repeats=2",
            "network.input_scaling=0.3",
            "network.spectral_radius=0.9",
        ]
    else:
        over += ["task.test_steps=200", "task.free_run_steps=50"]
    ds = nl.run("esn", task, seed=0, overrides=over)
    assert ds.attrs["status"] == "ok"
    assert np.isfinite(float(ds[metric]))
