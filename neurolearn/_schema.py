"""Declarative spec tables: frozen dataclasses whose fields carry their constraint and doc.

A family declares one table class per ``(section, kind)``::

    @spec_table("network", "esn")
    class ESNNetwork(SpecTable):
        n: int = param(100, Interval(int, 1, None), "number of units")

``SpecTable.from_dict(raw, where=...)`` validates a TOML table: unknown keys are rejected with a
"did you mean" suggestion, every value is checked against its constraint, and the error names the
file and dotted key (``models/esn.toml: network.n: must be an int >= 1. Got 0 instead.``).
This module sits below the families so that they can declare their tables without importing
the spec loader.
"""

from __future__ import annotations

import dataclasses
import difflib
from typing import Any, ClassVar

from neurolearn import registry
from neurolearn._params import Constraint, _Invalid, _nonfinite, short_repr, short_text, spec_check
from neurolearn.errors import SpecError

__all__ = ["SpecTable", "param", "spec_table", "table_class", "did_you_mean"]

#: (section, kind) -> SpecTable subclass, filled by ``@spec_table`` (the registry's own dict)
TABLES = registry.TABLES


def param(default: Any, constraint: Constraint, doc: str) -> Any:
    """Declare a spec field with its default, constraint and one-line doc."""
    if isinstance(default, list | dict):
        return dataclasses.field(
            default_factory=lambda d=default: _copy(d),
            metadata={"constraint": constraint, "doc": doc},
        )
    return dataclasses.field(default=default, metadata={"constraint": constraint, "doc": doc})


def _copy(value):
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def did_you_mean(name: str, choices) -> str:
    """Return ``" Did you mean 'x'?"`` for the closest choice, or ``""``."""
    close = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.6)
    return f" Did you mean '{close[0]}'?" if close else ""


@dataclasses.dataclass(frozen=True)
class SpecTable:
    """Base class of every spec table. Subclasses are frozen dataclasses."""

    section: ClassVar[str] = ""
    kind_name: ClassVar[str] = ""

    @classmethod
    def fields(cls) -> dict[str, dataclasses.Field]:
        return {f.name: f for f in dataclasses.fields(cls)}

    @classmethod
    def from_dict(cls, raw: dict, where: str) -> SpecTable:
        """Validate ``raw`` (a TOML table without its ``kind`` key) into an instance.

        ``where`` prefixes every message, e.g. ``"models/esn.toml: network"``.
        """
        fields = cls.fields()
        values = {}
        for key, value in raw.items():
            if key not in fields:
                valid = (
                    f"Valid keys: {', '.join(sorted(fields))}." if fields else "It takes no keys."
                )
                raise SpecError(
                    f"{where}.{short_text(key)}: unknown key for kind '{cls.kind_name}'."
                    f"{did_you_mean(key, fields)} {valid}"
                )
            constraint = fields[key].metadata["constraint"]
            try:
                values[key] = spec_check(constraint, value)
            except _Invalid:
                finite = " (finite)" if _nonfinite(value) else ""
                raise SpecError(
                    f"{where}.{key}: must be {constraint.description}{finite}. "
                    f"Got {short_repr(value)} instead."
                ) from None
        return cls(**values)

    def to_dict(self) -> dict:
        """All fields (defaults included) plus ``kind``, ready to write as TOML."""
        out = {"kind": self.kind_name}
        for f in dataclasses.fields(self):
            out[f.name] = _copy(getattr(self, f.name))
        return out


def spec_table(section: str, kind: str, params: dict | None = None):
    """Class decorator: make ``cls`` a frozen dataclass and register it for ``(section, kind)``.

    ``params`` (a ``neurolearn._declare.declare`` mapping, or a subset of one) adds those
    declared parameters as fields, with their spec default, constraint and doc, before the
    fields the class declares itself: a parameter shared by a model class and its spec table is
    declared once.
    """

    def wrap(cls):
        if params:
            own = dict(cls.__dict__.get("__annotations__", {}))
            annotations = {}
            for name, p in params.items():
                if name in own:
                    raise TypeError(f"{cls.__name__}.{name} is declared twice")
                annotations[name] = object
                setattr(cls, name, param(p.spec_value, p.spec_check, p.doc))
            annotations.update(own)
            cls.__annotations__ = annotations
        cls = dataclasses.dataclass(frozen=True)(cls)
        cls.section = section
        cls.kind_name = kind
        TABLES[(section, kind)] = cls
        return cls

    return wrap


def table_class(section: str, kind: str, where: str) -> type[SpecTable]:
    """Look up the registered table class, with a "did you mean" on an unknown kind."""
    try:
        if not isinstance(kind, str):
            raise KeyError(kind)
        return TABLES[(section, kind)]
    except KeyError:
        kinds = sorted(k for s, k in TABLES if s == section)
        raise SpecError(
            f"{where}.kind: unknown {section} kind {short_repr(kind)}."
            f"{did_you_mean(str(kind), kinds)} "
            f"Known kinds: {', '.join(kinds) or 'none'}."
        ) from None


@dataclasses.dataclass(frozen=True)
class SpecDoc:
    """A validated spec file (model or task): its tables by section, plus metadata.

    Sections are reachable as attributes: ``model.network.n``, ``task.task.train_steps``.
    """

    name: str
    source: str = dataclasses.field(compare=False)
    description: str = ""
    tables: dict = dataclasses.field(default_factory=dict)
    spec_version: int = 1

    def __getattr__(self, section: str):
        tables = self.__dict__.get("tables", {})
        if section in tables:
            return tables[section]
        raise AttributeError(section)

    def get(self, section: str, default=None):
        """The table for ``section`` or ``default`` when the spec has none."""
        return self.tables.get(section, default)

    def to_dict(self) -> dict:
        """Plain nested dict of every table (with defaults), as written into result files."""
        return {section: table.to_dict() for section, table in self.tables.items()}
