"""Shared fixtures of the scan tests: the toy family's spec files and one Dask cluster."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:  # worker processes inherit sys.path and import the toy family
    sys.path.insert(0, str(HERE))

import scan_toy_family  # noqa: E402,F401  (registers the toy kinds)

TOY_MODEL = str(HERE / "toy_model.toml")
TOY_TASK = str(HERE / "toy_task.toml")
#: every variable that does not depend on where or when a point ran
EXCLUDE = ("wall_s", "worker", "pinned")


@pytest.fixture(scope="session")
def cluster():
    """One 2-process, single-threaded LocalCluster for every test that needs Dask."""
    distributed = pytest.importorskip("distributed")
    from neurolearn._scan.engine import PINNED_THREADS

    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        env=dict(PINNED_THREADS),
        dashboard_address=":0",
        silence_logs=50,
    ) as cl:
        yield cl


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
