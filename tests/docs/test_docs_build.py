"""The Sphinx site builds with warnings as errors, and its generated reference is complete."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from needs import require

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    require("sphinx", "docs")
    out = tmp_path_factory.mktemp("html")
    env = dict(os.environ, NEUROLEARN_DOCS_EXECUTE="off")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "sphinx",
            "-W",
            "--keep-going",
            "-E",
            "-q",
            "-b",
            "html",
            str(DOCS),
            str(out),
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
    )
    assert proc.returncode == 0, f"sphinx-build -W failed:\n{proc.stderr[-4000:]}"
    return out


def test_docs_build_with_warnings_as_errors(built):
    for page in (
        "index",
        "getting-started",
        "results",
        "_generated/cli",
        "_generated/specs",
        "_generated/api/index",
        "_generated/tutorials/index",
    ):
        assert (built / f"{page}.html").exists(), page
    for lab in (ROOT / "examples" / "notebooks").glob("*_lab.py"):
        assert (built / "_generated" / "tutorials" / f"{lab.stem}.html").exists(), lab.name


def test_spec_reference_lists_every_registered_key(built):
    sys.path.insert(0, str(DOCS))
    try:
        import _reference
    finally:
        sys.path.remove(str(DOCS))
    from neurolearn.registry import TABLES

    _reference.family_modules()  # registers every family's tables, as the build does
    text = (DOCS / "_generated" / "specs.md").read_text()
    for (section, kind), cls in TABLES.items():
        if not cls.__module__.startswith("neurolearn."):
            continue  # test-only kinds that other tests in this process registered
        heading = f'### `{section}.kind = "{kind}"`'
        assert heading in text, heading
        block = text.split(heading, 1)[1].split("\n### ", 1)[0]
        for name, field in cls.fields().items():
            row = re.search(rf"^\| `{re.escape(name)}` \|.*$", block, flags=re.M)
            assert row, f"{section}.{kind}: key {name!r} missing"
            assert field.metadata["doc"].replace("|", "\\|") in row.group(0)


def test_cli_reference_shows_every_command(built):
    from neurolearn.cli import _parser

    text = (DOCS / "_generated" / "cli.md").read_text()
    commands = _parser()._subparsers._group_actions[0].choices
    for name in commands:
        assert f"## `neurolearn {name}`" in text
    api = (built / "_generated" / "api" / "neurolearn_plots.html").read_text()
    assert 'id="neurolearn.plots.scan_heatmap"' in api
