# One place for the commands a person types. Each target sets up what it needs.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint format bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

## run: set up and start the server with a demo production (SQLite, nothing else needed)
run: $(STAMP)
	$(BIN)/coldset serve --demo

## test: set up, lint (ruff, mypy --strict), then run the whole test suite
test: lint
	$(BIN)/python -m pytest

## lint: ruff (check and format), mypy --strict and lint-imports (layers, no import circles); part of make test
lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy
	$(BIN)/lint-imports

## format: rewrite the code in the project's format (ruff format); lint checks it
format: $(STAMP)
	$(BIN)/ruff format src tests benchmarks

bench: $(STAMP)
	$(BIN)/python benchmarks/ledger_bench.py

clean:
	rm -rf $(VENV) build *.egg-info
