"""Parameter constraints shared by public classes and spec files.

A constraint checks one value and returns it normalised (ints promoted to float where a float is
expected), or raises with one message shape::

    The 'leak' parameter of EIReservoir must be a float in [0, 1). Got 1.5 instead.

Spec files reuse the same constraints, so a bad value reads the same from Python and from TOML.
"""

from __future__ import annotations

import copy
import functools
import inspect
import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from neurolearn.errors import ParameterError, ParameterTypeError

__all__ = [
    "Constraint",
    "Interval",
    "Options",
    "Boolean",
    "AnyOf",
    "NoneOr",
    "ListOf",
    "Distribution",
    "check_param",
    "check_params",
    "check_array",
    "init_param_names",
    "snapshot_params",
    "changed_params",
    "refuse_changed",
    "spec_check",
    "short_repr",
    "short_text",
]


class Constraint:
    """Base class: ``check(value) -> normalised value`` or raise ``_Invalid`` with a description."""

    description = "a valid value"

    def check(self, value: Any) -> Any:  # pragma: no cover - interface
        raise NotImplementedError


class _Invalid(Exception):
    """Internal signal: the value does not satisfy the constraint (``is_type`` = wrong type)."""

    def __init__(self, is_type: bool):
        self.is_type = is_type


def _fmt(x: float) -> str:
    if isinstance(x, float) and x.is_integer() and abs(x) < 1e15:
        return str(int(x))
    return repr(x)


@dataclass(frozen=True)
class Interval(Constraint):
    """A finite real or integer number in an interval (NaN and +-inf are refused).

    ``closed`` is ``"both"``, ``"left"``, ``"right"`` or ``"neither"``; ``None`` bounds are open.
    """

    kind: type = float
    low: float | None = None
    high: float | None = None
    closed: str = "both"

    @property
    def description(self) -> str:
        name = "an int" if self.kind is int else "a float"
        lo_in = self.closed in ("both", "left")
        hi_in = self.closed in ("both", "right")
        if self.low is not None and self.high is not None:
            return (
                f"{name} in {'[' if lo_in else '('}{_fmt(self.low)}, "
                f"{_fmt(self.high)}{']' if hi_in else ')'}"
            )
        if self.low is not None:
            return f"{name} {'>=' if lo_in else '>'} {_fmt(self.low)}"
        if self.high is not None:
            return f"{name} {'<=' if hi_in else '<'} {_fmt(self.high)}"
        return name

    def check(self, value: Any) -> Any:
        if isinstance(value, bool | np.bool_):
            raise _Invalid(True)
        if self.kind is int:
            if not isinstance(value, numbers.Integral):
                if isinstance(value, numbers.Real) and float(value).is_integer():
                    value = int(value)
                else:
                    raise _Invalid(True)
            value = int(value)
        else:
            if not isinstance(value, numbers.Real):
                raise _Invalid(True)
            value = float(value)
            # inf passes every bound check but no model is defined there: refused like NaN
            if not math.isfinite(value):
                raise _Invalid(False)
        lo_in = self.closed in ("both", "left")
        hi_in = self.closed in ("both", "right")
        if self.low is not None and (value < self.low or (value == self.low and not lo_in)):
            raise _Invalid(False)
        if self.high is not None and (value > self.high or (value == self.high and not hi_in)):
            raise _Invalid(False)
        return value


@dataclass(frozen=True)
class Options(Constraint):
    """One of a fixed set of strings."""

    values: tuple

    @property
    def description(self) -> str:
        return "one of " + ", ".join(repr(v) for v in self.values)

    def check(self, value: Any) -> Any:
        if not isinstance(value, str):
            raise _Invalid(True)
        if value not in self.values:
            raise _Invalid(False)
        return value


class Text(Constraint):
    """Any string."""

    description = "a string"

    def check(self, value: Any) -> Any:
        if not isinstance(value, str):
            raise _Invalid(True)
        return value


class Boolean(Constraint):
    """``True`` or ``False``."""

    description = "a bool"

    def check(self, value: Any) -> Any:
        if not isinstance(value, bool | np.bool_):
            raise _Invalid(True)
        return bool(value)


@dataclass(frozen=True)
class AnyOf(Constraint):
    """The first of several constraints that accepts the value wins."""

    options: tuple

    @property
    def description(self) -> str:
        return " or ".join(c.description for c in self.options)

    def check(self, value: Any) -> Any:
        is_type = True
        for c in self.options:
            try:
                return c.check(value)
            except _Invalid as exc:
                is_type = is_type and exc.is_type
        raise _Invalid(is_type)


