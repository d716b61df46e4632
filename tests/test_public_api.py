"""One shared API check over every public class and function of every family."""

import importlib
import inspect

import pytest

FAMILIES = ["reservoir", "teacher", "zo", "rnnfit", "spiking", "tasks"]


def _public_objects():
    out = []
    for family in FAMILIES:
        try:
            module = importlib.import_module(f"neurolearn.{family}")
        except ModuleNotFoundError:
            continue
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name)
            if inspect.isclass(obj) or inspect.isfunction(obj):
                out.append(pytest.param(obj, id=f"{family}.{name}"))
    return out


PUBLIC = _public_objects()
CLASSES = [
    p for p in PUBLIC if inspect.isclass(p.values[0]) and not issubclass(p.values[0], BaseException)
]


@pytest.mark.parametrize("obj", PUBLIC)
def test_has_docstring_with_example(obj):
    doc = inspect.getdoc(obj) or ""
    assert doc, f"{obj.__name__} has no docstring"
    if inspect.isclass(obj):
        # a class may carry its example on the class or, for mixins, on the family module
        assert (
            "Examples" in doc
            or ">>>" in doc
            or "Example" in (inspect.getdoc(importlib.import_module(obj.__module__)) or "")
        ), f"{obj.__name__} docstring has no example"
    else:
        assert ">>>" in doc, f"{obj.__name__} docstring has no runnable example"


@pytest.mark.parametrize("cls", CLASSES)
def test_constructor_is_keyword_only_and_only_stores(cls):
    sig = inspect.signature(cls.__init__)
    params = [p for p in sig.parameters.values() if p.name != "self"]
    if not params or getattr(cls, "__dataclass_fields__", None):
        pytest.skip("no constructor parameters")
    for p in params:
        assert p.kind in (p.KEYWORD_ONLY, p.VAR_KEYWORD), f"{cls.__name__}({p.name}) positional"
    kwargs = {p.name: p.default for p in params if p.default is not inspect.Parameter.empty}
    if len(kwargs) < len([p for p in params if p.kind == p.KEYWORD_ONLY]):
        pytest.skip("required parameters")
    obj = cls(**kwargs)
    for name, value in kwargs.items():
        assert getattr(obj, name) is value, f"{cls.__name__}.{name} changed in __init__"
    learned = [a for a in vars(obj) if a.endswith("_") and not a.startswith("_")]
    assert not learned, f"{cls.__name__} sets learned attributes in __init__: {learned}"
