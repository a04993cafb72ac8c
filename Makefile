# The two commands README promises: `make run` and `make test`. Both set up first.
# `make setup` installs what running needs; `make test` adds what the tests need.
PY := .venv/bin/python
ARGS ?=
PREFIX ?= /usr/local
APPDIR ?= /opt/syscalltop
export PREFIX APPDIR

.PHONY: setup setup-test run test test-unit test-ui test-bpf bench incidents screenshots lint \
	install uninstall install-service

setup:
	@bash scripts/setup.sh

setup-test:
	@bash scripts/setup.sh --test

run: setup
	$(PY) -m tui $(ARGS)

test: setup-test
	$(PY) -m pytest -ra $(PYTEST_ARGS)

test-unit: setup-test
	$(PY) -m pytest -ra tests/unit

test-ui: setup-test
	$(PY) -m pytest -ra tests/ui

test-bpf: setup-test
	$(PY) -m pytest -ra tests/bpf

bench:
	@bash scripts/setup.sh --bench
	$(PY) -m tests.bench.overhead
	$(PY) -m tests.bench.costs
	$(PY) -m tests.bench.precision
	$(PY) -m tests.bench.redis
	$(PY) -m tests.bench.idle_cpu --size 80x24
	$(PY) -m tests.bench.idle_cpu --size 120x40
	$(PY) -m tests.bench.reliability churn

incidents: setup-test
	$(PY) -m tests.bench.incidents

screenshots: setup-test
	$(PY) -m tests.ui.make_screenshots

lint: setup-test
	$(PY) -m ruff check tui tests scripts
	$(PY) -m ruff format --check tui tests scripts
	$(PY) -m mypy tui
	.venv/bin/lint-imports
	.venv/bin/yamllint -s examples
	.venv/bin/kubernetes-validate --strict --quiet examples/kubernetes/*.yaml

install:
	@bash scripts/install.sh install

uninstall:
	@bash scripts/install.sh uninstall

install-service:
	@bash scripts/install.sh service