@dataclass(frozen=True)
class NoneOr(Constraint):
    """``None`` or a value accepted by ``inner``."""

    inner: Constraint

    @property
    def description(self) -> str:
        return f"{self.inner.description} or None"

    def check(self, value: Any) -> Any:
        return None if value is None else self.inner.check(value)


def short_repr(value: Any, limit: int = 40) -> str:
    """``repr(value)`` cut to its first ``limit`` characters plus ``"..."`` when longer.

    Examples
    --------
    >>> short_repr("x" * 100)
    "'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx..."
    >>> short_repr(1.5)
    '1.5'
    """
    return short_text(repr(value), limit)


def short_text(text: str, limit: int = 40) -> str:
    """``text`` cut to its first ``limit`` characters plus ``"..."`` when longer."""
    text = str(text)
    return text if len(text) <= limit else text[:limit] + "..."


def _nonfinite(value: Any) -> bool:
    """Whether a float anywhere in ``value`` (nested lists and tables included) is NaN or Inf."""
    if isinstance(value, float | np.floating):
        return not math.isfinite(float(value))
    if isinstance(value, list | tuple):
        return any(_nonfinite(v) for v in value)
    if isinstance(value, dict):
        return any(_nonfinite(v) for v in value.values())
    return False


def _strict(constraint: Constraint, value: Any) -> Any:
    if isinstance(constraint, Interval):
        if constraint.kind is int and (
            isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Integral)
        ):
            raise _Invalid(True)
        return constraint.check(value)
    if isinstance(constraint, AnyOf):
        is_type = True
        for option in constraint.options:
            try:
                return _strict(option, value)
            except _Invalid as exc:
                is_type = is_type and exc.is_type
        raise _Invalid(is_type)
    if isinstance(constraint, NoneOr):
        return None if value is None else _strict(constraint.inner, value)
    if isinstance(constraint, ListOf) and isinstance(value, list | tuple):
        if not value:
            raise _Invalid(False)
        return [_strict(constraint.inner, v) for v in value]
    if isinstance(constraint, ListOf):
        if not constraint.allow_scalar:
            raise _Invalid(True)
        return _strict(constraint.inner, value)
    return constraint.check(value)


def spec_check(constraint: Constraint, value: Any) -> Any:
    """Check a value read from a spec file or a ``--set`` override; return it normalised.

    Stricter than ``constraint.check``: an int parameter takes only an int (a TOML float such
    as ``1e12`` or ``100.0`` is refused, not coerced; a bool is never a number), and every
    float, at any depth, must be finite (``inf``, ``-inf`` and ``nan`` are refused).

    Raises
    ------
    _Invalid
        When the value does not satisfy the constraint.

    Examples
    --------
    >>> spec_check(Interval(int, 1, None), 1000)
    1000
    >>> try:
    ...     spec_check(Interval(int, 1, None), 1e12)
    ... except _Invalid:
    ...     print("refused")
    refused
    """
    if _nonfinite(value):
        raise _Invalid(False)
    return _strict(constraint, value)


def check_param(owner: str, name: str, value: Any, constraint: Constraint) -> Any:
    """Check one parameter; return it normalised.

    Raises
    ------
    ParameterError, ParameterTypeError
        With the message "The 'name' parameter of owner must be <description>. Got <value> instead."

    Examples
    --------
    >>> check_param("EIReservoir", "leak", 0.5, Interval(float, 0, 1, "left"))
    0.5
    """
    try:
        return constraint.check(value)
    except _Invalid as exc:
        cls = ParameterTypeError if exc.is_type else ParameterError
        raise cls(
            f"The '{name}' parameter of {owner} must be {constraint.description}. "
            f"Got {value!r} instead."
        ) from None


def check_params(owner: str, values: dict, constraints: dict) -> dict:
    """Check several parameters at once; returns a dict of normalised values."""
    return {k: check_param(owner, k, values[k], c) for k, c in constraints.items()}


