"""Grids: parsing, validation against the specs, and bad input that writes nothing."""

from __future__ import annotations

import pytest
from scan_helpers import TOY_MODEL, TOY_TASK

from neurolearn._scan.grid import parse_grid, parse_grid_arg
from neurolearn.cli import main
from neurolearn.errors import ParameterError, SpecError
from neurolearn.scan import scan


@pytest.mark.parametrize(
    ("arg", "key", "values"),
    [
        ("network.a=1,2,4", "network.a", [1, 2, 4]),
        ("network.a=0.5, 1.5", "network.a", [0.5, 1.5]),
        ("network.a=0:1:5", "network.a", [0.0, 0.25, 0.5, 0.75, 1.0]),
        ("task.length=10:30:3", "task.length", [10, 20, 30]),
        ("task.length=log:10:1000:3", "task.length", [10, 100, 1000]),
        ("network.b=log:1e-3:1e-1:3", "network.b", [1e-3, 1e-2, 1e-1]),
        ("network.b=7", "network.b", [7]),
        ("network.b=2:2:1", "network.b", [2]),
        ("rule.kind=local,global", "rule.kind", ["local", "global"]),
        ("rule.on=true,false", "rule.on", [True, False]),
    ],
)
def test_parse_grid_arg(arg, key, values):
    k, v = parse_grid_arg(arg)
    assert k == key
    if isinstance(values[0], float):
        assert v == pytest.approx(values, rel=1e-12)
    else:
        assert v == values
    assert [type(x) for x in v] == [type(x) for x in values]


def test_log_range_is_geometric():
    _, v = parse_grid_arg("network.b=log:1:16:5")
    assert v == pytest.approx([1, 2, 4, 8, 16])


@pytest.mark.parametrize(
    ("grid", "match"),
    [
        (["network.a=1:4:0"], "empty range"),
        (["network.a=1:4"], "START:STOP:NUM"),
        (["network.a=log:0:4:3"], "START > 0"),
        (["network.a=1:x:3"], "stop must be a number"),
        (["network.a=1:4:2.5"], "NUM must be an int"),
        (["network.a=1:2:1"], "START == STOP"),
        (["network.a="], "no values"),
        (["network.a"], "KEY=VALUES"),
        (["a=1,2"], "dotted path"),
        (["network.a=1,1"], "given twice"),
        (["network.a=1", "network.a=2"], "given twice"),
        ({"network.a": []}, "no values"),
        ({"network.a": [[1, 2]]}, "must be numbers, bools or strings"),
        ({"network.a": [float("nan")]}, "finite"),
        ({}, "empty"),
        ("network.a=1", "must be a dict"),
    ],
)
def test_bad_grids(grid, match):
    with pytest.raises(SpecError, match=match):
        parse_grid(grid)


@pytest.mark.parametrize(
    ("grid", "match"),
    [
        ({"network.aa": [1, 2]}, "Did you mean 'a'"),
        ({"netwrk.a": [1, 2]}, "unknown section 'netwrk'. Did you mean 'network'"),
        ({"task.length": ["x"]}, r"task.length: must be an int >= 1. Got 'x'"),
        ({"task.length": [0, 3]}, "task.length=0"),
        ({"network.a": [1, "x"]}, "network.a: must be a float"),
        ({"seed.value": [1, 2]}, "--seeds"),
    ],
)
def test_grid_checked_against_specs_before_writing(tmp_path, grid, match):
    out = tmp_path / "s.zarr"
    with pytest.raises(SpecError, match=match):
        scan(TOY_MODEL, TOY_TASK, grid=grid, out=out, scheduler="synchronous", progress=False)
    assert not out.exists()


def test_grid_key_also_in_overrides_is_refused(tmp_path):
    out = tmp_path / "s.zarr"
    with pytest.raises(SpecError, match="also given with --set"):
        scan(
            TOY_MODEL,
            TOY_TASK,
            grid={"network.a": [1, 2]},
            overrides=["network.a=3"],
            out=out,
            scheduler="synchronous",
            progress=False,
        )
    assert not out.exists()


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"seeds": 0}, ParameterError, "'seeds' parameter of scan must be an int >= 1"),
        ({"seed": -1}, ParameterError, "'seed' parameter"),
        ({"workers": 0}, ParameterError, "'workers' parameter"),
        ({"workers": 2, "scheduler": "tcp://x:1"}, ParameterError, "at most one of"),
        ({"scheduler": 3}, TypeError, "'scheduler' parameter"),
        ({"backend": "fortran"}, ValueError, "fortran"),
    ],
)
def test_bad_options(tmp_path, kwargs, exc, match):
    out = tmp_path / "s.zarr"
    if "workers" not in kwargs:
        kwargs.setdefault("scheduler", "synchronous")
    with pytest.raises(exc, match=match):
        scan(TOY_MODEL, TOY_TASK, grid={"network.a": [1]}, out=out, progress=False, **kwargs)
    assert not out.exists()


@pytest.mark.parametrize(
    ("grid", "match"),
    [
        ("network.aa=1,2", "Did you mean 'a'"),
        ("network.a=1:3:0", "empty range"),
        ("task.length=abc", "must be an int"),
        ("netwrk.a=1", "Did you mean 'network'"),
    ],
)
def test_cli_bad_grid_exits_2_and_writes_nothing(tmp_path, capsys, grid, match):
    out = tmp_path / "s.zarr"
    code = main(
        [
            "scan",
            TOY_MODEL,
            TOY_TASK,
            "--grid",
            grid,
            "--out",
            str(out),
            "--scheduler",
            "synchronous",
            "--no-progress",
        ]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert match in err and err.startswith("neurolearn: error:")
    assert not out.exists()
