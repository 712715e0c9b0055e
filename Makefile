# Quick start: `make run` (the whole embedded stack) and `make test` (the whole test suite).
# Both create .venv on first use; `make install` (re)installs it whenever pyproject.toml changes.

PYTHON ?= python3
VENV   := .venv
STAMP  := $(VENV)/.installed

.PHONY: install run test lint format bench fault

install: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Wuhuan needs Python 3.11 or newer; set PYTHON=python3.11 (or newer)")'
	@test -x $(VENV)/bin/pip || { rm -rf $(VENV) && $(PYTHON) -m venv $(VENV); }
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check -e ".[test,lint]"
	@touch $(STAMP)

run: install
	$(VENV)/bin/wuhuan dev

test: install
	$(VENV)/bin/pytest -q

# Style (ruff lint and format check), types (mypy on domain/ and workflows/, see [tool.mypy]) and the layering
# contracts (import-linter, see [tool.importlinter] in pyproject.toml). `.ci/run` runs it before the tests.
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports --no-cache

# Rewrites the tree the way `make lint` wants it (imports sorted, code formatted).
format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# Every benchmark in bench/ (bench_*.py), one after another; each prints its figures and writes them to
# bench/results/. All run; the target fails if any missed its figure.
bench: install
	@failed=0; for script in bench/bench_*.py; do echo "== $$script"; $(VENV)/bin/python $$script || failed=1; done; \
	exit $$failed

# The fault-injection suite (bench/fault_suite.py, testkit/fault_suite.py): 200 cases on the real dev server while the
# worker is SIGKILLed 5 times, the dev server is restarted on its SQLite file, the read model is locked for
# 35 s and the message webhook refuses for 30 s; fails unless every case ends right, with no duplicate, every
# message delivered and every history replaying. Figures in bench/results/fault.txt.
# A reduced run is part of `make test` (tests/e2e/test_fault_suite.py).
fault: install
	$(VENV)/bin/python bench/fault_suite.py
