"""The spiking models through nl.run and the real command line."""

from __future__ import annotations

import json

import numpy as np
import pytest

import neurolearn as nl
from neurolearn.cli import main
from neurolearn.errors import SpecError

EI_FAST = [
    "network.n_exc=80",
    "network.n_inh=20",
    "task.baseline_ms=200",
    "task.plastic_ms=1000",
    "task.measure_ms=500",
    "task.raster_ms=100",
]
RES_FAST = [
    "network.n=60",
    "task.max_delay=5",
    "task.train_steps=200",
    "task.test_steps=100",
    "readout.washout=20",
]


def test_nl_run_spiking_ei_writes_result_and_figure(tmp_path):
    ds = nl.run("spiking-ei", "rate-homeostasis", seed=0, overrides=EI_FAST, out=tmp_path)
    assert ds.attrs["status"] == "ok"
    assert (tmp_path / "result.nc").exists() and (tmp_path / "figure.png").exists()
    assert float(ds["rate_final_hz"]) < float(ds["rate_baseline_hz"])  # inhibition grew
    assert float(ds["w_inh_exc_after"]) > float(ds["w_inh_exc_before"])
    again = nl.rerun(tmp_path / "result.nc")
    assert float(again["rate_final_hz"]) == float(ds["rate_final_hz"])


def test_nl_run_spiking_ei_brian2_engine_matches_numba():
    small = EI_FAST + ["network.input_rate_hz=0", "task.plastic_ms=300", "task.measure_ms=300"]
    a = nl.run("spiking-ei", "rate-homeostasis", seed=1, overrides=small)
    b = nl.run(
        "spiking-ei", "rate-homeostasis", seed=1, overrides=small + ["network.engine=brian2"]
    )
    assert b.attrs["status"] == "ok", b.attrs["message"]
    np.testing.assert_array_equal(a["raster_final_t"].values, b["raster_final_t"].values)
    assert float(a["w_inh_exc_after"]) == pytest.approx(float(b["w_inh_exc_after"]), rel=1e-9)


def test_cli_run_json_spiking_reservoir(capsys, tmp_path):
    code = main(
        [
            "run",
            "spiking-reservoir",
            "memory-capacity",
            "--seed",
            "2",
            "--json",
            "--out",
            str(tmp_path),
        ]
        + [a for s in RES_FAST for a in ("--set", s)]
    )
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    assert out["status"] == "ok" and out["memory_capacity"] > 0
    assert (tmp_path / "figure.png").exists()


def test_cli_spiking_reservoir_narma_with_istdp(capsys):
    args = [
        "run",
        "spiking-reservoir",
        "narma10",
        "--json",
        "--set",
        "rule.kind=inhibitory-stdp",
        "--set",
        "network.adapt_steps=100",
        "--set",
        "network.n=60",
        "--set",
        "task.train_steps=200",
        "--set",
        "task.test_steps=100",
        "--set",
        "readout.washout=20",
    ]
    assert main(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["status"] == "ok" and np.isfinite(out["nrmse"])


def test_cli_lists_spiking_models(capsys):
    assert main(["list"]) == 0
    text = capsys.readouterr().out
    assert "spiking-ei" in text and "spiking-reservoir" in text and "rate-homeostasis" in text


def test_bad_spec_values_exit_2_with_the_key(capsys):
    assert main(["run", "spiking-ei", "rate-homeostasis", "--set", "network.tau_m_ms=-5"]) == 2
    err = capsys.readouterr().err
    assert "network.tau_m_ms" in err and "-5" in err
    assert main(["run", "spiking-ei", "rate-homeostasis", "--set", "network.engine=nest"]) == 2
    assert "network.engine" in capsys.readouterr().err


def test_spiking_model_on_a_task_it_cannot_run():
    with pytest.raises(SpecError, match="cannot run task kind 'memory-capacity'"):
        nl.run("spiking-ei", "memory-capacity")


def test_dt_above_refractory_is_bad_input(capsys):
    code = main(["run", "spiking-ei", "rate-homeostasis", "--set", "network.dt_ms=10.0"])
    assert code == 2
    err = capsys.readouterr().err
    assert "network.dt_ms" in err and "refractory_ms" in err and "10.0" in err


@pytest.mark.torch
def test_torch_backend_is_refused_clearly():
    with pytest.raises(nl.errors.BackendError, match="network.backend"):
        nl.run("spiking-ei", "rate-homeostasis", backend="torch", overrides=EI_FAST)
