import os
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("MPLBACKEND", "Agg")

from needs_torch import TORCH_MISSING, require_torch, torch_available  # noqa: E402


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    # torch-dependent tests never skip: a missing torch is a broken test install
    if item.get_closest_marker("torch") is not None and not torch_available():
        pytest.fail(f"{item.nodeid}: {TORCH_MISSING}", pytrace=False)


def _cuda_available():
    if not torch_available():
        return False
    import torch

    return torch.cuda.is_available()


def pytest_collection_modifyitems(config, items):
    skip_gpu = pytest.mark.skip(reason="needs a CUDA GPU")
    for item in items:
        if "gpu" in item.keywords and not _cuda_available():
            item.add_marker(skip_gpu)


@pytest.fixture(params=["numba", "torch", "numpy"])
def backend(request):
    """Every test that takes this fixture runs on every backend."""
    if request.param == "torch":
        require_torch()
    return request.param


@pytest.fixture
def rng():
    return np.random.default_rng(12345)
