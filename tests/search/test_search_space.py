"""Search spaces: parsing, and bad spaces refused through the real CLI entry point (exit 2,
one line naming the item, nothing written)."""

from __future__ import annotations

import pytest

from neurolearn._search.space import parse_space
from neurolearn.cli import main
from neurolearn.errors import SpecError

GOOD = ["--space", "readout.ridge=log:1e-9:1e-2"]


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        ([], "is empty"),
        (["--space", "network.spectral_radius=log:2:0.1"], "reversed range"),
        (["--space", "network.spectral_radius=lin:1:1"], "reversed range"),
        (["--space", "network.n=int:400:50"], "reversed range"),
        (["--space", "network.spectral_radus=log:0.1:2"], "Did you mean 'spectral_radius'"),
        (["--space", "netwrk.n=int:10:20"], "Did you mean 'network'"),
        (["--space", "readout.ridge=log:0:1e-2"], "log range needs LO > 0"),
        (["--space", "readout.ridge=log:-1:1e-2"], "log range needs LO > 0"),
        (["--space", "readout.ridge=log:1e-9"], "a range is written"),
        (["--space", "readout.ridge=exp:1:2"], "a range is written"),
        (["--space", "readout.ridge=log:a:1"], "LO must be a number"),
        (["--space", "network.n=int:10.5:20"], "must be an integer"),
        (["--space", "readout.ridge"], "expected KEY=SPEC"),
        (["--space", "network.leak=0.5"], "at least 2 values"),
        (["--space", "network.leak=0.5,0.5"], "given twice"),
        (["--space", "network.leak=lin:0:1"], "network.leak"),  # 0 is outside (0, 1]
        (["--space", "network.n=log:10:100"], "network.n"),  # floats for an int key
        ([*GOOD, "--space", "readout.ridge=log:1e-6:1e-3"], "given twice"),
        ([*GOOD, "--set", "readout.ridge=1e-6"], "also given with --set"),
        ([*GOOD, "--trials", "0"], "'trials' parameter of search must be an int >= 1"),
        ([*GOOD, "--seeds", "0"], "'seeds' parameter of search must be an int >= 1"),
    ],
)
def test_bad_space_exits_2_with_one_line(tmp_path, capsys, args, needle):
    out = tmp_path / "study.db"
    argv = ["search", "esn", "narma10", "--out", str(out), "--no-progress", *args]
    if "--trials" not in args:
        argv += ["--trials", "5"]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith("neurolearn: error:")
    assert needle in err[0], err[0]
    assert not out.exists()  # refused before the study was created


def test_parse_space_kinds():
    dims = parse_space(
        {
            "network.spectral_radius": "log:0.1:2",
            "network.leak": "lin:0.2:1",
            "network.n": "int:20:80",
            "readout.kind": "ridge,other",
            "network.density": [0.1, 0.2],
        }
    )
    assert [d.kind for d in dims.values()] == ["log", "lin", "int", "choice", "choice"]
    assert (dims["network.spectral_radius"].low, dims["network.spectral_radius"].high) == (0.1, 2.0)
    assert (dims["network.n"].low, dims["network.n"].high) == (20, 80)
    assert isinstance(dims["network.n"].low, int)
    assert dims["readout.kind"].choices == ("ridge", "other")


def test_parse_space_refuses_wrong_container():
    with pytest.raises(SpecError, match="must be a dict"):
        parse_space("readout.ridge=log:1e-9:1e-2")
