# Two commands a newcomer needs: `make run` and `make test`. Everything else is plumbing.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000
STAMP  := $(VENV)/.installed

.PHONY: run test lint format migrate seed worker beat lock bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall whenever the lock file changes; hashes make the install reproducible.
$(STAMP): requirements-dev.lock | $(BIN)/python
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements-dev.lock
	touch $(STAMP)

## run: install, migrate, seed the demo organizations, serve on http://127.0.0.1:8000
run: $(STAMP)
	DEBUG=1 $(BIN)/python manage.py migrate --no-input
	DEBUG=1 $(BIN)/python manage.py seed_demo
	DEBUG=1 $(BIN)/python manage.py runserver $(HOST):$(PORT)

## test: install, lint, check migrations, run the whole suite (browser journeys included)
test: $(STAMP) lint
	DEBUG=1 $(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/python -m pytest -n 2 --dist loadgroup $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

worker: $(STAMP)
	$(BIN)/celery -A alignment worker --loglevel=INFO

beat: $(STAMP)
	$(BIN)/celery -A alignment beat --loglevel=INFO

## lock: regenerate the pinned, hashed requirement files from pyproject.toml
lock: | $(BIN)/python
	$(BIN)/python -m pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml -q --generate-hashes --python-version 3.11 -o requirements.lock
	$(BIN)/uv pip compile pyproject.toml --extra dev -q --generate-hashes --python-version 3.11 -o requirements-dev.lock

## bench: seed a large organization into its own PostgreSQL database (DATABASE_URL names the
## owner role) and time the triage queue, the theme board and the SLA sweep; see bench/README.md
bench: $(STAMP)
	$(BIN)/python -m bench.voc $(BENCH_ARGS)

clean:
	rm -rf $(VENV) staticfiles db.sqlite3
