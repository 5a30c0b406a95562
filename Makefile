# claims-processor. The two commands a newcomer needs:
#   make demo   local Kafka + worker + sample claims streamed through, a summary (KEEP=1 keeps it running)
#   make test   lint, types, schemas in sync, and every test (the broker tests start their own Kafka)
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test setup prereqs prereqs-demo kafka-jars lint typecheck schemas check-schemas unit integration stop clean

$(STAMP): pyproject.toml constraints.txt
	PYTHON=$(PYTHON) ops/prereqs.sh demo
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP) kafka-jars

kafka-jars:
	PYTHON=$(PY) ops/kafka/kafka.sh fetch

prereqs:
	PYTHON=$(PYTHON) ops/prereqs.sh test

prereqs-demo:
	PYTHON=$(PYTHON) ops/prereqs.sh demo

demo: prereqs-demo setup
	$(VENV)/bin/claims-processor demo $(if $(filter 1,$(KEEP)),--keep,)

test: prereqs setup
	$(VENV)/bin/ruff check processor tests ops
	$(VENV)/bin/ruff format --check processor tests ops
	$(VENV)/bin/mypy
	$(PY) -m processor.models.schemas --check
	$(VENV)/bin/pytest -ra

unit: $(STAMP)
	$(VENV)/bin/pytest -ra -m 'not kafka' --ignore=tests/integration

integration: prereqs setup
	$(VENV)/bin/pytest -ra tests/integration

schemas: $(STAMP)
	$(PY) -m processor.models.schemas

stop:
	-pkill -f 'processor worker' || true
	PYTHON=$(PY) ops/kafka/kafka.sh stop

clean: stop
	rm -rf .run $(VENV) ops/kafka/libs
