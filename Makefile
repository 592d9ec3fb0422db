# Two commands for a newcomer: `make run` (the product on SQLite with demo data) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# One stamp per install set, so `make test` after `make run` adds the test tools.
RUN_STAMP := $(VENV)/.installed-run
DEV_STAMP := $(VENV)/.installed-dev
PIP_INSTALL := $(BIN)/pip install --quiet

VENDOR := web/static/vendor
ASSETS_STAMP := $(VENDOR)/.installed

# uv only writes the locks, so it lives in a throwaway venv, not in the project's.
LOCK_TOOL := /tmp/engine-lock-tool
UV_COMPILE := $(LOCK_TOOL)/bin/uv pip compile --quiet --universal --python-version 3.11 --custom-compile-command "make lock"

.PHONY: run serve test lint setup dev-setup assets modeler-bundle migrate deploy bench lock clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP_INSTALL) --upgrade pip

# requirements*.txt say what to install; the locks pin it and every indirect package, so a pin
# changed without `make lock` fails here instead of installing something untested.
$(RUN_STAMP): requirements.txt requirements.lock | $(BIN)/python
	$(PIP_INSTALL) -r requirements.txt -c requirements.lock
	touch $@

$(DEV_STAMP): requirements.txt requirements-dev.txt requirements-dev.lock | $(BIN)/python
	$(PIP_INSTALL) -r requirements-dev.txt -c requirements-dev.lock
	touch $@

# Browser assets come from npm (pinned in package-lock.json) and keep their licence files.
$(ASSETS_STAMP): package.json package-lock.json $(wildcard web/modeler/src/*)
	npm ci --no-audit --no-fund --loglevel=error
	mkdir -p $(VENDOR)/bpmn-js
	cp node_modules/bpmn-js/dist/bpmn-navigated-viewer.production.min.js node_modules/bpmn-js/LICENSE $(VENDOR)/bpmn-js/
	cp -r node_modules/bpmn-js/dist/assets $(VENDOR)/bpmn-js/
	mkdir -p $(VENDOR)/axe-core
	cp node_modules/axe-core/axe.min.js node_modules/axe-core/LICENSE $(VENDOR)/axe-core/
	$(MAKE) --no-print-directory modeler-bundle
	touch $(ASSETS_STAMP)

# The analyst's modeler (web/modeler/src, docs/workbench.md): one esbuild bundle, its CSS and the licences.
MODELER := $(VENDOR)/modeler
modeler-bundle:
	mkdir -p $(MODELER)/bpmn-js $(MODELER)/properties-panel $(MODELER)/bpmn-js-properties-panel
	node_modules/.bin/esbuild web/modeler/src/index.js --bundle --minify --format=iife --log-level=warning --outfile=$(MODELER)/modeler.js
	cp -r node_modules/bpmn-js/dist/assets node_modules/bpmn-js/LICENSE $(MODELER)/bpmn-js/
	cp node_modules/@bpmn-io/properties-panel/dist/assets/properties-panel.css node_modules/@bpmn-io/properties-panel/LICENSE $(MODELER)/properties-panel/
	cp node_modules/bpmn-js-properties-panel/LICENSE $(MODELER)/bpmn-js-properties-panel/

assets: $(ASSETS_STAMP)

setup: $(RUN_STAMP) $(ASSETS_STAMP)

dev-setup: $(DEV_STAMP) $(ASSETS_STAMP)

migrate: setup
	$(BIN)/python -m engine migrate

deploy: migrate
	$(BIN)/python -m engine deploy

# Migrates the SQLite file under var/, deploys processes/*.bpmn, serves http://127.0.0.1:5000
run: deploy
	DEMO_DATA=$${DEMO_DATA:-1} LOG_FORMAT=$${LOG_FORMAT:-text} $(BIN)/python -m web

# Production on one machine (README "Production"): gunicorn web workers and timer workers on DATABASE_URL.
serve: setup
	$(BIN)/python -m engine serve

# Style (ruff.toml) and the engine's layering (.importlinter) fail fast, before the slow tests.
lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports

# SQLite always; PostgreSQL too when TEST_DATABASE_URL is set (see .ci/run).
test: dev-setup lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: setup
	$(BIN)/python bench/engine.py

# After editing requirements*.txt. Keeps existing pins unless the .txt asks otherwise;
# the dev lock is solved against the runtime lock so both install the same runtime versions.
lock:
	test -x $(LOCK_TOOL)/bin/uv || { $(PYTHON) -m venv $(LOCK_TOOL) && $(LOCK_TOOL)/bin/pip install --quiet uv==0.13.9; }
	$(UV_COMPILE) requirements.txt -o requirements.lock
	$(UV_COMPILE) requirements-dev.txt -c requirements.lock -o requirements-dev.lock

clean:
	rm -rf $(VENV) var node_modules $(VENDOR) .ruff_cache .import_linter_cache
