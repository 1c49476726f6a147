# Two commands: `make run` (the app, the worker and the Onurix sandbox) and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip

.PHONY: run test test-postgres lint format messages install install-dev

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

# Stamp files: reinstall only when a requirements file changed.
$(VENV)/.installed: requirements.txt | $(PY)
	$(PIP) install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(PY)
	$(PIP) install --quiet -r requirements-dev.txt
	touch $(VENV)/.installed $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

.env:
	cp .env.example .env
	@echo "Created .env from .env.example (the app talks to the local Onurix sandbox)."

run: install .env
	mkdir -p staticfiles
	$(PY) manage.py migrate --no-input
	$(PY) manage.py compiletranslations
	$(PY) manage.py ensure_demo_user
	bash scripts/run.sh

test: install-dev
	DJANGO_SETTINGS_MODULE=tests.settings $(PY) manage.py compiletranslations
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/pytest

# The suite again on PostgreSQL: DATABASE_URL=postgres://... make test-postgres
# (.ci/run starts a local PostgreSQL with .ci/postgres.sh and runs this after `make test`).
test-postgres: install-dev
	@case "$$DATABASE_URL" in postgres*) ;; *) echo "Set DATABASE_URL=postgres://..."; exit 2;; esac
	DJANGO_SETTINGS_MODULE=tests.settings $(PY) manage.py compiletranslations
	$(VENV)/bin/pytest

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install-dev
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# Developers: refresh the catalogues after changing strings (needs GNU gettext).
messages: install-dev
	$(PY) manage.py makemessages --locale es --no-location --no-obsolete --ignore '.venv/*' --ignore 'tests/*' --ignore 'bench/*'
	$(PY) manage.py compiletranslations
