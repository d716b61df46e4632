import os
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("MPLBACKEND", "Agg")

from needs import TORCH_MISSING, require_torch, torch_available  # noqa: E402


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
    """Every test that takes this fixture runs on each of numba, torch and numpy.

    Kernel-level tests of the families with all three backends take it: the reservoir
    (states against the naive reference, closed loop, batches, backend agreement) and the
    teacher trainer (GD identities, norms, thresholds, divergence, agreement with numba).
    The others have fewer backends, tested where they exist: zo runs numba and torch
    (backprop, SPSA, forward gradient; numpy refused), the numba kernels against the reference
    in ``zo/test_zo_kernels.py`` and torch equal to numba with the same noise in
    ``zo/test_zo_torch.py``; the rnnfit BPTT student is torch-only and FORCE numba-only; the
    E/I adaptation kernels of the reservoir are numba-only; spiking networks have engines
    (numba, Brian2, torch), compared in ``spiking/test_spiking_engines.py`` and
    ``spiking/test_spiking_torch.py``.
    """
    if request.param == "torch":
        require_torch()
    return request.param


@pytest.fixture
def rng():
    return np.random.default_rng(12345)
