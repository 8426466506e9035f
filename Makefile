# Two entry points for a fresh machine: `make run` and `make test`.
# Everything they need is installed here, into .venv and tests/js/node_modules.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
DATA   ?= ./data

.PHONY: run test lint typecheck unit integration bench clean

$(BIN)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "counsel needs Python >= 3.11"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@

venv: $(BIN)/.installed

run: $(BIN)/.installed
	$(BIN)/counsel up --data $(DATA)

lint: $(BIN)/.installed
	$(BIN)/ruff check homeserver_bridge counsel_bot e2e tests bench deploy
	$(BIN)/mypy

# Element's own crypto stack (matrix-js-sdk + Rust crypto) as an independent test client.
tests/js/node_modules/.package-lock.json: tests/js/package-lock.json
	cd tests/js && npm ci --no-audit --no-fund

# Browser tests drive Debian's Chromium (Playwright's own browser download cannot work here).
CHROMIUM ?= /usr/bin/chromium
$(CHROMIUM):
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium

test: $(BIN)/.installed tests/js/node_modules/.package-lock.json $(CHROMIUM)
	$(MAKE) lint
	$(BIN)/pytest -q -p no:cacheprovider

bench: $(BIN)/.installed
	$(BIN)/python -m bench  # ~20 min; `$(BIN)/python -m bench --quick` for a 1-minute smoke run

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
