# `make demo` and `make test` set themselves up on a fresh machine: each creates .venv when missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Pinned to torch==2.13.0: any other spec downloads a multi-GB CUDA build here.
TORCH := torch==2.13.0

# DuckDB 1.5.5 (the version the duckdb-extension-* wheels need) in a second venv: the sharing, threading,
# transaction and layer tests, on top of the full suite on 2.0.x in .venv.
VENV15 := .venv15
BIN15 := $(VENV15)/bin
CORE_TESTS := tests/generation tests/sql/test_functions.py tests/test_api.py tests/test_layers.py

# smartnoise-synth (bench/privacy.py's MST baseline) pins opacus<0.15, while the bench extra has opacus 1.6 for
# the DP-SGD TVAE baseline: it gets its own venv, which bench/privacy.py calls as a subprocess.
VENV_SN := .venv-smartnoise

.PHONY: demo test test-duckdb15 bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# The demo recommends the dashboard and the PDF report, so it installs their extra too.
$(VENV)/.stamp-install: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[dashboard]"
	touch $@

# anonymeter (the reference the attack-based risks are checked against) pins numpy<1.27 and pyarrow<22 in its
# metadata but runs on the versions here; its real dependencies are numba (a core one) and polars (test extra).
ANONYMETER := anonymeter==1.1.0

$(VENV)/.stamp-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet $(TORCH)
	$(BIN)/pip install --quiet -e ".[test,torch]" torch==2.13.0
	$(BIN)/pip install --quiet --no-deps $(ANONYMETER)
	touch $@

$(VENV)/.stamp-bench: pyproject.toml $(VENV)/.stamp-test
	$(BIN)/pip install --quiet -e ".[test,torch,bench]" torch==2.13.0
	touch $@

$(VENV_SN)/.stamp:
	$(PYTHON) -m venv $(VENV_SN)
	$(VENV_SN)/bin/pip install --quiet --upgrade pip
	$(VENV_SN)/bin/pip install --quiet "smartnoise-synth==1.0.8" $(TORCH)
	touch $@

demo: $(VENV)/.stamp-install
	$(BIN)/genesis demo

test: $(VENV)/.stamp-test
	$(BIN)/python -m pytest -q

$(VENV15)/.stamp-test: pyproject.toml
	$(PYTHON) -m venv $(VENV15)
	$(BIN15)/pip install --quiet --upgrade pip
	$(BIN15)/pip install --quiet -e ".[test]" "duckdb==1.5.5"
	touch $@

test-duckdb15: $(VENV15)/.stamp-test
	$(BIN15)/python -c "import duckdb; assert duckdb.__version__ == '1.5.5', duckdb.__version__"
	$(BIN15)/python -m pytest -q $(CORE_TESTS)

bench: $(VENV)/.stamp-bench $(VENV_SN)/.stamp
	for b in bench/*.py; do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) $(VENV15) $(VENV_SN) genesis.duckdb .pytest_cache
