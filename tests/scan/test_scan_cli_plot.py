"""The `neurolearn scan` command, `nl.scan` / `nl.plot_scan`, and the scan pictures."""

from __future__ import annotations

import matplotlib
import numpy as np
import pytest
from scan_helpers import TOY_MODEL, TOY_TASK

import neurolearn as nl
from neurolearn.cli import main

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    out = tmp_path_factory.mktemp("plot") / "s.zarr"
    nl.scan(
        TOY_MODEL,
        TOY_TASK,
        grid={"network.a": [1.0, 2.0, 3.0], "network.b": "log:1:100:3"},
        seeds=3,
        out=out,
        scheduler="synchronous",
        progress=False,
        overrides=["network.diverge_when=3.0"],
    )
    return out


def test_cli_scan_writes_store_and_prints_summary(tmp_path, capsys):
    out = tmp_path / "s.zarr"
    code = main(
        [
            "scan",
            TOY_MODEL,
            TOY_TASK,
            "--grid",
            "network.a=1,2",
            "--seeds",
            "2",
            "--out",
            str(out),
            "--scheduler",
            "synchronous",
            "--no-progress",
        ]
    )
    text = capsys.readouterr().out
    assert code == 0
    assert "4 points: 4 ok, 0 diverged, 0 failed" in text and f"wrote {out}" in text
    ds = nl.open_scan(out)
    assert dict(ds.sizes) == {"network.a": 2, "seed": 2, "step": 5}
    # resume of a complete store: nothing to do, same store
    assert (
        main(
            [
                "scan",
                TOY_MODEL,
                TOY_TASK,
                "--grid",
                "network.a=1,2",
                "--seeds",
                "2",
                "--out",
                str(out),
                "--scheduler",
                "synchronous",
                "--no-progress",
                "--resume",
            ]
        )
        == 0
    )
    assert "nothing left to compute" in capsys.readouterr().out
    np.testing.assert_array_equal(nl.open_scan(out)["score"], ds["score"])


def test_cli_scan_with_failures_exits_1_and_names_them(tmp_path, capsys):
    out = tmp_path / "s.zarr"
    code = main(
        [
            "scan",
            TOY_MODEL,
            TOY_TASK,
            "--grid",
            "network.a=1,2",
            "--out",
            str(out),
            "--set",
            "network.fail_when=2",
            "--scheduler",
            "synchronous",
        ]
    )
    captured = capsys.readouterr()
    assert code == 1
    assert "1 failed" in captured.out and "ValueError: toy failure" in captured.out
    assert "--resume" in captured.err
    assert "scan: 100%" in captured.err and "failed=1" in captured.err  # the progress bar


def test_cli_refuses_store_from_another_spec(tmp_path, capsys):
    out = tmp_path / "s.zarr"
    base = [
        "scan",
        TOY_MODEL,
        TOY_TASK,
        "--out",
        str(out),
        "--scheduler",
        "synchronous",
        "--no-progress",
    ]
    assert main([*base, "--grid", "network.a=1,2"]) == 0
    code = main([*base, "--grid", "network.a=1,3", "--resume"])
    assert code == 2
    assert "different scan" in capsys.readouterr().err


def test_nl_scan_is_callable_before_and_after_importing_the_module(tmp_path):
    import importlib

    import neurolearn.scan as module

    importlib.reload(nl)
    assert callable(nl.scan)
    ds = nl.scan(
        TOY_MODEL,
        TOY_TASK,
        grid={"network.a": [1.0]},
        out=tmp_path / "s.zarr",
        scheduler="synchronous",
        progress=False,
    )
    assert module.scan is not None and str(ds["status"].item()) == "ok"
    assert nl.plot_scan is module.plot_scan


def test_line_plot_with_seed_band(store):
    fig = nl.plot_scan(store, x="network.b", hue="network.a", metric="score")
    ax = fig.axes[0]
    assert ax.get_xscale() == "log"  # log-spaced grid key
    lines = ax.get_lines()
    assert len(lines) == 3
    ds = nl.open_scan(store)
    expected = ds["score"].sel({"network.a": 1.0}).mean("seed").values
    np.testing.assert_allclose(lines[0].get_ydata(), expected)
    assert np.isnan(lines[2].get_ydata()).all()  # diverged points are not plotted
    assert len(ax.collections) == 3  # one band per line


def test_heat_map(store):
    fig = nl.plot_scan(store, x="network.a", y="network.b", metric="score")
    mesh = fig.axes[0].collections[0]
    ds = nl.open_scan(store)
    mean = ds["score"].where(ds["status"] == "ok").mean("seed").transpose("network.b", "network.a")
    np.testing.assert_allclose(np.asarray(mesh.get_array()).ravel(), mean.values.ravel())


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"x": "network.c"}, "'x' parameter of plot_scan must be a grid key"),
        ({"x": "network.a"}, "has 3 values; pass it as hue= or y="),
        ({"x": "network.a", "metric": "scor"}, "Did you mean 'score'"),
        ({"x": "network.a", "hue": "network.b", "y": "network.b"}, "not both"),
        ({"x": "network.a", "sel": {"network.q": 1}}, "'sel' parameter"),
        ({"x": "network.a", "hue": "network.b", "band": "iqr"}, "'band' parameter"),
    ],
)
def test_plot_errors(store, kwargs, match):
    with pytest.raises(ValueError, match=match):
        nl.plot_scan(store, **kwargs)


def test_plot_with_sel_and_range_band(store):
    fig = nl.plot_scan(store, x="network.a", sel={"network.b": 10.0}, band="range")
    ds = nl.open_scan(store)
    part = ds["score"].sel({"network.b": 10.0}).where(ds["status"].sel({"network.b": 10.0}) == "ok")
    np.testing.assert_allclose(fig.axes[0].get_lines()[0].get_ydata(), part.mean("seed").values)
