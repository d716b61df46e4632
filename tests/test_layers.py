"""The layers of DESIGN.md hold: a model family imports nothing from the layers above it."""

import ast
from pathlib import Path

import pytest

import neurolearn

PACKAGE = Path(neurolearn.__file__).resolve().parent
FAMILIES = ("reservoir", "spiking", "teacher", "zo", "rnnfit", "tasks")
ABOVE = ("neurolearn.experiment", "neurolearn.scan", "neurolearn.cli", "neurolearn.studies")


def imported_modules(source: str, module: str) -> set[str]:
    """Every module an ``import`` or ``from ... import`` names in ``source`` (at any depth,
    including imports inside functions), relative imports resolved against ``module``."""
    found = set()
    package = module.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parts = parts[: len(parts) - node.level + 1]
                base = ".".join(parts + ([base] if base else []))
            found.add(base)
            # ``from neurolearn import experiment`` imports the module neurolearn.experiment
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def _is_above(name: str) -> bool:
    return any(name == top or name.startswith(top + ".") for top in ABOVE)


def _family_modules():
    for family in FAMILIES:
        for path in sorted((PACKAGE / family).rglob("*.py")):
            rel = path.relative_to(PACKAGE.parent).with_suffix("")
            yield pytest.param(path, ".".join(rel.parts), id=str(rel))


def test_the_checker_sees_every_form_of_import():
    source = (
        "import neurolearn.scan\n"
        "from neurolearn import experiment\n"
        "def f():\n    from neurolearn.cli import main\n"
        "from ..studies import reservoir_demo\n"
    )
    found = imported_modules(source, "neurolearn.reservoir.ei")
    assert {
        "neurolearn.scan",
        "neurolearn.experiment",
        "neurolearn.cli",
        "neurolearn.studies.reservoir_demo",
    } <= found
    assert all(_is_above(n) for n in found - {"neurolearn", "neurolearn.studies"})
    assert not _is_above("neurolearn.scanner") and not _is_above("neurolearn.specs")


@pytest.mark.parametrize(("path", "module"), list(_family_modules()))
def test_family_module_imports_nothing_from_above(path, module):
    names = imported_modules(path.read_text(encoding="utf-8"), module)
    above = sorted(n for n in names if _is_above(n))
    assert not above, f"{module} imports {above}: a family must not import from above it"
