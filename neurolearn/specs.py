"""Spec files (TOML) -> validated, frozen :class:`~neurolearn._schema.SpecDoc` objects.

A model spec has ``spec_version``, ``description`` and tables such as ``[network]``, ``[rule]``,
``[readout]``, ``[train]``; a task spec has ``[task]`` and ``[metric]``. Every table has a
``kind`` (the rule, readout, metric kinds default to the only one their family knows, where
there is one). ``--set section.key=value`` overrides are applied to the raw TOML before
validation, so an override is checked exactly like a value in a file.
"""

from __future__ import annotations

import importlib.resources
import math
import tomllib
from pathlib import Path
from typing import Any

from neurolearn import registry
from neurolearn._params import short_repr, short_text
from neurolearn._schema import SpecDoc, did_you_mean, table_class
from neurolearn.errors import SpecError

__all__ = [
    "SPEC_VERSION",
    "spec_dirs",
    "available",
    "list_specs",
    "load_model",
    "load_task",
    "parse_overrides",
    "to_toml",
]

SPEC_VERSION = 1
_TOP_KEYS = ("spec_version", "description")


def spec_dirs(kind: str) -> list[Path]:
    """Folders searched for named ``kind`` ("models" or "tasks") specs, in order.

    An installed wheel carries them as ``neurolearn/_data/<kind>``; a source checkout (editable
    install) uses the top-level ``<kind>/`` folder.
    """
    dirs = []
    packaged = Path(str(importlib.resources.files("neurolearn"))) / "_data" / kind
    if packaged.is_dir():
        dirs.append(packaged)
    checkout = Path(__file__).resolve().parent.parent / kind
    if checkout.is_dir():
        dirs.append(checkout)
    return dirs


def available(kind: str) -> dict[str, Path]:
    """Named specs of ``kind`` ("models" or "tasks"): name -> path, sorted by name."""
    found: dict[str, Path] = {}
    for d in spec_dirs(kind):
        for p in sorted(d.glob("*.toml")):
            found.setdefault(p.stem, p)
    return dict(sorted(found.items()))


def list_specs() -> dict[str, dict[str, str]]:
    """Shipped model and task specs: ``{"models": {name: description}, "tasks": {...}}``.

    Examples
    --------
    >>> import neurolearn as nl
    >>> "ei-reservoir" in nl.list_specs()["models"]
    True
    """
    out = {}
    for kind in ("models", "tasks"):
        out[kind] = {}
        for name, path in available(kind).items():
            with open(path, "rb") as fh:
                try:
                    out[kind][name] = tomllib.load(fh).get("description", "")
                except tomllib.TOMLDecodeError:
                    out[kind][name] = "(invalid TOML)"
    return out


def _locate(name_or_path: str | Path, kind: str) -> Path:
    text = str(name_or_path)
    if text.endswith(".toml") or "/" in text or "\\" in text:
        path = Path(text)
        if path.is_dir():
            raise SpecError(f"{kind[:-1]} spec file {short_repr(text)} is a folder, not a file.")
        if not path.is_file():
            raise SpecError(f"{kind[:-1]} spec file {short_repr(text)} does not exist.")
        return path
    names = available(kind)
    if text not in names:
        raise SpecError(
            f"unknown {kind[:-1]} {short_repr(text)}.{did_you_mean(text, names)} "
            f"Available: {', '.join(names) or 'none'} (see `neurolearn list`)."
        )
    return names[text]


def _read(path: Path) -> dict:
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except UnicodeDecodeError:
        raise SpecError(
            f"{short_text(path, 120)}: not a UTF-8 text file; a spec is a TOML text file."
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"{short_text(path, 120)}: not valid TOML: {exc}") from None
    except OSError as exc:
        raise SpecError(
            f"{short_text(path, 120)}: cannot be read ({exc.strerror or exc})."
        ) from None


def _display(path: Path) -> str:
    """Short path for messages: ``models/esn.toml`` for shipped specs."""
    for kind in ("models", "tasks"):
        for d in spec_dirs(kind):
            if path.resolve().parent == d.resolve():
                return f"{kind}/{path.name}"
    return str(path)


