"""Parameters declared once: the constructor, validation, spec table, docs and get/set_params.

A public model declares each parameter once, as a :class:`Param` (default, constraint, doc and
whether a change after the first use takes effect without redrawing the weights)::

    ESN_PARAMS = declare(
        n=Param(100, Interval(int, 1, None), "Number of units."),
        leak=Param(1.0, Interval(float, 0, 1, "right"), "Leaking rate.", runtime=True),
    )

    class ESN(Estimator):
        '''Echo-state network.

        Parameters
        ----------
        {parameters}
        '''

        params = ESN_PARAMS

From that one declaration come:

* the keyword-only constructor ``ESN(*, n=100, leak=1.0)`` (it only stores the values), with a
  real signature for ``help()`` and ``inspect``;
* the numpydoc ``Parameters`` section (``{parameters}`` in the class docstring);
* validation at use (:meth:`Estimator._check_params`), with the house error message;
* ``get_params``, ``set_params`` and ``clone``;
* the spec table: ``@spec_table("network", "esn", params=ESN_PARAMS)`` adds the declared fields
  (with ``spec_default`` where a spec file starts from another value, stated in the same place).

This module sits below the families and imports nothing heavy, so that reading a spec file,
which imports the declarations, stays fast.
"""

from __future__ import annotations

import copy
import dataclasses
import difflib
import numbers
import textwrap
from typing import Any, ClassVar

import numpy as np

from neurolearn._params import (
    AnyOf,
    Boolean,
    Constraint,
    Interval,
    NoneOr,
    Options,
    Text,
    _Invalid,
    check_param,
)
from neurolearn.errors import ParameterError

__all__ = [
    "Param",
    "declare",
    "Estimator",
    "type_doc",
    "SeedLike",
    "InstanceOf",
    "common_params",
]

_UNSET = object()


@dataclasses.dataclass(frozen=True)
class Param:
    """The declaration of one parameter.

    Parameters
    ----------
    default : object
        The constructor's default (lists are given as tuples: a default is never shared
        mutable state).
    constraint : Constraint
        What a valid value is; checked at every use and when a spec file is read.
    doc : str
        The documentation, one or more sentences (it goes into the class docstring, the spec
        reference and the ``neurolearn`` error messages).
    runtime : bool, default=False
        True when a change after the first use takes effect at the next use with the same
        weights; False when the weights are drawn from it (a change redraws them, or raises
        where the weights were given).
    spec_default : object, optional
        The default of the spec-file key when it differs from the constructor's (a spec
        describes a complete experiment, e.g. a washout that a bare readout does not need).
    type_doc : str, optional
        The numpydoc type text; by default derived from ``constraint``.
    spec_constraint : Constraint, optional
        What a spec file may give, when narrower than what Python accepts (e.g. an array of
        per-unit values, which a TOML file does not hold).

    Examples
    --------
    >>> from neurolearn._params import Interval
    >>> Param(100, Interval(int, 1, None), "Number of units.").type_text
    'int >= 1'
    """

    default: Any
    constraint: Constraint
    doc: str
    runtime: bool = False
    spec_default: Any = _UNSET
    type_doc: str | None = None
    spec_constraint: Constraint | None = None

    @property
    def type_text(self) -> str:
        return self.type_doc or type_doc(self.constraint)

    @property
    def spec_value(self) -> Any:
        """The default of the spec key (lists where the constructor has tuples)."""
        value = self.default if self.spec_default is _UNSET else self.spec_default
        return _listify(value)

    @property
    def spec_check(self) -> Constraint:
        return self.spec_constraint or self.constraint


def _listify(value):
    if isinstance(value, tuple):
        return [_listify(v) for v in value]
    if isinstance(value, dict):
        return {k: _listify(v) for k, v in value.items()}
    return value


def type_doc(constraint: Constraint) -> str:
    """Numpydoc type text of a constraint.

    Examples
    --------
    >>> from neurolearn._params import Interval, NoneOr, Options
    >>> type_doc(NoneOr(Options(("a", "b"))))
    "{'a', 'b'} or None"
    >>> type_doc(Interval(float, 0, 1, "right"))
    'float in (0, 1]'
    """
    if isinstance(constraint, Interval):
        text = constraint.description
        return text.removeprefix("an ").removeprefix("a ")
    if isinstance(constraint, Options):
        return "{" + ", ".join(repr(v) for v in constraint.values) + "}"
    if isinstance(constraint, NoneOr):
        return f"{type_doc(constraint.inner)} or None"
    if isinstance(constraint, AnyOf):
        return " or ".join(type_doc(c) for c in constraint.options)
    if isinstance(constraint, Boolean):
        return "bool"
    text = constraint.description
    return text.removeprefix("an ").removeprefix("a ")


