"""Every lab and every solutions file executes top to bottom as a notebook, on its small setting.

The labs are Jupytext percent-format scripts; each is read into a notebook and run by nbclient
in a fresh Python kernel, with ``NEUROLEARN_LAB_SMALL=1`` so that it uses its quick setting.
A cell that raises fails the test with that cell's traceback.
"""

import os
from pathlib import Path

import pytest
from needs import require

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "examples" / "notebooks"
LABS = sorted(NOTEBOOKS.glob("*_lab.py"))
SOLUTIONS = sorted((NOTEBOOKS / "solutions").glob("*_solutions.py"))


def test_every_lab_has_its_solutions_and_every_solution_its_lab():
    assert LABS, "no labs found"
    assert {p.stem + "_solutions" for p in LABS} == {p.stem for p in SOLUTIONS}


def _execute(path: Path, tmp_path: Path, monkeypatch):
    jupytext = require("jupytext", "docs")
    from nbclient import NotebookClient

    nb = jupytext.read(path)
    # the kernel inherits the environment: the small setting and this checkout; no MPLBACKEND,
    # so that the kernel's inline backend returns figures as outputs
    monkeypatch.setenv("NEUROLEARN_LAB_SMALL", "1")
    monkeypatch.delenv("MPLBACKEND", raising=False)
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    )
    client = NotebookClient(
        nb,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()
    return nb


def _outputs(nb, output_type):
    return [
        o
        for cell in nb.cells
        if cell.cell_type == "code"
        for o in cell.get("outputs", [])
        if o["output_type"] == output_type
    ]


@pytest.mark.slow
@pytest.mark.parametrize("path", LABS + SOLUTIONS, ids=lambda p: p.stem)
def test_notebook_executes(path, tmp_path, monkeypatch):
    nb = _execute(path, tmp_path, monkeypatch)
    code_cells = [c for c in nb.cells if c.cell_type == "code"]
    assert code_cells and all(c.get("execution_count") for c in code_cells)
    figures = [o for o in _outputs(nb, "display_data") if "image/png" in o.get("data", {})]
    assert figures, f"{path.name} drew no figure"


def test_labs_start_with_three_lines_of_code():
    jupytext = require("jupytext", "docs")
    for path in LABS:
        nb = jupytext.read(path)
        first_code = next(c for c in nb.cells if c.cell_type == "code")
        lines = [ln for ln in first_code.source.splitlines() if ln.strip()]
        assert len(lines) == 3, f"{path.name}: the first code cell has {len(lines)} lines"
        intro = next(c for c in nb.cells if c.cell_type == "markdown").source
        assert "**The question.**" in intro, f"{path.name}: no question stated"
        assert "Exercises" in "".join(c.source for c in nb.cells if c.cell_type == "markdown")