def check_array(
    owner: str,
    name: str,
    value: Any,
    *,
    ndim: int | Sequence[int] | None = None,
    shape: Sequence[int | None] | None = None,
    shape_doc: str | None = None,
    dtype=np.float64,
    allow_nonfinite: bool = False,
) -> np.ndarray:
    """Convert to a contiguous array and check dimensions, shape and finiteness.

    Only real numbers are accepted: complex, string, bytes and object arrays raise
    :class:`~neurolearn.errors.ParameterTypeError` (they would otherwise lose their imaginary
    part, be parsed, or fail inside a kernel). ``shape`` entries that are ``None`` are free.
    ``shape_doc`` names the axes in the message,
    e.g. ``"(T, 3)"``.

    Examples
    --------
    >>> check_array("ESN", "u", [[0.1], [0.2]], ndim=2, shape=(None, 1), shape_doc="(T, 1)").shape
    (2, 1)
    """
    arr = _numeric_array(owner, name, value, dtype)
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if arr.ndim not in allowed:
            want = shape_doc or f"{' or '.join(map(str, allowed))} dimensions"
            raise ParameterError(
                f"The '{name}' parameter of {owner} must have shape {want}. "
                f"Got an array of shape {arr.shape} instead."
            )
    if shape is not None:
        if arr.ndim != len(shape) or any(
            s is not None and s != a for s, a in zip(shape, arr.shape, strict=False)
        ):
            want = shape_doc or str(tuple("*" if s is None else s for s in shape))
            raise ParameterError(
                f"The '{name}' parameter of {owner} must have shape {want}. "
                f"Got shape {arr.shape} instead."
            )
    if not allow_nonfinite and arr.dtype.kind == "f" and not np.all(np.isfinite(arr)):
        bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
        raise ParameterError(
            f"The '{name}' parameter of {owner} must be finite. Got {bad} NaN/Inf value(s) instead."
        )
    return arr


def _numeric_array(owner: str, name: str, value: Any, dtype) -> np.ndarray:
    """``value`` as a contiguous array of ``dtype``, refusing what would convert silently.

    Complex numbers would lose their imaginary part, strings would be parsed ("1.5" -> 1.5),
    objects (None, mixed types) would fail or turn into NaN, and non-integral floats would be
    truncated for an integer ``dtype``; all of these are refused with the parameter's name.
    """

    def refuse(what: str) -> ParameterTypeError:
        return ParameterTypeError(
            f"The '{name}' parameter of {owner} must be an array of real numbers. "
            f"Got {what} instead."
        )

    if isinstance(value, str | bytes):
        raise refuse(f"a {type(value).__name__}")
    try:
        raw = np.asarray(value)
    except (TypeError, ValueError) as exc:
        raise refuse(f"{type(value).__name__} ({exc})") from None
    kind = raw.dtype.kind
    if kind == "c":
        raise refuse(f"a complex array (dtype {raw.dtype})")
    if kind not in "biuf":
        raise refuse(f"an array of dtype {raw.dtype}")
    target = np.dtype(dtype)
    if target.kind in "iu" and kind == "f":
        finite = raw[np.isfinite(raw)]
        if raw.size and (finite.size != raw.size or np.any(finite != np.round(finite))):
            raise ParameterError(
                f"The '{name}' parameter of {owner} must hold integers. "
                "Got non-integral or non-finite values instead."
            )
    try:
        return np.ascontiguousarray(raw, dtype=target)
    except (TypeError, ValueError, OverflowError) as exc:
        raise refuse(f"values that do not fit {target} ({exc})") from None


@dataclass(frozen=True)
class ListOf(Constraint):
    """A non-empty list (or a single value, promoted) of values accepted by ``inner``."""

    inner: Constraint
    allow_scalar: bool = True

    @property
    def description(self) -> str:
        scalar = f"{self.inner.description} or " if self.allow_scalar else ""
        return f"{scalar}a non-empty list of ({self.inner.description})"

    def check(self, value: Any) -> Any:
        if isinstance(value, list | tuple):
            if not value:
                raise _Invalid(False)
            return [self.inner.check(v) for v in value]
        if not self.allow_scalar:
            raise _Invalid(True)
        return self.inner.check(value)


