"""Scan grids: parse ``key=values`` specifications and validate every point before anything runs.

A grid maps dotted spec keys to the values they take. Values are given as a list, or as text:

* ``"100,200,400"``: a list; each item is a TOML literal (``1``, ``0.5``, ``true``, ``"x"``)
  or else a plain string;
* ``"0:1:5"``: ``num`` evenly spaced values from ``start`` to ``stop`` inclusive;
* ``"log:1e-4:1e-1:4"``: ``num`` log-spaced values from ``start`` to ``stop`` inclusive.

Ranges whose end points are written as integers give integers when every value is integral.
"""

from __future__ import annotations

import math
import numbers
import tomllib
from dataclasses import dataclass

import numpy as np

from neurolearn import specs
from neurolearn._schema import did_you_mean
from neurolearn.errors import SpecError

__all__ = ["parse_grid", "parse_grid_arg", "Grid", "build_points"]

_RESERVED = ("seed",)


def _literal(text: str):
    text = text.strip()
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def _number(text: str, key: str, what: str) -> float | int:
    value = _literal(text)
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise SpecError(
            f"--grid {key}: the range {what} must be a number. Got {text.strip()!r} instead."
        )
    return value


def _parse_range(key: str, text: str, check_count=None) -> list:
    parts = text.split(":")
    log = parts[0].strip().lower() == "log"
    if log:
        parts = parts[1:]
    form = "log:START:STOP:NUM" if log else "START:STOP:NUM"
    if len(parts) != 3:
        raise SpecError(
            f"--grid {key}={text}: a range is written {form}, e.g. "
            f"{'log:1e-4:1e-1:4' if log else '0:1:5'}."
        )
    start = _number(parts[0], key, "start")
    stop = _number(parts[1], key, "stop")
    num = _literal(parts[2])
    if isinstance(num, bool) or not isinstance(num, numbers.Integral):
        raise SpecError(f"--grid {key}={text}: NUM must be an int >= 1. Got {parts[2]!r} instead.")
    if num < 1:
        raise SpecError(f"--grid {key}={text}: empty range (NUM must be >= 1. Got {num} instead).")
    if num == 1 and start != stop:
        raise SpecError(
            f"--grid {key}={text}: a range of 1 value needs START == STOP. Got {start} and {stop}."
        )
    if check_count is not None:
        check_count(key, int(num))  # before the values exist: a huge NUM is refused at once
    if log:
        if start <= 0 or stop <= 0:
            raise SpecError(
                f"--grid {key}={text}: a log range needs START > 0 and STOP > 0. "
                f"Got {start} and {stop}."
            )
        values = np.geomspace(start, stop, num)
    else:
        values = np.linspace(start, stop, num)
    as_int = isinstance(start, numbers.Integral) and isinstance(stop, numbers.Integral)
    rounded = np.round(values)
    if as_int and np.allclose(values, rounded, rtol=1e-9, atol=0):
        return [int(v) for v in rounded]
    return [float(v) for v in values]


def parse_grid_arg(item: str, check_count=None) -> tuple[str, list]:
    """Parse one ``--grid KEY=VALUES`` argument into ``(key, values)``.

    ``check_count(key, n)``, when given, is called with the number of values before a range is
    expanded (and may raise to refuse it).

    Examples
    --------
    >>> parse_grid_arg("network.n=100,200")
    ('network.n', [100, 200])
    >>> parse_grid_arg("readout.ridge=log:1e-6:1e-2:3")
    ('readout.ridge', [1e-06, 0.0001, 0.01])
    >>> parse_grid_arg("network.gain=0:1:3")
    ('network.gain', [0.0, 0.5, 1.0])
    """
    if "=" not in item:
        raise SpecError(f"--grid {item!r}: expected KEY=VALUES, e.g. network.n=100,200,400.")
    key, _, text = item.partition("=")
    return key.strip(), _parse_values(key.strip(), text, check_count)


def _parse_values(key: str, text: str, check_count=None) -> list:
    text = text.strip()
    if not text:
        raise SpecError(f"--grid {key}: no values given (e.g. {key}=1,2,3 or {key}=0:1:5).")
    if ":" in text and not text.startswith(("'", '"')):
        return _parse_range(key, text, check_count)
    if check_count is not None:
        check_count(key, text.count(",") + 1)
    return [_literal(part) for part in text.split(",") if part.strip() != ""]


def _check_scalar(key: str, value):
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool | str):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        if not math.isfinite(float(value)):
            raise SpecError(f"--grid {key}: values must be finite. Got {value!r} instead.")
        return float(value)
    raise SpecError(
        f"--grid {key}: values must be numbers, bools or strings. "
        f"Got {value!r} ({type(value).__name__}) instead."
    )


def check_key(option: str, key, seen) -> None:
    """Refuse a key that is not a dotted ``SECTION.KEY`` path, or one already in ``seen``.

    Examples
    --------
    >>> check_key("--grid", "network.n", {})
    """
    if not isinstance(key, str) or key.count(".") < 1 or not all(key.split(".")):
        raise SpecError(
            f"{option} {key!r}: the key must be a dotted path SECTION.KEY, e.g. network.n."
        )
    if key in seen:
        raise SpecError(f"{option} {key}: the key is given twice.")


