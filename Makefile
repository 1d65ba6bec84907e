# Two commands do everything on a fresh machine with Python 3.11:
#   make demo   - install, then run contract-sync on the built-in sandbox
#   make test   - install, then lint and run the test suite
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

# Embedded Prefect: no server to start by hand; runs are kept in .prefect/ for `make ui`.
export PREFECT_HOME ?= $(CURDIR)/.prefect
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS := 90

.PHONY: install demo demo-events test lint format bench soak ui blocks serve clean constraints

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "billing-sync needs Python 3.11"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	@# PYTHONDONTWRITEBYTECODE is set on our machines; without bytecode Prefect imports take 2x.
	$(BIN)/python -m compileall -q -j 0 $(VENV)/lib > /dev/null || true
	touch $(STAMP)

demo: install
	$(BIN)/python -m sandbox.demo

# The second demo: subscription-events on a SQLite gym ERP against the Mundipagg sandbox.
demo-events: install
	$(BIN)/python -m sandbox.gym_demo

# The suite runs three times: on today's date, with every process's clock moved 400+ days ahead
# (to 23:57 in Sao Paulo on a month's last day, the machine in UTC), and subscription-events
# 3,000+ days ahead. No test may depend on the calendar or the machine's time zone.
test: install lint
	$(BIN)/python -m pytest -q
	$(BIN)/python tests/clock_moved.py --days 400 -q
	$(BIN)/python tests/clock_moved.py --days 3000 -q tests/subscription_events

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: install
	$(BIN)/python -m benchmarks.contract_sync
	$(BIN)/python -m benchmarks.subscription_events

soak: install
	$(BIN)/python -m benchmarks.soak

ui: install
	$(BIN)/prefect server start --host 127.0.0.1

blocks: install
	$(BIN)/prefect block register -m blocks.magnusbilling.block
	$(BIN)/prefect block register -m blocks.ixc.block
	$(BIN)/prefect block register -m blocks.discord.block
	$(BIN)/prefect block register -m blocks.mundipagg.block
	$(BIN)/prefect block register -m blocks.gym_erp.block
	$(BIN)/prefect block register -m blocks.gym_erp.cards
	$(BIN)/python -m deployments.create_blocks

serve: install
	$(BIN)/python -m deployments.serve

# After changing dependencies in pyproject.toml and testing them: pin what was tested.
constraints: install
	(sed -n 1,2p constraints.txt; $(BIN)/pip freeze --exclude-editable | grep -v -i '^billing-sync') > constraints.txt.new
	mv constraints.txt.new constraints.txt

clean:
	rm -rf $(VENV) .prefect .pytest_cache .ruff_cache *.egg-info
