import os
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("MPLBACKEND", "Agg")


def _torch_available():
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def _cuda_available():
    if not _torch_available():
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
    if request.param == "torch" and not _torch_available():
        pytest.fail("torch is part of the test install (neurolearn[all]) but is missing")
    return request.param


@pytest.fixture
def rng():
    return np.random.default_rng(12345)
