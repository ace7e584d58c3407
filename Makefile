# The two commands of the README: `make demo` and `make test`. Both create the
# virtual environment on first use; nothing else needs installing but python3.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck pytest bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The audit exits 1 when some failure is degraded or unrecoverable, which is a finding, not a
# failed demo (the reference platform survives every single host and datacenter loss; a file of
# your own may not).
demo: $(STAMP)
	$(BIN)/drplan show
	$(BIN)/drplan audit || [ $$? -eq 1 ]

lint: $(STAMP)
	$(BIN)/ruff check models planner tests benchmarks
	$(BIN)/ruff format --check models planner tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/pytest -n 2

test: lint typecheck pytest

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
