"""Search spaces: parse ``KEY=KIND:LO:HI`` items and check every key and bound against the specs.

A space maps dotted spec keys to a dimension:

* ``"log:1e-9:1e-2"``: a float drawn on a log scale between LO and HI (both > 0);
* ``"lin:0.1:2"``: a float drawn uniformly between LO and HI;
* ``"int:50:400"``: an integer between LO and HI inclusive;
* ``"0.5,1.0,tanh"``: one of the listed values (each a TOML literal, else a plain string).

Nothing here needs the optimisation package: a bad space is refused before it is imported.
"""

from __future__ import annotations

import math
import numbers
import tomllib
from dataclasses import dataclass

from neurolearn import specs
from neurolearn._scan.grid import check_key
from neurolearn._schema import did_you_mean
from neurolearn.errors import SpecError

__all__ = ["Dimension", "parse_space", "check_space"]

_RANGE_KINDS = ("log", "lin", "int")


@dataclass(frozen=True)
class Dimension:
    """One searched key: ``kind`` is ``log``, ``lin``, ``int`` or ``choice``."""

    key: str
    kind: str
    low: float | int | None = None
    high: float | int | None = None
    choices: tuple = ()

    def describe(self) -> str:
        if self.kind == "choice":
            return ",".join(str(c) for c in self.choices)
        return f"{self.kind}:{self.low}:{self.high}"

    def probes(self) -> list:
        """Values that must each make a valid spec: both bounds, or every choice."""
        return list(self.choices) if self.kind == "choice" else [self.low, self.high]


def _literal(text: str):
    text = text.strip()
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def _bound(key: str, text: str, which: str, kind: str, item: str):
    value = _literal(text)
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise SpecError(
                f"--space {item}: {which} of an int range must be an integer. "
                f"Got {text.strip()!r} instead."
            )
        return int(value)
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise SpecError(f"--space {item}: {which} must be a number. Got {text.strip()!r} instead.")
    if not math.isfinite(float(value)):
        raise SpecError(f"--space {item}: {which} must be finite. Got {text.strip()!r} instead.")
    return float(value)


def _parse_dimension(key: str, text) -> Dimension:
    if isinstance(text, Dimension):
        return text
    if isinstance(text, list | tuple):
        return _choices(key, list(text), f"{key}={list(text)!r}")
    if not isinstance(text, str):
        raise SpecError(
            f"--space {key}: expected 'log:LO:HI', 'lin:LO:HI', 'int:LO:HI' or a comma list. "
            f"Got {text!r} instead."
        )
    item = f"{key}={text}"
    text = text.strip()
    if not text:
        raise SpecError(f"--space {item}: no values (e.g. {key}=log:1e-6:1e-2 or {key}=1,2,3).")
    head = text.split(":", 1)[0].strip().lower()
    if ":" in text and not text.startswith(("'", '"')):
        parts = text.split(":")
        if head not in _RANGE_KINDS or len(parts) != 3:
            raise SpecError(
                f"--space {item}: a range is written log:LO:HI, lin:LO:HI or int:LO:HI."
            )
        low = _bound(key, parts[1], "LO", head, item)
        high = _bound(key, parts[2], "HI", head, item)
        if not low < high:
            raise SpecError(
                f"--space {item}: empty or reversed range; LO must be below HI. "
                f"Got LO={parts[1].strip()} and HI={parts[2].strip()}."
            )
        if head == "log" and low <= 0:
            raise SpecError(
                f"--space {item}: a log range needs LO > 0 and HI > 0. Got LO={parts[1].strip()}."
            )
        return Dimension(key, head, low, high)
    return _choices(key, [_literal(p) for p in text.split(",") if p.strip()], f"--space {item}")


def _choices(key: str, values: list, where: str) -> Dimension:
    where = where if where.startswith("--space") else f"--space {where}"
    if len(values) < 2:
        raise SpecError(
            f"{where}: a choice needs at least 2 values (fix a single value with --set). "
            f"Got {len(values)}."
        )
    for v in values:
        if not isinstance(v, bool | str | numbers.Real) or (
            isinstance(v, float) and not math.isfinite(v)
        ):
            raise SpecError(f"{where}: values must be finite numbers, bools or strings.")
    if len(set(values)) != len(values):
        dup = next(v for v in values if values.count(v) > 1)
        raise SpecError(f"{where}: the value {dup!r} is given twice.")
    return Dimension(key, "choice", choices=tuple(values))


def parse_space(space) -> dict[str, Dimension]:
    """Normalise a space given as ``{key: text or list}`` or a list of ``KEY=SPEC`` strings.

    Raises :class:`~neurolearn.errors.SpecError` naming the item on an empty space, malformed
    syntax, a reversed or empty range, a log range with a bound <= 0, a duplicated key or value.

    Examples
    --------
    >>> dims = parse_space(["network.spectral_radius=log:0.1:2", "network.n=int:50:200"])
    >>> [d.describe() for d in dims.values()]
    ['log:0.1:2.0', 'int:50:200']
    >>> parse_space({"network.leak": "0.3,1.0"})["network.leak"].choices
    (0.3, 1.0)
    """
    if isinstance(space, dict):
        items = list(space.items())
    elif isinstance(space, list | tuple):
        items = []
        for entry in space:
            if not isinstance(entry, str) or "=" not in entry:
                raise SpecError(
                    f"--space {entry!r}: expected KEY=SPEC, e.g. readout.ridge=log:1e-9:1e-2."
                )
            key, _, text = entry.partition("=")
            items.append((key.strip(), text))
    else:
        raise SpecError(
            "The 'space' parameter of search must be a dict {key: spec} or a list of "
            f"'KEY=SPEC' strings. Got {type(space).__name__} instead."
        )
    if not items:
        raise SpecError(
            "The 'space' parameter of search is empty: give at least one KEY=SPEC, "
            "e.g. --space readout.ridge=log:1e-9:1e-2."
        )
    out: dict[str, Dimension] = {}
    for key, text in items:
        check_key("--space", key, out)
        out[key] = _parse_dimension(key, text)
    return out


def check_space(space: dict[str, Dimension], model, task, base_model, base_task, overrides) -> None:
    """Refuse a key the specs do not have, or a bound or choice they reject, naming the item.

    ``model`` and ``task`` are the names or paths given by the user, ``base_model`` and
    ``base_task`` their specs with ``overrides`` (parsed ``(key, value)`` pairs) applied.
    """
    sections = (
        set(base_model.tables)
        | set(base_task.tables)
        | set(specs.MODEL_SECTIONS)
        | set(specs.TASK_SECTIONS)
    )
    fixed = {k for k, _ in overrides}
    for key, dim in space.items():
        section = key.split(".")[0]
        if section not in sections:
            raise SpecError(
                f"--space {key}: unknown section {section!r}.{did_you_mean(section, sections)} "
                f"Valid sections: {', '.join(sorted(sections))}."
            )
        if key in fixed:
            raise SpecError(f"--space {key}: the key is also given with --set; give it once.")
        for value in dim.probes():
            try:
                specs.load_model(model, [*overrides, (key, value)])
                specs.load_task(task, [*overrides, (key, value)])
            except SpecError as exc:
                raise SpecError(f"--space {key}={dim.describe()}: {exc}") from None
