# Two commands for a newcomer: `make run` (the product on SQLite with demo data) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

VENDOR := web/static/vendor
ASSETS_STAMP := $(VENDOR)/.installed

.PHONY: run test setup assets migrate deploy bench clean

$(STAMP): requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	touch $(STAMP)

# Browser assets come from npm (pinned in package-lock.json) and keep their licence files.
$(ASSETS_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	mkdir -p $(VENDOR)/bpmn-js
	cp node_modules/bpmn-js/dist/bpmn-navigated-viewer.production.min.js node_modules/bpmn-js/LICENSE $(VENDOR)/bpmn-js/
	cp -r node_modules/bpmn-js/dist/assets $(VENDOR)/bpmn-js/
	touch $(ASSETS_STAMP)

assets: $(ASSETS_STAMP)

setup: $(STAMP) $(ASSETS_STAMP)

migrate: setup
	$(BIN)/python -m engine migrate

deploy: migrate
	$(BIN)/python -m engine deploy

# Migrates the SQLite file under var/, deploys processes/*.bpmn, serves http://127.0.0.1:5000
run: deploy
	DEMO_DATA=$${DEMO_DATA:-1} $(BIN)/python -m web

# SQLite always; PostgreSQL too when TEST_DATABASE_URL is set (see .ci/run).
test: setup
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: setup
	$(BIN)/python bench/engine.py

clean:
	rm -rf $(VENV) var node_modules $(VENDOR)
