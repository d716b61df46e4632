"""Every exception and warning neurolearn raises, in one place.

Errors subclass the built-in type a user would catch anyway (``ValueError`` for bad input,
``RuntimeError`` for a failure while running), so ``except ValueError`` keeps working.
Warnings have their own classes so they can be filtered by name.
"""

from __future__ import annotations

__all__ = [
    "NeurolearnError",
    "ParameterError",
    "ParameterTypeError",
    "SpecError",
    "BackendError",
    "MissingDependencyError",
    "DivergenceError",
    "NotFittedError",
    "NeurolearnWarning",
    "UnreachableTargetWarning",
    "NotConvergedWarning",
]


class NeurolearnError(Exception):
    """Base class of every neurolearn exception."""


class ParameterError(NeurolearnError, ValueError):
    """A parameter or input has an invalid value (wrong range, NaN, wrong shape)."""


class ParameterTypeError(NeurolearnError, TypeError):
    """A parameter or input has the wrong type."""


class SpecError(NeurolearnError, ValueError):
    """A spec file, a spec key or a ``--set`` override is invalid.

    The message starts with the failing path, e.g.
    ``models/esn.toml: network.spectral_radius: must be a float > 0. Got -1 instead.``
    """


class BackendError(NeurolearnError, ValueError):
    """The requested backend or device is unknown or not available on this machine."""


class MissingDependencyError(NeurolearnError, ImportError):
    """An optional dependency is missing; the message names the extra to install."""


class DivergenceError(NeurolearnError, RuntimeError):
    """A simulation produced NaN or Inf.

    Attributes
    ----------
    step : int or None
        The first time step (or epoch) at which a non-finite value was seen.
    """

    def __init__(self, message: str, step: int | None = None):
        super().__init__(message)
        self.step = step


class NotFittedError(NeurolearnError, RuntimeError):
    """A method that needs learned state was called before fitting/adapting."""


class NeurolearnWarning(UserWarning):
    """Base class of every neurolearn warning (``warnings.filterwarnings`` by class)."""


class UnreachableTargetWarning(NeurolearnWarning):
    """Some units cannot reach their target rate (e.g. their inhibition is already zero)."""


class NotConvergedWarning(NeurolearnWarning):
    """An iterative procedure (e.g. local E/I adaptation) stopped before meeting its criterion."""