def parse_grid(grid, check_count=None) -> dict[str, list]:
    """Normalise a grid given as a dict (``{key: list or text}``) or a list of ``KEY=VALUES``.

    Returns an ordered ``{key: [values]}``; raises :class:`~neurolearn.errors.SpecError` on an
    empty range, a duplicated key or value, a key that is not ``SECTION.KEY``, or a value that
    is not a scalar. ``check_count(key, n)``, when given, sees each key's number of values
    before its range is expanded and may raise to refuse it.

    Examples
    --------
    >>> parse_grid({"network.n": "10:30:3", "rule.flipped": [0, 1]})
    {'network.n': [10, 20, 30], 'rule.flipped': [0, 1]}
    """
    if isinstance(grid, dict):
        items = list(grid.items())
    elif isinstance(grid, list | tuple):
        items = [parse_grid_arg(g, check_count) if isinstance(g, str) else tuple(g) for g in grid]
    else:
        raise SpecError(
            "The 'grid' parameter of scan must be a dict {key: values} or a list of "
            f"'KEY=VALUES' strings. Got {type(grid).__name__} instead."
        )
    if not items:
        raise SpecError("The 'grid' parameter of scan is empty: give at least one KEY=VALUES.")
    out: dict[str, list] = {}
    for key, values in items:
        check_key("--grid", key, out)
        if isinstance(values, str):
            values = _parse_values(key, values, check_count)
        elif isinstance(values, np.ndarray | list | tuple | range):
            if check_count is not None:
                check_count(key, len(values))
            values = list(values)
        else:
            values = [values]
        if not values:
            raise SpecError(f"--grid {key}: no values given (e.g. {key}=1,2,3 or {key}=0:1:5).")
        values = [_check_scalar(key, v) for v in values]
        if len(set(values)) != len(values):
            dup = next(v for v in values if values.count(v) > 1)
            raise SpecError(f"--grid {key}: the value {dup!r} is given twice.")
        out[key] = values
    return out


@dataclass(frozen=True)
class Grid:
    """A validated grid: keys in order, their values, the number of seeds."""

    values: dict
    seeds: int

    @property
    def keys(self) -> list[str]:
        return list(self.values)

    @property
    def shape(self) -> tuple[int, ...]:
        """Grid shape without seeds (one entry per key)."""
        return tuple(len(v) for v in self.values.values())

    @property
    def full_shape(self) -> tuple[int, ...]:
        """Store shape: grid keys then ``seed``."""
        return (*self.shape, self.seeds)

    @property
    def n_points(self) -> int:
        return int(np.prod(self.full_shape))


def _check_sections(grid: dict, base_overrides, model, task) -> None:
    sections = (
        set(model.tables) | set(task.tables) | set(specs.MODEL_SECTIONS) | set(specs.TASK_SECTIONS)
    )
    base_keys = {k for k, _ in base_overrides}
    for key in grid:
        section = key.split(".")[0]
        if section in _RESERVED or key in _RESERVED:
            raise SpecError(f"--grid {key}: 'seed' is set with --seeds, not with --grid.")
        if section not in sections:
            raise SpecError(
                f"--grid {key}: unknown section {section!r}.{did_you_mean(section, sections)} "
                f"Valid sections: {', '.join(sorted(sections))}."
            )
        if key in base_keys:
            raise SpecError(f"--grid {key}: the key is also given with --set; give it once.")


def build_points(model, task, grid: dict, base_overrides, check_base=None) -> tuple:
    """Validate the grid against the specs; return the base specs and one spec pair per point.

    Every value is checked alone first (so the message names the key and value), then every
    combination, so a scan never starts with a point that cannot run. ``check_base(model,
    task)``, when given, sees the base specs before any point is built (and may raise).
    """
    base_overrides = specs.parse_overrides(base_overrides)
    base_model = specs.load_model(model, base_overrides)
    base_task = specs.load_task(task, base_overrides)
    specs.check_overrides_used(base_overrides, base_model, base_task)
    _check_sections(grid, base_overrides, base_model, base_task)
    if check_base is not None:
        check_base(base_model, base_task)
    for key, values in grid.items():
        for value in values:
            try:
                specs.load_model(model, [*base_overrides, (key, value)])
                specs.load_task(task, [*base_overrides, (key, value)])
            except SpecError as exc:
                raise SpecError(f"--grid {key}={value!r}: {exc}") from None
    points = []
    for combo in np.ndindex(*[len(v) for v in grid.values()]):
        chosen = [(k, grid[k][i]) for k, i in zip(grid, combo, strict=True)]
        overrides = [*base_overrides, *chosen]
        try:
            points.append((specs.load_model(model, overrides), specs.load_task(task, overrides)))
        except SpecError as exc:
            where = ", ".join(f"{k}={v!r}" for k, v in chosen)
            raise SpecError(f"grid point ({where}): {exc}") from None
    return base_model, base_task, points
