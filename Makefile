# Two entry points for a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TAHUN ?= 2025
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export GX_ANALYTICS_ENABLED := false
export PREFECT_HOME := $(CURDIR)/.prefect

.PHONY: run test lint sample install clean browser

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

sample: $(STAMP)
	$(BIN)/rkpd sample --tahun $(TAHUN)

run: sample
	$(BIN)/rkpd run --tahun $(TAHUN)

# pytest-xdist workers; the tests of the shared sample run stay on one (--dist loadgroup)
TEST_WORKERS ?= 2
test: $(STAMP)
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadgroup

lint: $(STAMP)  # ruff: lint and format, configured in pyproject.toml
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

browser:  # Debian's chromium, for the test that renders the run report headless
	scripts/install-browser.sh

clean:
	rm -rf data .prefect
