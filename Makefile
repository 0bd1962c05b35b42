# flowplan: two commands set everything up on a fresh machine with Python 3.11.
#   make demo   build .venv, install, build the demo store from the bundled data, print outputs
#   make test   build .venv if needed, install, run lint (ruff), types (mypy) and the test suite
#               (it installs Debian's chromium for the browser tests when it can: see `chromium`)
#   make bench  run the benchmarks; results in bench/results/*.json

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint types unit chromium bench clean

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

# The browser tests (tests/browser) drive headless Chromium from Debian's `chromium` package.
# Install it when missing (apt-get update only if the first try fails); never fail here: without
# it the browser tests are skipped with the reason.
CHROMIUM := /usr/bin/chromium
APT_GET := env DEBIAN_FRONTEND=noninteractive apt-get -y -q -o Dpkg::Use-Pty=0

chromium:
	@if [ -x $(CHROMIUM) ]; then exit 0; fi; \
	if ! command -v apt-get >/dev/null 2>&1; then \
	  echo "chromium: no apt-get here; the browser tests will be skipped"; exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then SUDO=; \
	elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO="sudo -n"; \
	else echo "chromium: not root (and no sudo); the browser tests will be skipped"; exit 0; fi; \
	echo "chromium: installing Debian's chromium for the browser tests ..."; \
	( $$SUDO $(APT_GET) install chromium >/dev/null 2>&1 \
	  || { $$SUDO $(APT_GET) update >/dev/null 2>&1 \
	       && $$SUDO $(APT_GET) install chromium >/dev/null 2>&1; } ) \
	  && echo "chromium: installed $(CHROMIUM)" \
	  || echo "chromium: could not install it; the browser tests will be skipped"

unit: $(STAMP) chromium
	$(BIN)/python -m pytest -q

test: lint types unit

bench: $(STAMP)
	$(BIN)/python -m bench.run
	$(BIN)/python -m bench.capacity
	$(BIN)/python -m bench.forecast
	$(BIN)/python -m bench.sim
	$(BIN)/python -m bench.web

clean:
	rm -rf $(VENV) out .mypy_cache .ruff_cache .pytest_cache
