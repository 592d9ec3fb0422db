# Two commands for a newcomer: `make run` (the product on SQLite with demo data) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test setup migrate deploy bench clean

$(STAMP): requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	touch $(STAMP)

setup: $(STAMP)

migrate: setup
	$(BIN)/python -m engine migrate

deploy: migrate
	$(BIN)/python -m engine deploy

# Migrates the SQLite file under var/, deploys processes/*.bpmn, serves http://127.0.0.1:5000
run: deploy
	$(BIN)/python -m web

# SQLite always; PostgreSQL too when TEST_DATABASE_URL is set (see .ci/run).
test: setup
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: setup
	$(BIN)/python bench/engine.py

clean:
	rm -rf $(VENV) var
