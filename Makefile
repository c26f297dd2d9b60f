# Marketplace Support Desk: local run, tests and a deploy check.
#
#   make run            migrate, load the demo data and serve on http://127.0.0.1:8000 (DEBUG on)
#   make test           the whole pytest suite; extra args: make test PYTEST_ARGS="-k filing -x"
#   make check-deploy   Django's deployment checks with production-like settings
#   make audit          pip-audit over requirements.txt (needs the PyPI vulnerability service)
#
# The suite runs on the defaults (SQLite, in-memory channel layer); export DATABASE_URL and
# REDIS_URL to run it on PostgreSQL and Redis instead.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# Inside the venv, so a new venv always gets a fresh install; newer than requirements.txt otherwise.
STAMP := $(VENV)/.requirements-installed
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help venv install run test check-deploy audit

help:
	@echo "make run           migrate, seed the demo data, serve on http://$(HOST):$(PORT) (DJANGO_DEBUG=1)"
	@echo "make test          run the test suite (PYTEST_ARGS=... passes options to pytest)"
	@echo "make check-deploy  manage.py check --deploy with production-like settings"
	@echo "make audit         pip-audit over requirements.txt"

$(PY):
	$(PYTHON) -m venv $(VENV)

venv: $(PY)

# Re-installs only when requirements.txt is newer than the stamp (or the venv is new).
$(STAMP): requirements.txt | $(PY)
	$(PY) -m pip install --disable-pip-version-check -q -r requirements.txt
	touch $@

install: $(STAMP)

run: $(STAMP)
	DJANGO_DEBUG=1 $(PY) manage.py migrate
	@# The demo's notification emails would bury the logins; they are not printed.
	DJANGO_DEBUG=1 DJANGO_EMAIL_BACKEND=django.core.mail.backends.locmem.EmailBackend $(PY) manage.py seed_demo
	DJANGO_DEBUG=1 $(VENV)/bin/daphne -b $(HOST) -p $(PORT) marketplace_support.asgi:application

test: $(STAMP)
	$(VENV)/bin/pytest $(PYTEST_ARGS)

# DEBUG off, a throwaway random secret key, a real host name: what production looks like.
check-deploy: $(STAMP)
	env -u DJANGO_DEBUG \
		DJANGO_SETTINGS_MODULE=marketplace_support.settings \
		DJANGO_ALLOWED_HOSTS=desk.example.com \
		DJANGO_SECRET_KEY="$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(64))')" \
		$(PY) manage.py check --deploy --fail-level WARNING

# pip-audit in a venv of its own, so its dependencies never mix with the app's. --strict fails
# when a package could not be audited, so an unreachable vulnerability service is not "clean".
AUDIT_VENV ?= .venv-audit
audit:
	test -x $(AUDIT_VENV)/bin/pip-audit || ($(PYTHON) -m venv $(AUDIT_VENV) && $(AUDIT_VENV)/bin/pip install -q pip-audit==2.10.1)
	$(AUDIT_VENV)/bin/pip-audit --strict -r requirements.txt
