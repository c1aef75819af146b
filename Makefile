# `make demo` and `make test` set themselves up on a fresh machine: each creates .venv when missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Pinned to torch==2.13.0: any other spec downloads a multi-GB CUDA build here.
TORCH := torch==2.13.0

.PHONY: demo test bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# The demo recommends the dashboard and the PDF report, so it installs their extra too.
$(VENV)/.stamp-install: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[dashboard]"
	touch $@

$(VENV)/.stamp-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet $(TORCH)
	$(BIN)/pip install --quiet -e ".[test,torch]" torch==2.13.0
	touch $@

$(VENV)/.stamp-bench: pyproject.toml $(VENV)/.stamp-test
	$(BIN)/pip install --quiet -e ".[test,torch,bench]" torch==2.13.0
	touch $@

demo: $(VENV)/.stamp-install
	$(BIN)/genesis demo

test: $(VENV)/.stamp-test
	$(BIN)/python -m pytest -q

bench: $(VENV)/.stamp-bench
	for b in bench/*.py; do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) genesis.duckdb .pytest_cache
