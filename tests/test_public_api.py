"""One shared API check over every public class and function of every family."""

import importlib
import inspect

import pytest

FAMILIES = ["reservoir", "teacher", "zo", "rnnfit", "spiking", "tasks"]


def _public_objects():
    # a family that fails to import is an error of this test module, not a family to skip
    out = []
    for family in FAMILIES:
        module = importlib.import_module(f"neurolearn.{family}")
        assert module.__all__, f"neurolearn.{family} exports nothing"
        for name in module.__all__:
            obj = getattr(module, name)
            if inspect.isclass(obj) or inspect.isfunction(obj):
                out.append(pytest.param(obj, id=f"{family}.{name}"))
    return out


PUBLIC = _public_objects()
CLASSES = [
    p for p in PUBLIC if inspect.isclass(p.values[0]) and not issubclass(p.values[0], BaseException)
]


def test_every_family_is_checked():
    families = {p.id.split(".")[0] for p in PUBLIC}
    assert families == set(FAMILIES)


@pytest.mark.parametrize("obj", PUBLIC)
def test_has_docstring_with_example(obj):
    doc = inspect.getdoc(obj) or ""
    assert doc, f"{obj.__name__} has no docstring"
    # its own docstring, not the module's: an Examples section with a doctest the suite runs
    assert "Examples" in doc and ">>>" in doc.split("Examples", 1)[1], (
        f"{obj.__name__} docstring has no runnable Examples section"
    )


def _init_params(cls):
    if getattr(cls, "__dataclass_fields__", None) or cls.__init__ is object.__init__:
        return None
    return [p for p in inspect.signature(cls.__init__).parameters.values() if p.name != "self"]


WITH_PARAMS = [p for p in CLASSES if _init_params(p.values[0])]
ALL_DEFAULTS = [
    p
    for p in WITH_PARAMS
    if all(
        q.default is not inspect.Parameter.empty or q.kind == q.VAR_KEYWORD
        for q in _init_params(p.values[0])
    )
]


@pytest.mark.parametrize("cls", WITH_PARAMS)
def test_constructor_is_keyword_only(cls):
    for p in _init_params(cls):
        assert p.kind in (p.KEYWORD_ONLY, p.VAR_KEYWORD), f"{cls.__name__}({p.name}) positional"


@pytest.mark.parametrize("cls", ALL_DEFAULTS)
def test_constructor_only_stores(cls):
    kwargs = {p.name: p.default for p in _init_params(cls) if p.kind == p.KEYWORD_ONLY}
    obj = cls(**kwargs)
    for name, value in kwargs.items():
        assert getattr(obj, name) is value, f"{cls.__name__}.{name} changed in __init__"
    learned = [a for a in vars(obj) if a.endswith("_") and not a.startswith("_")]
    assert not learned, f"{cls.__name__} sets learned attributes in __init__: {learned}"


@pytest.mark.parametrize("name", importlib.import_module("neurolearn.studies").__all__)
def test_study_names_are_reachable_and_documented(name):
    import neurolearn as nl

    obj = getattr(nl.studies, name)
    if inspect.isfunction(obj):
        doc = inspect.getdoc(obj) or ""
        assert "Examples" in doc and ">>>" in doc.split("Examples", 1)[1], name
