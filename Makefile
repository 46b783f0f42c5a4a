# Two commands: `make run` (dev server with demo data) and `make test` (the whole suite).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
DEMO_ORDERS ?= 120

.PHONY: run test install lint lock migrate demo reseed test-postgres bench clean screenshots worker serve load

# Debian/Ubuntu ship Python without ensurepip unless pythonX.Y-venv is installed: then make
# the virtualenv without pip and install pip into it with the system's pip.
$(BIN)/python:
	@test -n "$(PYTHON)" || { echo "Python 3.11 is required (python3.11 or python3 on PATH)"; exit 1; }
	$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); echo "venv has no ensurepip: bootstrapping pip from $(PYTHON) -m pip"; \
	  $(PYTHON) -m venv --without-pip $(VENV) && $(PYTHON) -m pip --python $(BIN)/python install -q pip; }

# Installs are reproducible: the lock files pin every package with its hashes, made by pip-compile
# from the loose ranges in pyproject.toml ([project] dependencies: runtime; the `dev` extra: tests, lint, tools).
$(VENV)/.installed: $(BIN)/python requirements-dev.lock requirements.lock
	$(BIN)/python scripts/check_locks.py
	$(BIN)/pip install --disable-pip-version-check -q --require-hashes -r requirements-dev.lock
	touch $@

install: $(VENV)/.installed

# After changing the ranges in pyproject.toml ([project] dependencies, the `dev` extra): pin what they now ask
# for (existing pins are kept; LOCK_ARGS=--upgrade moves every pin to the newest version the ranges allow).
# The dev lock is constrained by the runtime one.
PIP_COMPILE = $(BIN)/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url \
	--no-emit-find-links $(LOCK_ARGS)
lock: $(BIN)/python
	test -x $(BIN)/pip-compile || $(BIN)/pip install --disable-pip-version-check -q pip-tools
	$(PIP_COMPILE) --output-file requirements.lock pyproject.toml
	$(PIP_COMPILE) --extra dev --constraint requirements.lock --output-file requirements-dev.lock pyproject.toml

migrate: install
	$(BIN)/python manage.py migrate --no-input -v0

# Demo data goes into an empty store only; `make reseed DEMO_ORDERS=1000` empties the store and loads it again.
demo: migrate
	$(BIN)/python manage.py seed_demo --orders $(DEMO_ORDERS) --if-empty

reseed: migrate
	$(BIN)/python manage.py reseed_demo --orders $(DEMO_ORDERS) $(if $(YES),--yes,)

# PORT reaches the banner and the checkout links (PUBLIC_BASE_URL, unless set) as well as the server.
run: demo
	PORT=$(PORT) $(BIN)/python manage.py demo_credentials
	PORT=$(PORT) $(BIN)/python manage.py runserver $(HOST):$(PORT)

# Production server: gunicorn with gunicorn.conf.py (HOST, PORT, WEB_CONCURRENCY… from the
# environment; see docs/operations.md for the production settings). Migrates first, and collects
# static files when the installed packages or the apps' static files changed (whitenoise's
# compression of every file takes a while).
STATIC_SOURCES := $(shell find accounts carts catalog config customers sales webhooks -path '*/static/*' -type f 2>/dev/null)
staticfiles/staticfiles.json: $(VENV)/.installed $(STATIC_SOURCES)
	$(BIN)/python manage.py collectstatic --no-input -v0

serve: migrate staticfiles/staticfiles.json
	HOST=$(HOST) PORT=$(PORT) $(BIN)/gunicorn -c gunicorn.conf.py config.wsgi

# A Celery worker with beat (webhook retries, purges). Needs CELERY_BROKER_URL (redis://… or amqp://…);
# without one, `make run` sends webhooks in-process after each commit and needs no worker.
worker: migrate
	@test -n "$$CELERY_BROKER_URL" || { echo "Set CELERY_BROKER_URL (e.g. redis://127.0.0.1:6379/0)"; exit 1; }
	$(BIN)/celery -A config worker -B -l info --schedule $${CELERY_BEAT_SCHEDULE_FILE:-/tmp/orderdesk-celerybeat-schedule}

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Refresh docs/screenshots/*.png from the browser tests (they take none unless SCREENSHOTS=1).
screenshots: install
	SCREENSHOTS=1 $(BIN)/python -m pytest tests/browser $(PYTEST_ARGS)

test-postgres: install
	DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/orderdesk} $(BIN)/python -m pytest $(PYTEST_ARGS)

# ruff, then mypy (django-stubs + djangorestframework-stubs; strict on services, sales/status.py and
# config/, set in pyproject.toml's [tool.mypy]).
lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy

# The load test (bench/load_test.py): gunicorn + Celery on PostgreSQL, locust for 60 s per mix;
# LOAD_ARGS="--servers 2 --celery-workers 2" for two app servers. Results in bench/results/load.*.
load: install
	$(BIN)/python bench/load_test.py $(LOAD_ARGS)

bench: install
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles
