# pmpath: `make demo` and `make test` each create .venv, install the locked dependencies and run.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# axe-core for the browser tests, pinned in tests/browser/package-lock.json, kept inside .venv.
AXE := $(VENV)/node_modules/axe-core/axe.min.js

.PHONY: demo test test-fast lint install system-deps lock benchmark examples clean

$(STAMP): pyproject.toml requirements.lock | system-deps
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(STAMP)

# Debian packages (Chromium, fonts, poppler, WeasyPrint's libraries): a no-op when present; without
# root it names what is missing and the tests that need it skip.
system-deps:
	@bash scripts/install-system-deps.sh

$(AXE): tests/browser/package.json tests/browser/package-lock.json | $(STAMP)
	@if command -v npm >/dev/null 2>&1; then \
		cp tests/browser/package.json tests/browser/package-lock.json $(VENV)/ && \
		npm ci --prefix $(VENV) --ignore-scripts --no-audit --no-fund --loglevel=error && \
		touch $(AXE); \
	else \
		echo "npm not found: axe-core not installed, the browser contrast tests will skip"; \
	fi

install: system-deps $(STAMP) $(AXE)

demo: $(STAMP)
	$(BIN)/pmpath demo --out demo-output

test: install
	$(BIN)/python -m pytest -n 2 tests --doctest-modules src/pmpath

test-fast: install
	$(BIN)/python -m pytest -n 2 -m "not slow" tests --doctest-modules src/pmpath

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks scripts
	$(BIN)/ruff format --check src tests benchmarks scripts

benchmark: $(STAMP)
	$(BIN)/python benchmarks/assess_example.py

examples: $(STAMP)
	$(BIN)/python scripts/generate_examples.py

# Re-pin the lock file from pyproject.toml (needs the network to PyPI).
lock:
	$(PYTHON) -m pip install --quiet uv
	$(PYTHON) -m uv pip compile pyproject.toml --extra dev --extra bayes --extra workflow --extra spark --python-version 3.11 -o requirements.lock

clean:
	rm -rf $(VENV) demo-output
