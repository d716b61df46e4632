"""Every public model class of every family declares its parameters once and is exercised by
the shared estimator checks (``tests/estimator_checks.py``)."""

import dataclasses
import importlib
import inspect
from pathlib import Path

import pytest

from neurolearn._declare import Estimator

FAMILIES = ("reservoir", "spiking", "teacher", "zo", "rnnfit")
#: public classes that are not models, and why
NOT_MODELS = {
    "teacher.LearningRule": "the abstract base of the teacher rules",
    "zo.Rule": "the abstract base of the zeroth-order rules",
    "rnnfit.Recording": "a data record: the arrays of one recording session",
}


def public_models():
    found = {}
    for family in FAMILIES:
        package = importlib.import_module(f"neurolearn.{family}")
        for name in package.__all__:
            obj = getattr(package, name)
            if not inspect.isclass(obj) or issubclass(obj, BaseException):
                continue
            if hasattr(obj, "_fields") or dataclasses.is_dataclass(obj):
                continue  # records (named tuples, dataclasses) are not models
            if f"{family}.{name}" not in NOT_MODELS:
                found[f"{family}.{name}"] = obj
    return found


def checked_classes():
    classes = set()
    for path in Path(__file__).parent.glob("*/test_*.py"):
        module_name = ".".join(path.relative_to(Path(__file__).parents[1]).with_suffix("").parts)
        source = path.read_text()
        if "check_estimator" not in source or "CASES" not in source:
            continue
        module = importlib.import_module(module_name)
        classes.update(case.cls for case in module.CASES)
    return classes


MODELS = public_models()


@pytest.mark.parametrize("name", sorted(MODELS))
def test_public_model_declares_its_parameters_once(name):
    cls = MODELS[name]
    assert issubclass(cls, Estimator), f"{name} is not an Estimator (parameters declared once)"


def test_every_public_model_passes_the_estimator_checks():
    """A Case for every model with parameters (one without, such as plain gradient descent,
    has nothing to set, clone or refuse)."""
    missing = sorted(
        name
        for name, cls in MODELS.items()
        if cls not in checked_classes() and getattr(cls, "_declared", None)
    )
    assert not missing, f"no estimator-check Case for: {missing}"
