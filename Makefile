# Two commands on a fresh machine: `make run` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The venv is re-installed whenever pyproject.toml changes.
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev
PYTEST_ARGS ?=
BENCH_ARGS ?=

.PHONY: run test demo bench lint typecheck migrations-check clean setup setup-dev

# The app finds its own signing key: COUNCILWATCH_SECRET_KEY, COUNCILWATCH_SECRET_KEY_FILE, or
# var/secret.key, made once by the first command that needs it. Nothing to export.
run: setup
	$(BIN)/councilwatch db upgrade
	$(BIN)/councilwatch run

# The service against simulated LGSCO and publisher sites on this machine (nothing real is
# contacted): digests for a demo subscriber appear in var/demo/outbox/, pages on :8080.
demo: setup-dev
	$(BIN)/python -m tests.demo_world

test: setup-dev
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: setup-dev
	@for script in bench/*.py; do \
		echo "== $$script"; \
		$(BIN)/python $$script $(BENCH_ARGS) || exit 1; \
	done

lint: setup-dev
	$(BIN)/ruff check .

typecheck: setup-dev
	$(BIN)/mypy

# Models and migrations must agree, on a scratch SQLite database.
migrations-check: setup-dev
	@rm -f var/migration-check.db
	COUNCILWATCH_DATABASE_URL=sqlite:///var/migration-check.db $(BIN)/councilwatch db upgrade
	COUNCILWATCH_DATABASE_URL=sqlite:///var/migration-check.db $(BIN)/councilwatch db check

setup: $(STAMP)
setup-dev: $(DEV_STAMP)

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(VENV)/bin/python
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

$(DEV_STAMP): pyproject.toml | $(VENV)/bin/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@ $(STAMP)

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