class SeedLike(Constraint):
    """A seed: a non-negative int, a ``numpy.random.Generator``, a ``SeedSequence`` or None."""

    description = (
        "a non-negative int, a numpy.random.Generator, a numpy.random.SeedSequence or None"
    )

    def check(self, value: Any) -> Any:
        if value is None or isinstance(value, np.random.Generator | np.random.SeedSequence):
            return value
        if isinstance(value, numbers.Integral) and not isinstance(value, bool | np.bool_):
            if value >= 0:
                return int(value)
            raise _Invalid(False)
        raise _Invalid(True)


class InstanceOf(Constraint):
    """An instance of ``kind`` (a class or tuple of classes), described as ``description``."""

    def __init__(self, kind, description: str):
        self.kind = kind
        self.description = description

    def check(self, value: Any) -> Any:
        if not isinstance(value, self.kind):
            raise _Invalid(True)
        return value


def common_params(
    backends: tuple[str, ...] | None = ("numba", "torch", "numpy"), device: bool = True
) -> dict[str, Param]:
    """``seed``, and ``backend``/``device`` when the model has engines to choose from.

    Examples
    --------
    >>> list(common_params())
    ['seed', 'backend', 'device']
    """
    out = {
        "seed": Param(
            None,
            SeedLike(),
            "Seed of every random draw (an int gives the same model every time; a Generator is "
            "shared, not copied).",
            type_doc="int, numpy.random.Generator or None",
        )
    }
    if backends:
        out["backend"] = Param(
            None,
            NoneOr(Options(tuple(backends))),
            f"Engine: {', '.join(repr(b) for b in backends)}; None picks the default "
            "(numba on CPU).",
            runtime=True,
        )
    if device:
        out["device"] = Param(
            None,
            NoneOr(Text()),
            "Torch device such as 'cpu' or 'cuda' (torch backend only); None picks the default.",
            runtime=True,
        )
    return declare(**out)


def declare(**params: Param) -> dict[str, Param]:
    """An ordered, checked mapping of parameter names to declarations.

    Examples
    --------
    >>> from neurolearn._params import Interval
    >>> list(declare(n=Param(1, Interval(int, 1, None), "Units.")))
    ['n']
    """
    for name, p in params.items():
        if not isinstance(p, Param):
            raise TypeError(f"parameter {name!r} must be declared with Param(...)")
        if isinstance(p.default, list | dict | set):
            raise TypeError(f"parameter {name!r}: a mutable default; use a tuple")
    return dict(params)


def parameters_doc(params: dict[str, Param], indent: str = "") -> str:
    """The numpydoc entries of ``params`` (``name : type, default=...`` then the doc)."""
    lines = []
    width = 96 - len(indent) - 4
    for name, p in params.items():
        lines.append(f"{name} : {p.type_text}, default={p.default!r}")
        for line in textwrap.wrap(p.doc, width) or [""]:
            lines.append("    " + line)
    return ("\n" + indent).join(lines)