def parse_overrides(items) -> list[tuple[str, Any]]:
    """Parse ``key=value`` strings; values are TOML literals, else plain strings.

    Examples
    --------
    >>> parse_overrides(["network.n=1000", "rule.kind=local-ei-adaptation"])
    [('network.n', 1000), ('rule.kind', 'local-ei-adaptation')]
    """
    out = []
    for item in items or ():
        if isinstance(item, tuple):
            out.append(item)
            continue
        if not isinstance(item, str):
            raise SpecError(
                f"override {short_repr(item)}: expected a 'KEY=VALUE' string or a (key, value) "
                "pair."
            )
        if "=" not in item:
            raise SpecError(f"--set {short_repr(item)}: expected KEY=VALUE, e.g. network.n=1000.")
        key, _, raw = item.partition("=")
        key = key.strip()
        if not key or key.count(".") < 1 or "" in key.split("."):
            raise SpecError(
                f"--set {short_repr(item)}: the key must be a dotted path SECTION.KEY, "
                "e.g. network.n."
            )
        try:
            value = tomllib.loads(f"v = {raw.strip()}")["v"]
        except tomllib.TOMLDecodeError:
            value = raw.strip()
        out.append((key, value))
    return out


def _apply_overrides(raw: dict, overrides, sections: set[str], where: str) -> None:
    # switching a table's kind starts that table afresh (the file's keys belong to the old
    # kind); the new kind's defaults apply, plus any other overrides of that section
    for key, value in overrides:
        section, _, rest = key.partition(".")
        if rest == "kind" and section in sections and isinstance(raw.get(section), dict):
            if raw[section].get("kind") != value:
                raw[section] = {"kind": value}
    for key, value in overrides:
        section, *rest = key.split(".")
        if section not in sections:
            continue
        node = raw.setdefault(section, {})
        if not isinstance(node, dict):
            raise SpecError(f"{where}: --set {short_text(key)}: {section!r} is not a table.")
        for part in rest[:-1]:
            nxt = node.setdefault(part, {})
            if not isinstance(nxt, dict):
                raise SpecError(f"{where}: --set {short_text(key)}: {part!r} is not a table.")
            node = nxt
        node[rest[-1]] = value


def _load(name_or_path, kind: str, overrides, own_sections: tuple[str, ...], kind_of) -> SpecDoc:
    path = _locate(name_or_path, kind)
    where = _display(path)
    raw = _read(path)
    _apply_overrides(raw, overrides, set(own_sections) | set(raw), where)
    return _validate(raw, where, path.stem, kind, own_sections, kind_of)


def _validate(raw: dict, where: str, name: str, kind: str, own_sections, kind_of) -> SpecDoc:
    version = raw.get("spec_version")
    if version != SPEC_VERSION:
        raise SpecError(
            f"{where}: spec_version must be {SPEC_VERSION}. Got {short_repr(version)} instead."
        )
    description = raw.get("description", "")
    if not isinstance(description, str):
        raise SpecError(
            f"{where}: description must be a string. Got {short_repr(description)} instead."
        )
    module = kind_of(raw, where)
    tables = {}
    for section, body in raw.items():
        if section in _TOP_KEYS:
            continue
        if not isinstance(body, dict):
            raise SpecError(
                f"{where}: unknown top-level key {short_repr(section)}."
                f"{did_you_mean(section, list(own_sections) + list(_TOP_KEYS))}"
            )
        if section not in own_sections:
            raise SpecError(
                f"{where}: unknown section [{short_text(section)}]."
                f"{did_you_mean(section, own_sections)} "
                f"Valid sections: {', '.join(own_sections)}."
            )
        body = dict(body)
        table_kind = body.pop("kind", None) or module.DEFAULT_KINDS.get(section)
        if table_kind is None:
            raise SpecError(f"{where}: [{section}] needs a 'kind' key.")
        cls = table_class(section, table_kind, f"{where}: {section}")
        tables[section] = cls.from_dict(body, f"{where}: {section}")
    for section in module.REQUIRED_SECTIONS.get(kind, ()):
        if section not in tables:
            raise SpecError(f"{where}: missing required section [{section}].")
    return SpecDoc(
        name=name, source=where, description=description, tables=tables, spec_version=version
    )


MODEL_SECTIONS = ("network", "rule", "readout", "train")
TASK_SECTIONS = ("task", "metric")


def _module_of(raw: dict, where: str, section: str, spec: str, known: dict, load):
    """The module that declares ``[section]``'s kind, from the raw TOML of a ``spec`` file."""
    table = raw.get(section)
    if not isinstance(table, dict) or "kind" not in table:
        raise SpecError(f"{where}: a {spec} spec needs a [{section}] table with a 'kind' key.")
    kind = table["kind"]
    if not isinstance(kind, str) or kind not in known:
        raise SpecError(
            f"{where}: {section}.kind: unknown {section} kind {short_repr(kind)}."
            f"{did_you_mean(str(kind), known)} Known kinds: {', '.join(sorted(known))}."
        )
    return load(kind)


def _family_of(raw: dict, where: str):
    return _module_of(
        raw, where, "network", "model", registry.MODEL_FAMILIES, registry.family_module
    )


def _task_of(raw: dict, where: str):
    return _module_of(raw, where, "task", "task", registry.TASK_MODULES, registry.task_module)


