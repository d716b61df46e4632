"""Lazy public names of a package: each is imported from its defining module on first use.

Reading a spec file imports a family's spec tables; keeping the family package itself light
(no numba, torch or Brian2 at import) keeps refusals of bad input and ``neurolearn --help`` fast.
"""

from __future__ import annotations

import importlib

__all__ = ["lazy_exports"]


def lazy_exports(package: str, where: dict[str, str], public, submodules=()):
    """Module-level ``__getattr__`` and ``__dir__`` for ``package``.

    Parameters
    ----------
    package : str
        The package's ``__name__`` (named in the ``AttributeError``).
    where : dict
        Public name -> defining module.
    public : sequence of str
        The package's ``__all__``.
    submodules : sequence of str, default=()
        Submodules of ``package`` exported as attributes themselves.

    Examples
    --------
    >>> getattr_, dir_ = lazy_exports("xml", {"sqrt": "math"}, ["sqrt", "dom"], ["dom"])
    >>> getattr_("sqrt")(4.0)
    2.0
    >>> getattr_("dom").__name__
    'xml.dom'
    >>> dir_()
    ['dom', 'sqrt']
    """

    def __getattr__(name: str):
        if name in where:
            return getattr(importlib.import_module(where[name]), name)
        if name in submodules:
            return importlib.import_module(f"{package}.{name}")
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__():
        return sorted(public)

    return __getattr__, __dir__
