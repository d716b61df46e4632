"""Scans of a model kind that runs points in batches (spiking-ei): batched stores equal
unbatched ones bit for bit, a diverging point does not fail its batch-mates, the batch size is
validated and recorded, and a scan cut inside a batch resumes to the same store."""

from __future__ import annotations

import numpy as np
import pytest
import zarr
from scan_helpers import TOY_MODEL, TOY_TASK, same_results

import neurolearn.spiking.batch
from neurolearn import registry, specs
from neurolearn._scan import engine as engines
from neurolearn._scan import limits
from neurolearn._scan.store import ScanStore
from neurolearn.backend import resolve_backend
from neurolearn.cli import main
from neurolearn.errors import DivergenceError, ParameterError, ParameterTypeError
from neurolearn.scan import open_scan, scan
from neurolearn.spiking import experiment as spiking

#: a 50-neuron network, 50 ms baseline and 100 ms of plasticity: a point takes milliseconds
SHORT = [
    "network.n_exc=40",
    "network.n_inh=10",
    "task.baseline_ms=50",
    "task.plastic_ms=100",
    "task.measure_ms=50",
]
#: two model values x two task values: points of a batch share the task spec
GRID = {"rule.target_rate_hz": [3.0, 8.0], "task.bin_ms": [25.0, 50.0]}


def _scan(out, grid=GRID, overrides=(), **kw):
    kw.setdefault("seeds", 2)
    kw.setdefault("scheduler", "synchronous")
    return scan(
        "spiking-ei",
        "rate-homeostasis",
        grid=grid,
        out=out,
        overrides=[*SHORT, *overrides],
        progress=False,
        **kw,
    )


def _spy(monkeypatch) -> list:
    """Record the size of every task the scan runs."""
    sizes = []
    run_task = engines._run_task

    def spy(batch, context):
        sizes.append(len(batch))
        return run_task(batch, context)

    monkeypatch.setattr(engines, "_run_task", spy)
    return sizes


def test_batched_store_equals_unbatched_bit_for_bit(tmp_path, monkeypatch):
    one = _scan(tmp_path / "one.zarr", batch_size=1)
    sizes = _spy(monkeypatch)
    three = _scan(tmp_path / "three.zarr", batch_size=3)
    # 4 points per task spec: a batch of 3 and a single point for each of the 2 task values
    assert sorted(sizes) == [1, 1, 3, 3]
    sizes.clear()
    auto = _scan(tmp_path / "auto.zarr")  # default: here 4, all the points of a task spec
    assert sizes == [4, 4]
    assert (one["status"] == "ok").all() and one["rate_final_hz"].size == 8
    same_results(one, three)
    same_results(one, auto)
    assert np.unique(one["rate_final_hz"].values).size > 1  # the points differ
    # the batch size is a store attribute and part of the summary, not of the identity
    # the default for 8 points on one worker is 4 (memory allows more)
    assert (one.attrs["batch_size"], three.attrs["batch_size"], auto.attrs["batch_size"]) == (
        1,
        3,
        4,
    )
    store = zarr.open_group(str(tmp_path / "three.zarr"), mode="r", use_consolidated=False)
    assert store.attrs["batch_size"] == 3 and "batch_size" not in store.attrs["scan"]


@pytest.mark.slow  # the workers compile or load the batch kernel: about 30 s on 2 cores
def test_batched_scan_on_dask_is_one_task_per_batch_and_equals_unbatched(tmp_path, cluster):
    grid = {"rule.target_rate_hz": [3.0, 8.0]}
    inline = _scan(tmp_path / "inline.zarr", grid=grid, batch_size=1)
    dask = _scan(tmp_path / "dask.zarr", grid=grid, scheduler=cluster.scheduler_address)
    # default on 2 workers: 4 points -> 2 batches of 2, one per worker
    assert dask.attrs["batch_size"] == 2 and dask.attrs["scan_workers"] == 2
    same_results(inline, dask)


