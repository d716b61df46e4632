"""Generate the reference pages that come from the code: spec tables, CLI help, API, tutorials.

Called from ``conf.py`` before Sphinx reads its sources, so the pages always match the code:
every family listed in :mod:`neurolearn.registry` is imported, which registers its spec tables
in :data:`neurolearn._schema.TABLES`.
"""

from __future__ import annotations

import importlib
import importlib.util
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "examples" / "notebooks"

#: public modules of the API reference, in reading order; absent ones are left out
API_MODULES = (
    ("neurolearn", "Top level: run, rerun, list_specs"),
    ("neurolearn.reservoir", "Reservoirs"),
    ("neurolearn.teacher", "Student-teacher networks and curl descent"),
    ("neurolearn.zo", "Zeroth-order learning rules"),
    ("neurolearn.rnnfit", "RNNs fit to sparse recordings"),
    ("neurolearn.spiking", "Spiking E/I networks"),
    ("neurolearn.scan", "Parameter scans"),
    ("neurolearn.tasks", "Tasks and metrics"),
    ("neurolearn.plots", "Plotting helpers"),
    ("neurolearn.experiment", "Running experiments"),
    ("neurolearn.specs", "Spec files"),
    ("neurolearn.backend", "Backends"),
    ("neurolearn.errors", "Errors and warnings"),
    ("neurolearn._schema", "For family authors: spec tables"),
    ("neurolearn._params", "For family authors: parameter constraints"),
)

#: public objects a module documents besides its ``__all__``
API_EXTRAS = {"neurolearn._schema": ("SpecDoc",)}


def _toml_value(value) -> str:
    if value is None:
        return "(unset)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return repr(value)


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def family_modules() -> dict[str, list[str]]:
    """Import every registered family and task module; module -> the kinds it serves."""
    from neurolearn import registry

    modules: dict[str, list[str]] = {}
    for kind, module in {**registry.MODEL_FAMILIES, **registry.TASK_MODULES}.items():
        importlib.import_module(module)
        modules.setdefault(module, []).append(kind)
    return modules


def spec_reference() -> str:
    """Markdown: every registered (section, kind) table with its keys, defaults and docs."""
    import dataclasses

    from neurolearn._schema import TABLES
    from neurolearn.cli import list_specs

    modules = family_modules()
    lines = [
        "# Spec file reference",
        "",
        "A spec file is TOML with `spec_version = 1`, a `description` and one table per section.",
        "Every table names its `kind`; the keys it accepts depend on that kind and are listed",
        "below with their defaults and the values they accept. A key left out takes its default.",
        "Any key can be overridden from the command line with `--set section.key=value` or from",
        'Python with `overrides=["section.key=value"]`. This page is generated from the code.',
        "",
        "## Shipped specs",
        "",
    ]
    shipped = list_specs()
    for kind in ("models", "tasks"):
        lines += [f"### {kind.capitalize()}", "", "| name | description |", "|---|---|"]
        for name, description in shipped[kind].items():
            lines.append(f"| `{name}` | {_cell(description)} |")
        lines.append("")
    lines += ["## Families and their sections", ""]
    lines += ["| module | kinds | required sections | default kinds |", "|---|---|---|---|"]
    for module, kinds in sorted(modules.items()):
        mod = importlib.import_module(module)
        required = getattr(mod, "REQUIRED_SECTIONS", {})
        req = "; ".join(f"{k}: {', '.join(v)}" for k, v in required.items())
        defaults = ", ".join(f"{s} = `{k}`" for s, k in getattr(mod, "DEFAULT_KINDS", {}).items())
        kinds_text = ", ".join(f"`{k}`" for k in kinds)
        lines.append(f"| `{module}` | {kinds_text} | {req or '-'} | {defaults or '-'} |")
    lines.append("")
    sections = sorted({section for section, _ in TABLES})
    for section in sections:
        lines += [f"## `[{section}]`", ""]
        for (sec, kind), cls in sorted(TABLES.items()):
            if sec != section:
                continue
            summary = (cls.__doc__ or "").strip().splitlines()[0] if cls.__doc__ else ""
            lines += [f'### `{section}.kind = "{kind}"`', ""]
            if summary:
                lines += [_cell(summary), ""]
            lines.append(f"Declared in `{cls.__module__}`.")
            lines.append("")
            fields = cls.fields()
            if not fields:
                lines += ["This kind takes no keys besides `kind`.", ""]
                continue
            lines += ["| key | default | accepts | meaning |", "|---|---|---|---|"]
            for name, f in fields.items():
                if f.default is not dataclasses.MISSING:
                    default = f.default
                elif f.default_factory is not dataclasses.MISSING:
                    default = f.default_factory()
                else:
                    default = "(required)"
                lines.append(
                    f"| `{name}` | `{_cell(_toml_value(default))}` | "
                    f"{_cell(f.metadata['constraint'].description)} | {_cell(f.metadata['doc'])} |"
                )
            lines.append("")
    return "\n".join(lines)


