"""The API checks every public model of every family passes (used by each family's tests).

A family describes each model with a :class:`Case` (small seeded parameters, how to use it,
one structural and one runtime change, one bad value) and calls :func:`check_estimator`.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from neurolearn._declare import Estimator


@dataclasses.dataclass
class Case:
    """How to exercise one public model class.

    ``use(model)`` runs or fits it and returns its numbers (an array, a tuple or dict of arrays).
    ``structural``: a parameter change after the first use that redraws the model (the numbers
    change, and equal those of a new model built with that value). ``runtime``: a change that
    takes effect at the next use without a redraw (learned state is kept; the numbers differ
    from those of the same model used again without the change). ``bad``: an invalid value;
    the error names the parameter.
    """

    cls: type
    params: dict
    use: Callable[[Any], Any]
    bad: tuple[str, Any]
    structural: tuple[str, Any] | None = None
    runtime: tuple[str, Any] | None = None
    required: dict = dataclasses.field(default_factory=dict)

    @property
    def id(self) -> str:
        return self.cls.__name__


def _flat(numbers) -> list[np.ndarray]:
    if isinstance(numbers, dict):
        return [a for k in sorted(numbers) for a in _flat(numbers[k])]
    if isinstance(numbers, list | tuple):
        return [a for item in numbers for a in _flat(item)]
    if hasattr(numbers, "to_dataset"):
        return _flat(dict(numbers))
    return [np.asarray(numbers, dtype=float)]


def same(a, b) -> bool:
    fa, fb = _flat(a), _flat(b)
    return len(fa) == len(fb) and all(
        x.shape == y.shape and np.array_equal(x, y, equal_nan=True)
        for x, y in zip(fa, fb, strict=True)
    )


def check_estimator(case: Case) -> None:
    cls = case.cls
    assert issubclass(cls, Estimator), f"{cls.__name__} does not declare its parameters once"

    # constructed with its defaults (plus what has none), the constructor only stores them
    sig = inspect.signature(cls)
    for name, par in sig.parameters.items():
        assert par.kind is par.KEYWORD_ONLY, f"{cls.__name__}({name}) is not keyword-only"
    default = cls(**case.required)
    for name, value in default.get_params(deep=False).items():
        if name not in case.required:
            assert same_value(value, sig.parameters[name].default), name
    assert list(default.get_params(deep=False)) == list(sig.parameters)

    # get_params / set_params round trip, clone
    model = cls(**case.params)
    params = model.get_params(deep=False)
    other = cls(**case.required).set_params(**params)
    assert all(same_value(other.get_params(deep=False)[k], v) for k, v in params.items())
    with pytest.raises(ValueError, match="no parameter 'not_a_parameter'"):
        cls(**case.required).set_params(not_a_parameter=1)

    # seeded determinism: the same parameters give the same numbers; so does a clone, used or not
    first = case.use(model)
    assert same(first, case.use(cls(**case.params))), "not deterministic for a fixed seed"
    clone = model.clone()
    assert type(clone) is cls and clone is not model
    assert same(case.use(clone), first), "a clone of a used model gives other numbers"

    # a structural change after the first use redraws: the model equals a fresh one
    if case.structural is not None:
        name, value = case.structural
        used = cls(**case.params)
        case.use(used)
        used.set_params(**{name: value})
        after = case.use(used)
        assert same(after, case.use(cls(**{**case.params, name: value}))), (
            f"changing '{name}' after the first use does not give a fresh model with it"
        )
        assert not same(after, first), f"changing '{name}' had no effect"

    # a runtime change takes effect at the next use (learned state is kept, so compare with
    # the same model used twice without the change)
    if case.runtime is not None:
        name, value = case.runtime
        kept, changed = cls(**case.params), cls(**case.params)
        case.use(kept)
        case.use(changed)
        changed.set_params(**{name: value})
        assert not same(case.use(changed), case.use(kept)), f"changing '{name}' had no effect"

    # a bad value is refused at use, naming the parameter
    name, value = case.bad
    bad = cls(**{**case.params, name: value})
    with pytest.raises((ValueError, TypeError), match=f"'{name}'"):
        case.use(bad)


def same_value(a, b) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return np.array_equal(np.asarray(a), np.asarray(b))
    return a is b or a == b