def test_a_diverging_point_fails_alone_in_its_batch(tmp_path):
    grid = {"network.w_inh_exc": [0.05, 1e200]}
    batched = _scan(tmp_path / "b.zarr", grid=grid, batch_size=4)
    single = _scan(tmp_path / "s.zarr", grid=grid, batch_size=1)
    status = batched["status"]
    assert (status.sel({"network.w_inh_exc": 0.05}) == "ok").all()
    assert (status.sel({"network.w_inh_exc": 1e200}) == "diverged").all()
    message = str(batched["message"].sel({"network.w_inh_exc": 1e200}).values[0])
    assert message.startswith("The membrane potential became non-finite at step")
    assert np.isnan(batched["rate_final_hz"].sel({"network.w_inh_exc": 1e200})).all()
    same_results(batched, single)  # messages, steps of divergence and numbers alike


def test_a_phase_that_stops_runs_its_points_alone(monkeypatch):
    over = SHORT
    model = specs.load_model("spiking-ei", over)
    task = specs.load_task("rate-homeostasis", over)
    backend = resolve_backend(None)

    def seeds():
        return np.random.SeedSequence(5).spawn(3)

    want = [spiking.run_experiment(model, task, seed=s, backend=backend) for s in seeds()]

    def broken(*args, **kwargs):
        raise RuntimeError("the batch engine broke")

    monkeypatch.setattr(neurolearn.spiking.batch, "run_batch", broken)
    got = spiking.run_experiment_batch([model] * 3, [task] * 3, seeds=seeds(), backend=backend)
    for a, b in zip(want, got, strict=True):
        assert a.metrics == b.metrics
        for name in a.arrays:
            assert a.arrays[name].identical(b.arrays[name])


def test_batch_runner_is_declared_by_the_family():
    assert registry.batch_runner("spiking-ei") is spiking.run_experiment_batch
    assert registry.batch_runner("esn") is None
    assert registry.batch_runner("spiking-reservoir") is None
    backend = resolve_backend(None)
    with pytest.raises(ParameterError, match="one entry per point"):
        spiking.run_experiment_batch([1, 2], [1], seeds=[0, 1], backend=backend)
    bad = spiking.run_experiment_batch(
        [specs.load_model("spiking-ei", [*SHORT, "network.w_inh_exc=1e200"])],
        [specs.load_task("rate-homeostasis", SHORT)],
        seeds=[np.random.SeedSequence(0)],
        backend=backend,
    )
    assert isinstance(bad[0], DivergenceError)


@pytest.mark.parametrize(
    ("value", "exc"),
    [(0, ParameterError), (-1, ParameterError), ("x", ParameterTypeError), (True, TypeError)],
)
def test_bad_batch_size_is_refused_before_writing(tmp_path, value, exc):
    out = tmp_path / "s.zarr"
    with pytest.raises(exc, match="'batch_size' parameter of scan must be an int >= 1"):
        _scan(out, batch_size=value)
    assert not out.exists()


@pytest.mark.parametrize("value", ["0", "-1", "x", "2.5"])
def test_cli_bad_batch_size_exits_2(tmp_path, capsys, value):
    out = tmp_path / "s.zarr"
    args = ["scan", TOY_MODEL, TOY_TASK, "--grid", "network.a=1,2", "--out", str(out)]
    code = main([*args, "--scheduler", "synchronous", f"--batch-size={value}"])
    assert code == 2
    err = capsys.readouterr().err
    assert (
        f"--batch-size: must be a whole number >= 1 (1 runs one point per task). Got {value!r}"
        in err
    )
    assert not out.exists()


def test_cli_batch_size_runs_and_is_reported(tmp_path, capsys):
    out = tmp_path / "s.zarr"
    args = ["scan", "spiking-ei", "rate-homeostasis", "--grid", "rule.target_rate_hz=3,8"]
    args += [f"--set={s}" for s in SHORT]
    code = main([*args, "--out", str(out), "--scheduler", "synchronous", "--batch-size", "2"])
    assert code == 0
    assert "in batches of up to 2" in capsys.readouterr().out