def cli_reference() -> str:
    """Markdown: ``neurolearn --help`` and the help of every subcommand."""
    import argparse

    from neurolearn.cli import _parser

    parser = _parser()
    parser.prog = "neurolearn"
    blocks = [
        "# Command line reference",
        "",
        "The `neurolearn` command is a thin layer over the Python API. Exit status: `0` on",
        "success, `2` on bad input (one message on stderr naming the key, the value and what",
        "was expected), `1` when a run fails or diverges. This page is generated from the",
        "command's own help.",
        "",
        "```text",
        parser.format_help().rstrip(),
        "```",
        "",
    ]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                blocks += [f"## `neurolearn {name}`", "", "```text", sub.format_help().rstrip()]
                blocks += ["```", ""]
    return "\n".join(blocks)


def api_pages(out: Path) -> list[str]:
    """One page per public module that exists; returns the page names in order."""
    out.mkdir(parents=True, exist_ok=True)
    names = []
    for module, title in API_MODULES:
        if importlib.util.find_spec(module) is None:
            continue
        name = module.replace(".", "_")
        body = [
            f"# {title}",
            "",
            "```{eval-rst}",
            f".. automodule:: {module}",
            "   :members:",
            *[
                f"\n.. autoclass:: {module}.{extra}\n   :members:"
                for extra in API_EXTRAS.get(module, ())
            ],
            "```",
            "",
        ]
        _write(out / f"{name}.md", "\n".join(body))
        names.append(name)
    index = ["# API reference", "", "```{toctree}", ":maxdepth: 1", "", *names, "```", ""]
    _write(out / "index.md", "\n".join(index))
    return names


def tutorial_pages(out: Path) -> list[str]:
    """Copy each lab (and its solutions) next to the docs sources; returns the page names."""
    out.mkdir(parents=True, exist_ok=True)
    for stale in out.glob("*.py"):
        stale.unlink()
    names = []
    for lab in sorted(NOTEBOOKS.glob("*_lab.py")):
        shutil.copyfile(lab, out / lab.name)
        names.append(lab.stem)
        solutions = NOTEBOOKS / "solutions" / f"{lab.stem}_solutions.py"
        if solutions.exists():
            shutil.copyfile(solutions, out / solutions.name)
            names.append(solutions.stem)
    return names


def _write(path: Path, text: str) -> None:
    # leave an unchanged page untouched so Sphinx does not rebuild it
    if not path.exists() or path.read_text() != text:
        path.write_text(text)


def generate(docs: Path) -> None:
    """Write every generated page under ``docs/_generated``."""
    gen = docs / "_generated"
    gen.mkdir(exist_ok=True)
    _write(gen / "specs.md", spec_reference())
    _write(gen / "cli.md", cli_reference())
    api_pages(gen / "api")
    labs = tutorial_pages(gen / "tutorials")
    index = ["# Tutorials (labs)", "", "```{toctree}", ":maxdepth: 1", "", *labs, "```", ""]
    _write(gen / "tutorials" / "index.md", "\n".join(index))
