# Two entry points for a fresh machine: `make run` and `make test`.
# Everything they need is installed here, into .venv and tests/js/node_modules.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
DATA   ?= ./data

.PHONY: run test lint typecheck unit integration bench clean postgresql-server

# Debian's own python3 comes without venv's pip (package python3-venv): installed then.
$(BIN)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "counsel needs Python >= 3.11"'
	$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV) && apt-get update -qq \
	  && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv \
	  && $(PYTHON) -m venv $(VENV); }
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

# The PostgreSQL store's tests start a throwaway cluster with Debian's server binaries (any
# version). policy-rc.d keeps Debian from starting its default cluster on :5432 meanwhile.
PG_INITDB := $(wildcard /usr/lib/postgresql/*/bin/initdb)
postgresql-server:
ifeq ($(PG_INITDB),)
	apt-get update -qq
	made=0; if [ ! -e /usr/sbin/policy-rc.d ]; then printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d; \
	  chmod 755 /usr/sbin/policy-rc.d; made=1; fi; \
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql; status=$$?; \
	[ $$made = 1 ] && rm -f /usr/sbin/policy-rc.d; exit $$status
endif

# The suite runs in a worker per core (two here), each with its own Synapse and PostgreSQL;
# a file's tests stay together in one worker. Most integration time is waiting on the
# homeserver, so two workers on two cores nearly halve it. A third was measured (CI 85, 86:
# no faster beside other work, and a test that passes with two failed twice with three).
# The slowest tests are listed at the end: CI's budget is watched there.
TEST_WORKERS ?= 2
test: $(BIN)/.installed tests/js/node_modules/.package-lock.json $(CHROMIUM) postgresql-server
	$(MAKE) lint
	$(BIN)/pytest -q -p no:cacheprovider -n $(TEST_WORKERS) --dist loadfile --durations=25

bench: $(BIN)/.installed
	$(BIN)/python -m bench  # ~20 min; `$(BIN)/python -m bench --quick` for a 1-minute smoke run

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