def test_a_model_without_batch_support_runs_one_point_per_task(tmp_path, monkeypatch):
    kw = {"grid": {"network.a": [1.0, 2.0]}, "seeds": 2, "scheduler": "synchronous"}
    plain = scan(TOY_MODEL, TOY_TASK, out=tmp_path / "a.zarr", progress=False, **kw)
    sizes = _spy(monkeypatch)
    asked = scan(TOY_MODEL, TOY_TASK, out=tmp_path / "b.zarr", progress=False, batch_size=8, **kw)
    assert sizes == [1, 1, 1, 1]
    assert asked.attrs["batch_size"] == 1 and plain.attrs["batch_size"] == 1
    same_results(plain, asked)


def test_default_batch_size_follows_memory():
    assert limits.default_batch_size(10**6, 10**9, n_points=1000, n_workers=2) == 32
    assert limits.default_batch_size(10**8, 10**9, n_points=1000, n_workers=2) == 5
    assert limits.default_batch_size(10**6, 10**9, n_points=10, n_workers=4) == 3
    assert limits.default_batch_size(10**6, None, n_points=100, n_workers=1) == 25
    assert limits.default_batch_size(10**6, None, n_points=1000, n_workers=1) == 32
    assert limits.default_batch_size(10**6, None, n_points=6, n_workers=1) == 4
    assert limits.default_batch_size(10**12, 10**9, n_points=100, n_workers=1) == 1


def test_explicit_batch_size_that_does_not_fit_memory_is_refused(tmp_path, monkeypatch):
    # each point's estimate x batch_size against what is available, before anything is written
    # (about 1 MB a point here)
    monkeypatch.setattr("neurolearn.experiment.available_memory", lambda: 3 * 10**6)
    out = tmp_path / "s.zarr"
    with pytest.raises(ValueError, match=r"x 4 runs at once"):
        _scan(out, grid={"rule.target_rate_hz": [3.0, 8.0]}, batch_size=4)
    assert not out.exists()
    ds = _scan(out, grid={"rule.target_rate_hz": [3.0, 8.0]}, batch_size=2)
    assert (ds["status"] == "ok").all()


def test_scan_cut_inside_a_batch_resumes_to_the_same_store(tmp_path, monkeypatch):
    ref = _scan(tmp_path / "ref.zarr", batch_size=1)
    out = tmp_path / "s.zarr"
    write = ScanStore.write
    written = []

    def cut(self, index, record):  # a kill after the 6th point: inside the second batch of 4
        if len(written) == 6:
            raise KeyboardInterrupt
        written.append(record["flat"])
        write(self, index, record)

    monkeypatch.setattr(ScanStore, "write", cut)
    with pytest.raises(KeyboardInterrupt):
        _scan(out, batch_size=4)
    monkeypatch.setattr(ScanStore, "write", write)
    status = open_scan(out)["status"].values
    assert (status != "").sum() == 6
    sizes = _spy(monkeypatch)
    ds = _scan(out, batch_size=4, resume=True)
    assert ds.attrs["scan_computed"] == 2 and sizes == [2]  # the lost points, as one batch
    same_results(ds, ref)


def test_run_specs_batch_refuses_points_it_cannot_batch():
    from neurolearn.experiment import run_specs_batch

    esn = (specs.load_model("esn"), specs.load_task("narma10"))
    spk = (specs.load_model("spiking-ei", SHORT), specs.load_task("rate-homeostasis", SHORT))
    with pytest.raises(ParameterError, match="'esn' does not run in batches"):
        run_specs_batch([esn, esn], seeds=[0, 1])
    with pytest.raises(ParameterError, match="of one network kind. Got esn, spiking-ei"):
        run_specs_batch([esn, spk], seeds=[0, 1])
    with pytest.raises(ParameterError, match=r"one seed per point \(2\). Got 1"):
        run_specs_batch([spk, spk], seeds=[0])
