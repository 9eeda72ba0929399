# The two commands a newcomer needs (see README.md):
#   make run    - local Kafka, FerretDB, SMTP capture, the three services and the demo data
#   make test   - the whole test suite against the same real components
# Everything downloaded lives in $(CACHE) (outside the repository).

CACHE ?= $(or $(EMM_CACHE_DIR),$(HOME)/.cache/emm-tot)
PY := $(CACHE)/venv/bin/python
export EMM_CACHE_DIR := $(CACHE)
# This checkout's own packages, ahead of anything installed in the shared venv.
export PYTHONPATH := $(CURDIR)/services/shared:$(CURDIR)/services/registration:$(CURDIR)/services/evaluation:$(CURDIR)/services/notification:$(CURDIR)/services/portal:$(CURDIR)

.PHONY: run stop status test test-slow test-faults bootstrap stack token bench switch-over republish

bootstrap:
	@deploy/local/bootstrap.sh

stack: bootstrap
	@$(PY) deploy/local/stack.py start

run: stack
	@$(PY) deploy/local/services.py start
	@$(PY) deploy/local/demo.py

stop: bootstrap
	@$(PY) deploy/local/services.py stop
	@$(PY) deploy/local/stack.py stop

status: bootstrap
	@$(PY) deploy/local/stack.py status; $(PY) deploy/local/services.py status

test: bootstrap
	@deploy/local/run_tests.sh $(ARGS)

test-slow: bootstrap
	@deploy/local/run_tests.sh -m slow $(ARGS)

# The fault-injection suite with 5,024 commands (make test runs its 1,024-command variant)
test-faults: bootstrap
	@deploy/local/run_tests.sh tests/faults -m slow -s $(ARGS)

# A bearer token for the local APIs: make token ROLE=organizer [SUBJECT=me]
token: bootstrap
	@$(PY) -m emm_common.auth token $(or $(ROLE),organizer) $(or $(SUBJECT),me)

# A benchmark against the running local stack: make bench BENCH=combined|enrollment|evaluation_rebuild|notification_delivery|page_weight|round_trips|ferretdb_backends [ARGS=...]
# (page_weight measures the portal's pages, so it wants `make run` first)
bench: stack
	@command -v wrk >/dev/null || { apt-get install -y -qq wrk || { apt-get update -qq && apt-get install -y -qq wrk; }; }
	@$(PY) deploy/bench/$(BENCH).py $(ARGS)

# Rebuild a service's projections into a new database and switch the local service over to it
# (docs/operations.md): make switch-over SERVICE=evaluation|notification [ARGS="--database NAME"]
switch-over: bootstrap
	@$(PY) -m emm_$(SERVICE).entrypoints.switch_over --stop "$(PY) deploy/local/services.py stop $(SERVICE)" \
		--start "$(PY) deploy/local/services.py start $(SERVICE)" $(ARGS)

# Send chosen dead letters back to their topics after a fix (docs/operations.md):
# make republish SERVICE=evaluation|notification ARGS='--reason "unknown event type" [--dry-run]'
republish: bootstrap
	@$(PY) -m emm_common.dead_letters --service $(SERVICE) $(ARGS)
