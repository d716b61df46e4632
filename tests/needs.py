"""Optional packages in the tests: all are part of the test install (``neurolearn[all]``), so a
test that needs one fails without it, with a message naming what to install; none skips.

Mark a test (or a module, ``pytestmark = pytest.mark.torch``) that needs PyTorch; the root
``conftest.py`` fails it at setup with :data:`TORCH_MISSING` when torch cannot be imported,
never skips it. A module that uses torch at import time takes it from :func:`optional_torch`
so that it still collects; inside a test, :func:`require_torch` imports it or fails.
"""

from __future__ import annotations

import pytest

TORCH_MISSING = (
    "torch is part of the test install but cannot be imported: install it with "
    "`pip install 'neurolearn[torch]'` (or `make test`, which installs every extra)"
)


def torch_available() -> bool:
    return optional_torch() is not None


def optional_torch():
    """``torch``, or None when it cannot be imported.

    For module-level imports in test files marked ``pytestmark = pytest.mark.torch``: the module
    still collects without torch, and every test in it then fails with ``TORCH_MISSING``.
    """
    try:
        import torch
    except ImportError:
        return None
    return torch


def require_torch():
    """Import torch inside a test, failing the test with ``TORCH_MISSING`` when it is missing."""
    torch = optional_torch()
    if torch is None:
        pytest.fail(TORCH_MISSING, pytrace=False)
    return torch


def require(module: str, extra: str):
    """Import ``module`` inside a test, failing the test (naming ``extra``) when it is missing."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        pytest.fail(
            f"{module} is part of the test install but cannot be imported ({exc}): install it "
            f"with `pip install 'neurolearn[{extra}]'` (or `make test`, which installs every "
            "extra)",
            pytrace=False,
        )
