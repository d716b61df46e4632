"""Shared helpers of the scan tests (a uniquely named module: `conftest` is ambiguous)."""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:  # worker processes inherit sys.path and import the toy family
    sys.path.insert(0, str(HERE))

import scan_toy_family  # noqa: E402,F401  (registers the toy kinds)

TOY_MODEL = str(HERE / "toy_model.toml")
TOY_TASK = str(HERE / "toy_task.toml")
#: every variable that does not depend on where or when a point ran
EXCLUDE = ("wall_s", "worker", "pinned")


def same_results(a, b) -> None:
    """Assert two scan Datasets hold the same results (all but wall time and worker)."""
    import numpy as np

    names_a = sorted(n for n in a.data_vars if n not in EXCLUDE)
    names_b = sorted(n for n in b.data_vars if n not in EXCLUDE)
    assert names_a == names_b
    for name in names_a:
        x, y = a[name].values, b[name].values
        if x.dtype.kind in "fc":
            np.testing.assert_array_equal(x, y, err_msg=name)
        else:
            assert (x == y).all(), name
    for name in a.coords:
        np.testing.assert_array_equal(a[name].values, b[name].values)
