# The two commands README promises: `make run` and `make test`. Both set up first.
PY := .venv/bin/python
ARGS ?=

.PHONY: setup run test test-unit test-ui test-bpf bench screenshots lint

setup:
	@bash scripts/setup.sh

run: setup
	$(PY) -m tui $(ARGS)

test: setup
	$(PY) -m pytest -ra $(PYTEST_ARGS)

test-unit: setup
	$(PY) -m pytest -ra tests/unit

test-ui: setup
	$(PY) -m pytest -ra tests/ui

test-bpf: setup
	$(PY) -m pytest -ra tests/bpf

bench: setup
	$(PY) -m tests.bench.overhead

screenshots: setup
	$(PY) -m tests.ui.make_screenshots

lint: setup
	$(PY) -m ruff check tui tests
	$(PY) -m ruff format --check tui tests
	$(PY) -m mypy tui
	.venv/bin/lint-imports
