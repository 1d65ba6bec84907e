# Two commands do everything on a fresh machine with Python 3.11:
#   make demo   - install, then run contract-sync on the built-in sandbox
#   make test   - install, then lint and run the test suite
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

# Embedded Prefect for demo and tests: no server to start by hand; runs are kept in .prefect/.
export PREFECT_HOME ?= $(CURDIR)/.prefect
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS := 90

# Running it as operators do: a Prefect server (`make server`), and every other step talking to
# it. `eval "$$(make -s env)"` gives a shell the same settings, so bare `prefect` commands see
# the same server, blocks and deployments as these targets.
PREFECT_PORT ?= 4200
SERVER_API_URL := http://127.0.0.1:$(PREFECT_PORT)/api
# The server lets no one in without its credential (basic auth), generated on the first
# `make server` into the operator's environment file (mode 600, under the git-ignored PREFECT_HOME);
# every target that talks to the server sends it.
OPERATOR_ENV := $(PREFECT_HOME)/operator.env
READ_CREDENTIAL := sed -n 's/^PREFECT_API_AUTH_STRING=//p' "$(OPERATOR_ENV)" 2>/dev/null
OPERATOR_TARGETS := blocks automations pools deploy worker serve sandbox approve explain hold holds unhold
$(OPERATOR_TARGETS): export PREFECT_API_URL ?= $(SERVER_API_URL)
$(OPERATOR_TARGETS): export PREFECT_API_AUTH_STRING ?= $(shell $(READ_CREDENTIAL))
# Leases (the contract-sync run lock) survive a server restart only in file storage. The UI is
# told where its API is (else it follows a PREFECT_API_URL the shell may have for another server);
# behind a reverse proxy set both to the public https address (see the README).
PREFECT_UI_URL ?= http://127.0.0.1:$(PREFECT_PORT)
PREFECT_SERVER_UI_API_URL ?= $(SERVER_API_URL)
SERVER_SETTINGS := PREFECT_SERVER_CONCURRENCY_LEASE_STORAGE=prefect.server.concurrency.lease_storage.filesystem \
	PREFECT_UI_URL=$(PREFECT_UI_URL) PREFECT_SERVER_UI_API_URL=$(PREFECT_SERVER_UI_API_URL)

.PHONY: install demo demo-events test docker-tools lint format bench soak ui server env pools blocks \
	automations deploy worker serve sandbox approve clean constraints explain hold holds unhold

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

# The second demo: subscription-events on a SQLite gym ERP against the Pagar.me (Mundipagg) sandbox.
demo-events: install
	$(BIN)/python -m sandbox.gym_demo

# The suite runs three times: on today's date, with every process's clock moved 400+ days ahead
# (to 23:57 in Sao Paulo on a month's last day, the machine in UTC), and subscription-events
# 3,000+ days ahead (its moved-clock pass; it is left out of the 400-day one, which it would only
# repeat). No test may depend on the calendar or the machine's time zone. The tests
# against real servers and containers (`deployed`, `docker`: minutes each, nothing of their own
# that depends on the date) run once, in the first pass, and so do the flow tests below: every
# date they meet is the run's own "now", and what they check (writes, locks, retries, faults,
# secrets) holds on any day; since saves go one at a time they take most of the suite's time. The
# flow tests where dates matter (holds and their expiry, history and its retention, approval
# deadlines, explain, Retry-After dates) run in every pass.
ONCE_ONLY := not deployed and not docker
DATE_FREE_FLOW_TESTS := tests/contract_sync/test_contract_sync_flow.py \
	tests/contract_sync/test_restore_lane.py tests/contract_sync/test_writes.py \
	tests/contract_sync/test_run_lock.py tests/contract_sync/test_crash_safety.py \
	tests/contract_sync/test_faults.py tests/contract_sync/test_retries.py \
	tests/contract_sync/test_secrets.py tests/contract_sync/test_bad_inputs.py
# Each pass spreads its tests over TEST_PROCESSES processes (a flow test mostly waits: saves one
# at a time, locks, retries); tests/conftest.py keeps each deployed module (a Prefect server) in
# one process and starts the longest tests (Docker, deployed, flows) first.
TEST_PROCESSES ?= 6
PARALLEL := -n $(TEST_PROCESSES) --dist loadscope --no-loadscope-reorder
test: install lint docker-tools
	$(BIN)/python -m pytest -q $(PARALLEL)
	$(BIN)/python tests/clock_moved.py --days 400 -q $(PARALLEL) -m '$(ONCE_ONLY)' \
		$(addprefix --ignore=,$(DATE_FREE_FLOW_TESTS)) --ignore=tests/subscription_events
	$(BIN)/python tests/clock_moved.py --days 3000 -q $(PARALLEL) -m '$(ONCE_ONLY)' tests/subscription_events

