# Lightbox: `make demo` runs the whole platform on sample data; `make test` runs every test.
# Both set themselves up from nothing: virtual environment, install, embedded database.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install system-deps test test-fast demo up bench lint clean

# requirements-dev.txt includes requirements.txt: the runtime pins plus the tests' and tools'.
$(STAMP): requirements.txt requirements-dev.txt constraints.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt -c constraints.txt
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

# Debian packages the tests need (Chromium for the browser tests, redis-server for the cluster).
system-deps:
	@bash scripts/system-deps.sh

# Every test, the slow suites included (what CI runs).
test: install system-deps
	$(BIN)/pytest

# The quick loop while developing: skips the suites marked slow.
test-fast: install
	$(BIN)/pytest -m "not slow"

demo: install
	$(BIN)/lightbox demo

up: install
	$(BIN)/lightbox up

lint: install
	$(BIN)/ruff check .
	$(BIN)/sqlfluff lint dbt/models

clean:
	-$(BIN)/lightbox db stop
	rm -rf .lightbox
