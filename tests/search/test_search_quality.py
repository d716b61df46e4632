"""A 40-trial search on ``esn narma10`` against a 40-point grid over the same space, with the
same seeds for every point and trial.

Measured (3 search seeds, 2D space of the issue, pruning on): the search's best mean NRMSE is
within 0.3% of the grid's best (better for 1 seed of 3, worse by 0.2-0.3% for 2), far below the
seed-to-seed spread of one configuration (about 0.07). The grid's 8 log-spaced spectral radii
happen to hit the narrow optimum near 0.85, and the ridge is nearly flat over 1e-9..1e-4, so a
strictly better search is not guaranteed; the test states the tie as a 1% tolerance and checks
that TPE improves on its own random startup trials (which alone are about 7% worse).
"""

from __future__ import annotations

import numpy as np
import pytest

import neurolearn as nl
from neurolearn._search.objective import run_seed_sequence

SMALL = ["network.n=50", "task.train_steps=1000", "task.test_steps=300"]
SPACE = {"network.spectral_radius": "log:0.1:2", "readout.ridge": "log:1e-9:1e-2"}
SEEDS, SEED = 3, 0


def _grid_best() -> float:
    best = np.inf
    for radius in np.geomspace(0.1, 2, 8):
        for ridge in np.geomspace(1e-9, 1e-2, 5):
            overrides = [*SMALL, f"network.spectral_radius={radius}", f"readout.ridge={ridge}"]
            values = [
                float(
                    nl.run("esn", "narma10", seed=run_seed_sequence(SEED, k), overrides=overrides)[
                        "nrmse"
                    ]
                )
                for k in range(SEEDS)
            ]
            best = min(best, float(np.mean(values)))
    return best


@pytest.mark.slow
def test_search_ties_a_grid_of_the_same_size(tmp_path):
    res = nl.search(
        "esn",
        "narma10",
        space=SPACE,
        trials=40,
        seeds=SEEDS,
        seed=SEED,
        overrides=SMALL,
        out=tmp_path / "s.db",
        scheduler="synchronous",
        figures=False,
        progress=False,
    )
    assert res.counts["finished"] == 40
    grid = _grid_best()
    assert res.best_value <= grid * 1.01, (res.best_value, grid)
    startup = [t.value for t in res.study.get_trials()[:10] if t.state.name == "COMPLETE"]
    assert res.best_value < min(startup)