# The Docker deployment's test (tests/deployed/test_docker.py) starts a Docker daemon of its own:
# it needs root and Debian's docker.io, debootstrap and docker-registry. In CI (root, CI=true)
# this installs what is missing; elsewhere the test is skipped and says why.
DOCKER_TOOLS := dockerd:docker.io debootstrap:debootstrap docker-registry:docker-registry
docker-tools:
	@missing=$$(for tool in $(DOCKER_TOOLS); do command -v $${tool%%:*} > /dev/null || echo $${tool#*:}; done); \
	if [ -n "$$missing" ] && [ "$$CI" = true ] && [ "$$(id -u)" = 0 ]; then \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; \
	fi

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: install
	$(BIN)/python -m benchmarks.contract_sync
	$(BIN)/python -m benchmarks.subscription_events

soak: install
	$(BIN)/python -m benchmarks.soak

# The Prefect server (SQLite in .prefect/; for PostgreSQL set PREFECT_API_DATABASE_CONNECTION_URL).
server: install
	$(BIN)/python -m deployments.server_auth ensure
	PREFECT_SERVER_API_AUTH_STRING="$$($(READ_CREDENTIAL))" $(SERVER_SETTINGS) \
		$(BIN)/prefect server start --host 127.0.0.1 --port $(PREFECT_PORT)

ui: server

env:
	@echo 'export PREFECT_HOME="$(PREFECT_HOME)"'
	@echo 'export PREFECT_API_URL="$${PREFECT_API_URL:-$(SERVER_API_URL)}"'
	@echo 'export PREFECT_API_AUTH_STRING="$${PREFECT_API_AUTH_STRING:-$$($(READ_CREDENTIAL))}"'
	@echo 'export PREFECT_SERVER_ANALYTICS_ENABLED=false'
	@echo 'export PATH="$(CURDIR)/$(BIN):$$PATH"'

pools: install
	$(BIN)/prefect work-pool create billing-sync-process --type process --overwrite

automations: install
	$(BIN)/python -m deployments.automations

deploy: install
	$(BIN)/python -m deployments.deploy

worker: install
	$(BIN)/prefect worker start --pool billing-sync-process

# Runs waiting for approval (no RUN), or answer one: make approve RUN=<id or name> DECISION=--approve NOTE="..."
approve: install
	$(BIN)/python -m deployments.approve $(RUN) $(DECISION) $(if $(NOTE),--note "$(NOTE)")

# The demo provider's systems on fixed ports (8781-8783), with blocks named `default` for them;
# other ports: make sandbox SANDBOX_PORTS="--magnus-port 9781 --ixc-port 9782 --discord-port 9783"
sandbox: install
	$(BIN)/python -m sandbox --save-blocks default $(SANDBOX_PORTS)

blocks: install
	$(BIN)/prefect block register -m blocks.magnusbilling.block
	$(BIN)/prefect block register -m blocks.ixc.block
	$(BIN)/prefect block register -m blocks.discord.block
	$(BIN)/prefect block register -m blocks.mundipagg.block
	$(BIN)/prefect block register -m blocks.gym_erp.block
	$(BIN)/prefect block register -m blocks.gym_erp.cards
	$(BIN)/prefect block register -m contract_sync.records.block
	$(BIN)/python -m deployments.create_blocks

serve: install
	$(BIN)/python -m deployments.serve

# Operators' questions: `make explain CUSTOMER=12345` (why is this customer like this?), and
# holds: `make hold CUSTOMER=12345 REASON="dívida negociada" [UNTIL=31/12/2026]`, `make holds`,
# `make unhold CUSTOMER=12345`. CUSTOMER is the MagnusBilling username.
explain hold unhold: need-customer
need-customer:
	@test -n "$(CUSTOMER)" || { echo 'set CUSTOMER=<MagnusBilling username>'; exit 2; }

explain: install
	$(BIN)/python -m deployments.explain '$(CUSTOMER)'

hold: install
	$(BIN)/python -m deployments.holds add '$(CUSTOMER)' --reason '$(REASON)' $(if $(UNTIL),--until '$(UNTIL)')

holds: install
	$(BIN)/python -m deployments.holds list

unhold: install
	$(BIN)/python -m deployments.holds remove '$(CUSTOMER)'

# After changing dependencies in pyproject.toml and testing them: pin what was tested.
constraints: install
	(sed -n 1,2p constraints.txt; $(BIN)/pip freeze --exclude-editable | grep -v -i '^billing-sync') > constraints.txt.new
	mv constraints.txt.new constraints.txt

clean:
	rm -rf $(VENV) .prefect .pytest_cache .ruff_cache .mypy_cache *.egg-info
