# Caudal — every command a developer or CI needs. See README.md.
SHELL := /bin/bash
.DEFAULT_GOAL := help
PY := .venv/bin/python
MANAGE := $(PY) manage.py
SCALE ?=
DEMO_ACCOUNTS ?= 20000
DEMO_SEED ?= 7

.PHONY: help demo test test-slow test-browser lint bench stop system setup services assets messages migrate

help:
	@echo "make demo       set up everything, load the demo city, serve it (web + Celery worker + beat)"
	@echo "make test       set up everything (no serving) and run the whole fast test suite"
	@echo "make test-slow  scale tests (1M-account demo city etc.)"
	@echo "make lint       ruff + translation catalog checks"
	@echo "make bench      benchmarks at the issues' scales (SCALE=N to override)"
	@echo "make stop       stop what make demo started (web, workers, Redis, PostGIS)"

system:
	@scripts/system-packages.sh

.venv/.installed: pyproject.toml
	@test -x $(PY) || python3 -m venv .venv
	@.venv/bin/pip install -q --upgrade pip setuptools wheel
	@.venv/bin/pip install -q -e '.[dev]'
	@touch $@

node_modules/.installed: package.json package-lock.json
	@npm ci --no-audit --no-fund --loglevel=error
	@touch $@

static/vendor/.built: node_modules/.installed scripts/build-assets.mjs
	@node scripts/build-assets.mjs
	@touch $@

assets: static/vendor/.built

messages: .venv/.installed
	@$(MANAGE) compilemessages --ignore=.venv --ignore=node_modules -v 0

setup: system .venv/.installed assets messages

services: setup
	@scripts/services.sh start-db

migrate: services
	@$(MANAGE) migrate --no-input -v 0

demo: migrate
	@$(MANAGE) collectstatic --no-input -v 0
	@$(MANAGE) demo_users
	@$(MANAGE) demo_city --accounts $(DEMO_ACCOUNTS) --seed $(DEMO_SEED)
	@scripts/services.sh start-app
	@$(MANAGE) demo_banner

test: services
	@$(PY) -m pytest -q

test-slow: services
	@$(PY) -m pytest -q -m slow

lint: setup
	@.venv/bin/ruff check .
	@.venv/bin/ruff format --check .
	@$(PY) scripts/check_messages.py

bench: services
	@for b in bench/*.py; do $(PY) $$b $(if $(SCALE),--scale $(SCALE)) || exit 1; done

stop:
	@scripts/services.sh stop
