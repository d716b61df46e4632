"""Fixtures of the scan tests: one Dask cluster for the whole session."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import scan_helpers  # noqa: E402,F401  (puts the toy family on the path of every worker)
from needs import require  # noqa: E402


@pytest.fixture(scope="session")
def cluster():
    """One 2-process, single-threaded LocalCluster for every test that needs Dask."""
    distributed = require("distributed", "all")
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
