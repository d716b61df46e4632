# Quick start: `make demo` and `make test` work on a fresh machine with only Python and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test test-slow lint bench docs clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# torch: a local CPU build is installed first when torch is missing, so the extra's range is met
# without pulling a multi-GB CUDA build.
$(VENV)/.torch: $(BIN)/python
	$(BIN)/python -c "import torch" 2>/dev/null || $(BIN)/python -m pip install --quiet torch==2.13.0 \
	  || $(BIN)/python -m pip install --quiet torch
	touch $@

$(VENV)/.core: pyproject.toml $(VENV)/.torch
	$(BIN)/python -m pip install --quiet -e ".[torch]"
	touch $@

$(VENV)/.all: pyproject.toml $(VENV)/.torch
	$(BIN)/python -m pip install --quiet -e ".[all]"
	touch $@ $(VENV)/.core

demo: $(VENV)/.core
	$(BIN)/neurolearn demo

test: $(VENV)/.all
	$(BIN)/python -m pytest -n 2 -q -m "not slow" neurolearn tests README.md

# the long tests (notebooks, multi-seed science checks): CI runs them after `make test`
test-slow: $(VENV)/.all
	$(BIN)/python -m pytest -n 2 -q -m slow tests

lint: $(VENV)/.all
	$(BIN)/ruff check neurolearn tests benchmarks

bench: $(VENV)/.all
	$(BIN)/python benchmarks/run.py

# Sphinx with -W: a warning (a broken reference, a notebook that fails to parse) fails the build.
docs: $(VENV)/.all
	$(BIN)/python -m sphinx -W --keep-going -b html docs docs/_build/html

clean:
	rm -rf $(VENV) demo-output docs/_build docs/_generated