class Estimator:
    """Base class of the public models: parameters declared once in ``params``.

    A subclass sets ``params`` (its own declarations; those of its bases are inherited and may be
    re-declared) and gets a keyword-only ``__init__`` that only stores the values,
    ``get_params``, ``set_params``, ``clone``, a ``repr`` with the values that differ from the
    defaults, and ``_check_params`` (all values validated, normalised).
    A docstring line ``{parameters}`` becomes the numpydoc list of the declared parameters.
    """

    params: ClassVar[dict[str, Param]] = {}
    _declared: ClassVar[dict[str, Param]] = {}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        declared: dict[str, Param] = {}
        for base in reversed(cls.__mro__):
            own = base.__dict__.get("params")
            if isinstance(own, dict):
                declared.update(own)
        cls._declared = declared
        if declared and "__init__" not in cls.__dict__:
            cls.__init__ = _make_init(cls, declared)
        doc = cls.__dict__.get("__doc__")
        if doc and "{parameters}" in doc:
            for line in doc.splitlines():
                if line.strip() == "{parameters}":
                    indent = line[: len(line) - len(line.lstrip())]
                    cls.__doc__ = doc.replace(
                        "{parameters}", parameters_doc(declared, indent).lstrip(), 1
                    )
                    break

    # -- the sklearn-style parameter protocol ------------------------------------------------
    @classmethod
    def _param_names(cls) -> tuple[str, ...]:
        return tuple(cls._declared)

    @property
    def _runtime_params(self) -> tuple[str, ...]:
        return tuple(name for name, p in self._declared.items() if p.runtime)

    def get_params(self, deep: bool = True) -> dict:
        """The constructor parameters and their current values.

        With ``deep=True``, a parameter that is itself an :class:`Estimator` also contributes
        its own parameters as ``name__subname``.
        """
        out = {}
        for name in self._declared:
            value = getattr(self, name)
            out[name] = value
            if deep and isinstance(value, Estimator):
                for sub, sub_value in value.get_params(deep=True).items():
                    out[f"{name}__{sub}"] = sub_value
        return out

    def set_params(self, **params):
        """Set parameters by name (``name__subname`` for a nested model); returns ``self``.

        Values are validated at the next use, like the constructor's. An unknown name raises
        :class:`~neurolearn.errors.ParameterError` naming the valid ones.
        """
        nested: dict[str, dict] = {}
        for key, value in params.items():
            name, _, sub = key.partition("__")
            if name not in self._declared:
                close = difflib.get_close_matches(name, list(self._declared), n=1, cutoff=0.6)
                hint = f" Did you mean '{close[0]}'?" if close else ""
                raise ParameterError(
                    f"{type(self).__name__} has no parameter '{name}'.{hint} "
                    f"Valid parameters: {', '.join(self._declared)}."
                )
            if sub:
                nested.setdefault(name, {})[sub] = value
            else:
                setattr(self, name, value)
        for name, sub_params in nested.items():
            inner = getattr(self, name)
            if not isinstance(inner, Estimator):
                raise ParameterError(
                    f"The '{name}' parameter of {type(self).__name__} is not a model; "
                    f"'{name}__...' cannot set its parameters."
                )
            inner.set_params(**sub_params)
        return self

    def clone(self):
        """A new, unfitted model with the same parameters (containers copied, a nested model
        cloned; a ``numpy.random.Generator`` seed is shared, as the value it is).

        Examples
        --------
        >>> from neurolearn.reservoir import Readout
        >>> Readout(ridge=1e-3).clone().ridge
        0.001
        """
        values = {}
        for name, value in self.get_params(deep=False).items():
            if isinstance(value, Estimator):
                values[name] = value.clone()
            elif isinstance(value, list | tuple | dict | set):
                values[name] = copy.deepcopy(value)
            else:
                values[name] = value
        return type(self)(**values)

    def _check_params(self, names=None) -> dict:
        """Validate the parameters ``names`` (default: all); return their normalised values."""
        owner = type(self).__name__
        names = self._declared if names is None else names
        return {
            name: check_param(owner, name, getattr(self, name), self._declared[name].constraint)
            for name in names
        }

    def __repr__(self) -> str:
        parts = []
        for name, p in self._declared.items():
            value = getattr(self, name, p.default)
            try:
                same = bool(value == p.default) if not hasattr(value, "shape") else False
            except Exception:
                same = False
            if not same:
                parts.append(f"{name}={_short(value)}")
        return f"{type(self).__name__}({', '.join(parts)})"


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _make_init(cls, declared: dict[str, Param]):
    """A keyword-only ``__init__`` storing each declared parameter, with a real signature."""
    names = list(declared)
    defaults = {f"_d_{i}": declared[n].default for i, n in enumerate(names)}
    args = ", ".join(f"{n}=_d_{i}" for i, n in enumerate(names))
    body = "\n".join(f"    self.{n} = {n}" for n in names) or "    pass"
    source = f"def __init__(self, *, {args}):\n{body}\n"
    namespace: dict = dict(defaults)
    exec(compile(source, f"<{cls.__name__}.__init__>", "exec"), namespace)  # noqa: S102
    init = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__module__ = cls.__module__
    init.__doc__ = f"Store the parameters of :class:`{cls.__name__}` (validated at use)."
    return init
