"""A real model through the scan: an ESN on NARMA-10, on the Dask workers and inline."""

from __future__ import annotations

import numpy as np
from scan_helpers import same_results

import neurolearn as nl
from neurolearn.cli import main

SMALL = ["network.n=30", "task.train_steps=400", "task.test_steps=100"]


def test_esn_scan_equals_direct_runs_on_any_engine(tmp_path, cluster, capsys):
    out = tmp_path / "esn.zarr"
    args = [
        "scan",
        "esn",
        "narma10",
        "--grid",
        "network.spectral_radius=0.5,0.9",
        "--seeds",
        "2",
        "--seed",
        "3",
        "--out",
        str(out),
        "--scheduler",
        cluster.scheduler_address,
        "--no-progress",
    ]
    for item in SMALL:
        args += ["--set", item]
    assert main(args) == 0
    assert "4 points: 4 ok" in capsys.readouterr().out
    ds = nl.open_scan(out)
    assert ds["nrmse"].dims == ("network.spectral_radius", "seed")
    assert ds["prediction"].dims == ("network.spectral_radius", "seed", "t")
    children = np.random.SeedSequence(3).spawn(4)
    for flat, child in enumerate(children):
        i, s = divmod(flat, 2)
        rho = [0.5, 0.9][i]
        ref = nl.run(
            "esn", "narma10", seed=child, overrides=[*SMALL, f"network.spectral_radius={rho}"]
        )
        point = ds.isel({"network.spectral_radius": i, "seed": s})
        assert float(point["nrmse"]) == float(ref["nrmse"])
        np.testing.assert_array_equal(point["prediction"].values, ref["prediction"].values)
    inline = nl.scan(
        "esn",
        "narma10",
        grid={"network.spectral_radius": [0.5, 0.9]},
        seeds=2,
        seed=3,
        overrides=SMALL,
        out=tmp_path / "inline.zarr",
        scheduler="synchronous",
        progress=False,
    )
    same_results(ds, inline)
