"""The curl speed-up (Ninou et al. 2025): paired GD vs curl runs, epochs to train error 1e-3.

The full sweep (10 seeds, P = 100 ... 2000) is ``examples/curl_speedup.py``; its table is in the
README. Measured there: GD / curl = 0.86 at P = 100 and about 1.8 at P = 2000, so the paper's
"at most half the epochs at P = 2000" (~2.7x in the authors' notebooks) is not reached; this test
checks the part that does reproduce: a clear speed-up at large P, none at small P.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from neurolearn.teacher import CurlDescent, GradientDescent

_spec = importlib.util.spec_from_file_location(
    "curl_speedup", Path(__file__).resolve().parents[2] / "examples" / "curl_speedup.py"
)
curl_speedup = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(curl_speedup)


def _epochs(n_train, seeds):
    gd = [curl_speedup.epochs_to_threshold(n_train, s, GradientDescent()) for s in seeds]
    cd = [
        curl_speedup.epochs_to_threshold(n_train, s, CurlDescent(flipped_hidden=1)) for s in seeds
    ]
    assert not np.isnan(gd).any() and not np.isnan(cd).any()
    return np.asarray(gd), np.asarray(cd)


def _ratio(n_train, seeds):
    gd, cd = _epochs(n_train, seeds)
    return np.mean(gd) / np.mean(cd)


def test_no_speed_up_with_little_data():
    # measured at P = 100, seeds 0-9: curl descent needs as many epochs as GD or more in every
    # paired run (GD / curl 0.75-1.0 per seed, 0.89 over seeds 0-4, 0.86 over 0-9)
    gd, cd = _epochs(100, range(5))
    assert np.all(gd <= cd)
    assert np.mean(gd) / np.mean(cd) < 0.95


@pytest.mark.slow
def test_curl_speeds_up_learning_with_much_data():
    assert _ratio(2000, range(3)) > 1.3
