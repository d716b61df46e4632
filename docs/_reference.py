"""Generate the reference pages that come from the code: spec tables, CLI help, API, tutorials.

Called from ``conf.py`` before Sphinx reads its sources, so the pages always match the code:
every family listed in :mod:`neurolearn.registry` is imported, which registers its spec tables
in :data:`neurolearn.registry.TABLES`.
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
    ("neurolearn.studies", "Studies: comparisons over many runs"),
    ("neurolearn.tasks", "Tasks and metrics"),
    ("neurolearn.plots", "Plotting helpers"),
    ("neurolearn.experiment", "Running experiments"),
    ("neurolearn.specs", "Spec files"),
    ("neurolearn.backend", "Backends"),
    ("neurolearn.errors", "Errors and warnings"),
    ("neurolearn._schema", "For family authors: spec tables"),
    ("neurolearn._params", "For family authors: parameter constraints"),
)

#: objects documented on a module's page besides its ``__all__`` (fully qualified names)
API_EXTRAS = {
    "neurolearn._schema": ("neurolearn._schema.SpecDoc",),
    "neurolearn.experiment": (
        "neurolearn.experiment.run_specs",
        "neurolearn._rerun.Reproduction",
        "neurolearn._rerun.Difference",
    ),
}

#: modules whose internals a public module's docs refer to (documented by docstring only)
API_INTERNALS = {"neurolearn.scan": "neurolearn._scan"}

#: submodules that declare spec tables (covered by the spec reference): docstring only
_SPEC_MODULES = ("experiment", "reservoir_experiment", "task_specs", "specs")


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

    from neurolearn.registry import TABLES
    from neurolearn.specs import list_specs

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


def _submodules(package: str) -> list[str]:
    import pkgutil

    module = importlib.import_module(package)
    if not hasattr(module, "__path__"):
        return []
    return sorted(f"{package}.{info.name}" for info in pkgutil.iter_modules(module.__path__))


def _module_block(module: str, *, members: bool, exclude=()) -> list[str]:
    lines = [f".. automodule:: {module}"]
    if members:
        lines.append("   :members:")
        if exclude:
            lines.append(f"   :exclude-members: {', '.join(sorted(exclude))}")
    else:
        lines.append("   :no-members:")
    return lines + [""]


def _extra_block(name: str) -> list[str]:
    import inspect

    module, _, attr = name.rpartition(".")
    obj = getattr(importlib.import_module(module), attr)
    directive = "autoclass" if inspect.isclass(obj) else "autofunction"
    return [f".. {directive}:: {name}"] + (["   :members:"] if directive == "autoclass" else [])


def api_pages(out: Path) -> list[str]:
    """One page per public module that exists; returns the page names in order.

    A package's page documents its ``__all__``, then every public submodule's own public
    objects (those the package does not re-export), then the docstrings of its private
    submodules, so that references to any of them resolve.
    """
    out.mkdir(parents=True, exist_ok=True)
    names = []
    for module, title in API_MODULES:
        if importlib.util.find_spec(module) is None:
            continue
        name = module.replace(".", "_")
        exported = set(getattr(importlib.import_module(module), "__all__", ()))
        body = [f"# {title}", "", "```{eval-rst}", *_module_block(module, members=True)]
        for extra in API_EXTRAS.get(module, ()):
            body += _extra_block(extra) + [""]
        # the top-level package's submodules have pages of their own
        subs = [] if module == "neurolearn" else _submodules(module)
        public = [
            s
            for s in subs
            if not s.rsplit(".", 1)[1].startswith("_") and s.rsplit(".", 1)[1] not in _SPEC_MODULES
        ]
        private = [s for s in subs if s not in public]
        if module in API_INTERNALS:
            private += [API_INTERNALS[module], *_submodules(API_INTERNALS[module])]
        if public:
            body += ["```", "", "## Submodules", "", "```{eval-rst}"]
            for sub in public:
                body += [".. rubric:: " + sub, ""]
                body += _module_block(sub, members=True, exclude=exported)
        if private:
            body += ["```", "", "## Internals", "", "```{eval-rst}"]
            for sub in private:
                body += [".. rubric:: " + sub, ""] + _module_block(sub, members=False)
        body += ["```", ""]
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


def resolve_reexported(app, env, node, contnode):
    """Resolve a Python reference that names an object by another path than the one it is
    documented under: a re-exported ``neurolearn.zo.SPSA`` referred to as
    ``neurolearn.zo.rules.SPSA``, or a short name used in a submodule whose object the package
    documents. Resolved only when exactly one object of the same family has that last name;
    anything else stays a broken reference (and fails the build).
    """
    if node.get("refdomain") != "py":
        return None
    from sphinx.util.nodes import make_refnode

    target = node["reftarget"].lstrip(".~")
    context = target if "." in target else (node.get("py:module") or "")
    family = ".".join(context.split(".")[:2])
    if not family.startswith("neurolearn"):
        return None
    last = target.rsplit(".", 1)[-1]
    domain = env.get_domain("py")
    for prefix in (family + ".", "neurolearn."):  # the family first, then the whole package
        found = [
            (name, entry)
            for name, entry in domain.objects.items()
            if name.rsplit(".", 1)[-1] == last and name.startswith(prefix) and not entry.aliased
        ]
        if found:
            break
    if len(found) != 1:
        return None
    name, entry = found[0]
    return make_refnode(app.builder, node["refdoc"], entry.docname, entry.node_id, contnode, name)
