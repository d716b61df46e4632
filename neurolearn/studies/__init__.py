"""Studies: several runs of the families compared, tabled and drawn.

A study sits above :mod:`neurolearn.experiment` (it runs specs, or whole comparisons) and below
the command line; the families themselves never import it.

* :func:`run_demo` (``neurolearn demo``): the three comparisons of adaptive E/I reservoirs.
* :func:`recorded_fraction_sweep` (``python -m neurolearn.studies.rnnfit_sweep``): RNNs fit to
  sparse recordings, held-out metrics against the fraction of neurons recorded.
* :func:`compare_rules`: every zeroth-order rule on one task under one query budget.
"""

from neurolearn._lazy import lazy_exports

_WHERE = {
    "run_demo": "neurolearn.studies.reservoir_demo",
    "demo_settings": "neurolearn.studies.reservoir_demo",
    "recorded_fraction_sweep": "neurolearn.studies.rnnfit_sweep",
    "sweep_table": "neurolearn.studies.rnnfit_sweep",
    "SWEEP_METRICS": "neurolearn.studies.rnnfit_sweep",
    "ZO_MODELS": "neurolearn.studies.zo_compare",
    "compare_rules": "neurolearn.studies.zo_compare",
    "table_rows": "neurolearn.studies.zo_compare",
}

__all__ = list(_WHERE)

__getattr__, __dir__ = lazy_exports(__name__, _WHERE, __all__)
