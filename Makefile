# flowplan: two commands set everything up on a fresh machine with Python 3.11.
#   make demo   build .venv, install, build the demo store from the bundled data, print outputs
#   make test   build .venv if needed, install, run lint (ruff), types (mypy) and the test suite
#   make bench  run the benchmarks; results in bench/results/*.json

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint types unit bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/flowplan demo --out out

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

types: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/python -m pytest -q

test: lint types unit

bench: $(STAMP)
	$(BIN)/python -m bench.run
	$(BIN)/python -m bench.capacity
	$(BIN)/python -m bench.forecast
	$(BIN)/python -m bench.sim

clean:
	rm -rf $(VENV) out .mypy_cache .ruff_cache .pytest_cache
