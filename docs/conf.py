"""Sphinx configuration of the neurolearn documentation.

Build with ``make docs`` (or ``sphinx-build -W -b html docs docs/_build/html``). Reference pages
(spec tables, command line, API, tutorials) are generated from the code on every build.
Notebooks are executed when ``NEUROLEARN_DOCS_EXECUTE`` is ``cache``, ``force`` or ``auto``;
the default ``off`` renders them without outputs (CI executes them separately, see
``tests/docs/test_notebooks.py``).
"""

import os
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS.parent))
sys.path.insert(0, str(DOCS))

import _reference  # noqa: E402

from neurolearn import __version__  # noqa: E402

_reference.generate(DOCS)

project = "neurolearn"
author = "the neurolearn developers"
copyright = "2026, the neurolearn developers"
release = version = __version__

extensions = [
    "myst_nb",
    "sphinx.ext.autodoc",
    "sphinx.ext.mathjax",
    "numpydoc",
]

exclude_patterns = [
    "_build",
    "Thumbs.db",
    ".DS_Store",
    "**.ipynb_checkpoints",
    "_reference.py",
    "conf.py",
]
source_suffix = {".md": "myst-nb", ".ipynb": "myst-nb", ".py": "myst-nb"}

# Labs are Jupytext percent-format scripts.
nb_custom_formats = {".py": ["jupytext.reads", {"fmt": "py:percent"}]}
nb_execution_mode = os.environ.get("NEUROLEARN_DOCS_EXECUTE", "off")
nb_execution_timeout = 600
nb_execution_raise_on_error = True
myst_enable_extensions = ["dollarmath", "colon_fence"]
myst_heading_anchors = 3

# Broken cross-references fail the build (with -W). References to re-exported objects are
# resolved by _reference.resolve_reexported; the targets below name objects the API reference
# does not document (module constants, a method that does not exist), each listed explicitly
# so that any new broken reference still fails.
nitpicky = True
nitpick_ignore = [
    ("py:data", "BACKENDS"),
    ("py:data", "SCAN_KEYS"),
    ("py:meth", "score"),
]
# a role split across two lines in neurolearn/rnnfit/force.py (ForceStudent docstring)
nitpick_ignore_regex = [("py:func", r"neurolearn\.rnnfit\.student\.\s+target_transform")]

autodoc_default_options = {"members": True, "member-order": "bysource"}
autodoc_typehints = "none"
numpydoc_show_class_members = False
numpydoc_xref_param_type = False
numpydoc_validation_checks = set()

html_theme = "alabaster"
html_title = f"neurolearn {version}"
html_static_path = []


def setup(app):
    app.connect("missing-reference", _reference.resolve_reexported)