def load_model(name_or_path, overrides=()) -> SpecDoc:
    """Load and validate a model spec by name (``models/NAME.toml``) or path.

    Examples
    --------
    >>> load_model("esn", ["network.n=50"]).network.n
    50
    """
    return _load(name_or_path, "models", parse_overrides(overrides), MODEL_SECTIONS, _family_of)


def load_task(name_or_path, overrides=()) -> SpecDoc:
    """Load and validate a task spec by name (``tasks/NAME.toml``) or path.

    Examples
    --------
    >>> load_task("narma10").task.order
    10
    """
    return _load(name_or_path, "tasks", parse_overrides(overrides), TASK_SECTIONS, _task_of)


def check_overrides_used(overrides, model: SpecDoc, task: SpecDoc) -> None:
    """Every ``--set`` key must name a section of the model or the task."""
    sections = set(model.tables) | set(task.tables) | set(MODEL_SECTIONS) | set(TASK_SECTIONS)
    for key, _ in parse_overrides(overrides):
        section = key.split(".")[0]
        if section not in sections:
            raise SpecError(
                f"--set {short_text(key)}: unknown section {short_repr(section)}."
                f"{did_you_mean(section, sections)} "
                f"Valid sections: {', '.join(sorted(sections))}."
            )


# ---------------------------------------------------------------- TOML writing
def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        return f'"{escaped}"'
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + " }"
    if value is None:
        raise SpecError("None cannot be written to TOML; omit the key instead.")
    raise SpecError(f"cannot write {type(value).__name__} to TOML.")


def to_toml(doc: dict) -> str:
    """Write a nested dict (top-level scalars, then one level of tables) as TOML text.

    Keys whose value is None are left out (None means "use the default").

    Examples
    --------
    >>> print(to_toml({"spec_version": 1, "network": {"kind": "esn", "n": 10}}))
    spec_version = 1
    <BLANKLINE>
    [network]
    kind = "esn"
    n = 10
    <BLANKLINE>
    """
    lines = []
    for key, value in doc.items():
        if not isinstance(value, dict) and value is not None:
            lines.append(f"{key} = {_toml_value(value)}")
    for key, value in doc.items():
        if isinstance(value, dict):
            lines.append("")
            lines.append(f"[{key}]")
            for k, v in value.items():
                if v is not None:
                    lines.append(f"{k} = {_toml_value(v)}")
    return "\n".join(lines) + "\n"


def resolved_toml(model: SpecDoc, task: SpecDoc, seed) -> str:
    """The resolved spec of one run (model and task merged, overrides applied) as TOML.

    :func:`load_resolved` turns it back into the two specs, so a result file reproduces its run.
    """
    doc: dict = {
        "spec_version": SPEC_VERSION,
        "model_name": model.name,
        "task_name": task.name,
        "seed": seed,
        "model_description": model.description,
        "task_description": task.description,
    }
    doc.update(model.to_dict())
    doc.update(task.to_dict())
    return to_toml(doc)


def load_resolved(text: str, overrides=()) -> tuple[SpecDoc, SpecDoc, int | None]:
    """Split a resolved spec (from a result file's ``spec`` attribute) into model, task, seed.

    ``overrides`` (``key=value`` strings or pairs, as in :func:`load_model`) are applied on top,
    e.g. the grid values of one point of a scan store whose ``spec`` is the scan's base.

    Examples
    --------
    >>> m, t = load_model("esn"), load_task("narma10")
    >>> m2, t2, seed = load_resolved(resolved_toml(m, t, 3))
    >>> (m2 == m, t2 == t, seed)
    (True, True, 3)
    """
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"resolved spec: not valid TOML: {exc}") from None
    common = {"spec_version": raw.get("spec_version")}
    model_raw = dict(common, description=raw.get("model_description", ""))
    task_raw = dict(common, description=raw.get("task_description", ""))
    model_raw.update({k: raw[k] for k in MODEL_SECTIONS if k in raw})
    task_raw.update({k: raw[k] for k in TASK_SECTIONS if k in raw})
    overrides = parse_overrides(overrides)
    _apply_overrides(model_raw, overrides, set(MODEL_SECTIONS), "resolved spec")
    _apply_overrides(task_raw, overrides, set(TASK_SECTIONS), "resolved spec")
    model = _validate(
        model_raw,
        "resolved spec",
        raw.get("model_name", "model"),
        "models",
        MODEL_SECTIONS,
        _family_of,
    )
    task = _validate(
        task_raw, "resolved spec", raw.get("task_name", "task"), "tasks", TASK_SECTIONS, _task_of
    )
    return model, task, raw.get("seed")