class Distribution(Constraint):
    """A probability distribution as a table: ``{dist = "beta", a = 2.0, b = 2.0}``.

    Known: ``beta`` (a, b > 0), ``uniform`` (low < high), ``normal`` (mean, std > 0),
    ``constant`` (value).
    """

    FIELDS = {
        "beta": ("a", "b"),
        "uniform": ("low", "high"),
        "normal": ("mean", "std"),
        "constant": ("value",),
    }
    description = (
        'a distribution table such as { dist = "beta", a = 2.0, b = 2.0 } '
        "(beta: a, b; uniform: low, high; normal: mean, std; constant: value)"
    )

    def check(self, value: Any) -> Any:
        if not isinstance(value, dict):
            raise _Invalid(True)
        dist = value.get("dist")
        if dist not in self.FIELDS or set(value) != {"dist", *self.FIELDS[dist]}:
            raise _Invalid(False)
        out = {"dist": dist}
        for key in self.FIELDS[dist]:
            v = value[key]
            if isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(v):
                raise _Invalid(False)
            out[key] = float(v)
        if dist == "beta" and not (out["a"] > 0 and out["b"] > 0):
            raise _Invalid(False)
        if dist == "uniform" and not out["low"] < out["high"]:
            raise _Invalid(False)
        if dist == "normal" and not out["std"] > 0:
            raise _Invalid(False)
        return out


# -- what a model was built from -------------------------------------------------------------
# Public models draw their weights on first use. They record the constructor parameters the
# weights were built from and compare them on every later use, so a parameter changed after the
# first run either rebuilds the model or takes effect, and is never silently ignored.


def init_param_names(obj) -> tuple[str, ...]:
    """Names of the keyword parameters of ``type(obj).__init__`` (the model's parameters).

    Examples
    --------
    >>> class Model:
    ...     def __init__(self, *, n=1, seed=None):
    ...         self.n, self.seed = n, seed
    >>> init_param_names(Model())
    ('n', 'seed')
    """
    return _init_param_names(type(obj))


@functools.cache
def _init_param_names(cls: type) -> tuple[str, ...]:
    sig = inspect.signature(cls.__init__)
    return tuple(
        name
        for name, par in sig.parameters.items()
        if name != "self" and par.kind in (par.KEYWORD_ONLY, par.POSITIONAL_OR_KEYWORD)
    )


def _frozen(value: Any) -> Any:
    # containers are copied (they can be changed in place); any other object (a Generator, a
    # connectivity, a rule) is kept and compared by identity
    if isinstance(value, list | tuple | dict | set | np.ndarray):
        try:
            return copy.deepcopy(value)
        except Exception:
            return value
    return value


def _same(a: Any, b: Any) -> bool:
    if a is b:
        return True
    if isinstance(a, np.random.Generator | np.random.SeedSequence) or isinstance(
        b, np.random.Generator | np.random.SeedSequence
    ):
        return a is b
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        try:
            a_arr, b_arr = np.asarray(a), np.asarray(b)
            return a_arr.shape == b_arr.shape and bool(np.array_equal(a_arr, b_arr))
        except (TypeError, ValueError):
            return False
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if type(a) is not type(b) and not (
        isinstance(a, numbers.Number) and isinstance(b, numbers.Number)
    ):
        return False
    try:
        return bool(a == b)
    except Exception:
        return a is b


def snapshot_params(obj, names) -> dict:
    """A copy of the parameters ``names`` of ``obj``, to compare with later values.

    Examples
    --------
    >>> class Model:
    ...     def __init__(self, *, n=1, rates=(0.1, 0.2)):
    ...         self.n, self.rates = n, rates
    >>> m = Model(); built = snapshot_params(m, ("n", "rates"))
    >>> m.n = 2
    >>> changed_params(built, m, ("n", "rates"))
    ['n']
    """
    return {name: _frozen(getattr(obj, name)) for name in names}


def changed_params(built: dict, obj, names) -> list[str]:
    """The names among ``names`` whose current value on ``obj`` differs from ``built``."""
    return [name for name in names if name in built and not _same(built[name], getattr(obj, name))]


def refuse_changed(owner: str, built: dict, obj, names, remedy: str) -> None:
    """Raise ``ParameterError`` for the first of ``names`` changed since ``built`` was taken.

    ``remedy`` completes the message (what changed it too late and how to proceed).

    Examples
    --------
    >>> class Net:
    ...     n = 3
    >>> net = Net()
    >>> built = snapshot_params(net, ["n"])
    >>> net.n = 4
    >>> refuse_changed("Net", built, net, ["n"], "after build().")
    Traceback (most recent call last):
    ...
    neurolearn.errors.ParameterError: The 'n' parameter of Net changed from 3 to 4 after build().
    """
    changed = changed_params(built, obj, names)
    if changed:
        name = changed[0]
        raise ParameterError(
            f"The '{name}' parameter of {owner} changed from {built[name]!r} to "
            f"{getattr(obj, name)!r} {remedy}"
        )
