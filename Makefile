# stockmesh: `make up` runs the system locally, `make test` runs every check.
# Both install what they need on first use (.venv from pyproject.toml, buf, Vite and the console's
# packages from npm, the console's build in console/dist/; `make test` also Debian's chromium).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
NODE_BIN := node_modules/.bin
BUF := $(NODE_BIN)/buf
STAMP := $(VENV)/.installed
CONSOLE := console/dist/index.html
# Every file of the console but its own build output.
CONSOLE_SOURCES := $(shell find console -path console/dist -prune -o -path console/node_modules -prune -o -type f -print 2>/dev/null)

.DEFAULT_GOAL := help
.PHONY: help up test tools cluster edge-context console console-screenshots dr-drill browser check lint typecheck proto-lint proto-breaking gen gen-check unit pytest mesh mesh-graph migrate admin certs demo smoke bench bench-gateway scale clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-15s %s\n", $$1, $$2}'

# New top-level packages (a new svc_*) need a reinstall for the editable finder.
$(STAMP): pyproject.toml $(wildcard svc_*/__init__.py) $(wildcard tools/__init__.py) $(wildcard gateway/__init__.py) $(wildcard clients/__init__.py)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

# The Node tools (buf, Istio's CRD schemas for kit/mesh/schemas.mjs, Vite) and the
# console's packages are pinned exactly in package.json; no lockfile, because the registry mirror here
# carries only some of buf's per-platform optional packages. buf stands for the
# whole install: any change to package.json reinstalls everything.
$(BUF): package.json
	npm install --no-audit --no-fund --loglevel=error
	@touch $@

# The operator console, which the gateway serves at /console. `vite build console` takes the
# config Vite finds in console/ (vite.config.*); the build's index.html stands for the whole
# build, so an edited source, or a new npm install, rebuilds it.
$(CONSOLE): $(BUF) $(CONSOLE_SOURCES)
	$(NODE_BIN)/vite build console
	@touch $@

console: $(CONSOLE) ## Build the operator console (console/ → console/dist) with Vite

console-screenshots: $(STAMP) $(BUF) $(CONSOLE) browser ## Retake docs/console/*.png by running the console's browser tests
	STOCKMESH_CONSOLE_SCREENSHOTS=docs/console $(BIN)/python -m pytest -q tests/e2e/console/

dr-drill: $(STAMP) ## Disaster-recovery drill on the local PostgreSQL: backup under traffic, restore, checks (docs/operations.md)
	$(BIN)/python ci/dr-drill $(ARGS)

browser: ## Install what the tests need from Debian when missing: chromium (console tests), promtool (alert rules)
	bash ci/debian-packages.sh

# Tools whose pins conflict with the project's (checkov, ansible-core) get a venv of their own.
TOOLS := .build/tools/.installed
$(TOOLS): ci/tools.txt
	@test -x .build/tools/bin/python || $(PYTHON) -m venv .build/tools
	.build/tools/bin/python -m pip install --quiet --upgrade pip
	.build/tools/bin/python -m pip install --quiet -r ci/tools.txt
	@touch $@

tools: $(TOOLS) ## Install checkov and ansible-core in .build/tools (apart from .venv's pins)

cluster: $(STAMP) $(BUF) $(TOOLS) ## Render and check cluster/, infra/, the workflows and the Dockerfile
	$(BIN)/python -m pytest -q tests/cluster tests/platform tests/pipeline

edge-context: $(STAMP) $(BUF) ## The Envoy edge image's build context in .build/edge (envoy.yaml, descriptor set)
	$(BIN)/python ci/protos.py edge-context

up: $(STAMP) $(CONSOLE) ## Run every service locally (mTLS on 127.0.0.1, SQLite files in .stockmesh/)
	$(BIN)/stockmesh up

test: $(STAMP) $(BUF) $(CONSOLE) $(TOOLS) browser ## Run the whole suite: lint, types, contracts, then pytest
	$(BIN)/python ci/test.py

lint: $(STAMP) ## ruff (lint + format check) and the layer check
	$(BIN)/python ci/test.py --only lint

typecheck: $(STAMP) ## mypy --strict outside gen/
	$(BIN)/python ci/test.py --only types

proto-lint: $(STAMP) $(BUF) ## buf lint
	$(BIN)/python ci/test.py --only buf-lint

proto-breaking: $(STAMP) $(BUF) ## buf breaking against main's history
	$(BIN)/python ci/test.py --only buf-breaking

gen: $(STAMP) ## Regenerate gen/ from proto/
	$(BIN)/python ci/protos.py generate

gen-check: $(STAMP) ## Fail if gen/ is stale
	$(BIN)/python ci/protos.py check

unit: $(STAMP) $(BUF) ## The fast specifications alone: every use case on in-memory fakes, no database or service
	$(BIN)/python -m pytest -q tests/unit $(ARGS)

pytest: $(STAMP) $(BUF) ## Only the pytest suite (ARGS=... passes options)
	$(BIN)/python -m pytest $(ARGS)

mesh: $(STAMP) $(BUF) ## Check mesh/istio: every service's resources, real accounts and RPCs, safe retries, Istio's schemas
	$(BIN)/python ci/test.py --only mesh

mesh-graph: $(STAMP) ## Who may call what, from mesh/istio (ARGS=--format mermaid)
	$(BIN)/stockmesh mesh graph $(ARGS)

migrate: $(STAMP) ## Apply every service's migrations to its DATABASE_URL / SQLite file
	$(BIN)/stockmesh migrate

admin: $(STAMP) ## Create a tenant and its first admin (prompts)
	$(BIN)/stockmesh create-admin

certs: $(STAMP) ## Issue the dev CA and every service's certificate
	$(BIN)/stockmesh certs

demo: $(STAMP) ## Load the demo tenant through the REST API of a running `make up` (idempotent)
	$(BIN)/stockmesh demo $(ARGS)

smoke: $(STAMP) ## HTTP probe of a running system (ARGS=--base-url URL --tenant T --email E; password in STOCKMESH_SMOKE_PASSWORD)
	$(BIN)/python ci/smoke $(ARGS)

bench: $(STAMP) ## Reservation throughput vs a bare UPDATE loop on PostgreSQL (ARGS="--against main --rounds 5" compares a revision)
	$(BIN)/python -m bench.reservations $(ARGS)

scale: $(STAMP) ## How every read grows from 1k to 100k SKUs on PostgreSQL, with plans (ARGS=--sizes 1000 10000 --calls 50)
	$(BIN)/python -m bench.scale $(ARGS)

bench-gateway: $(STAMP) ## REST gateway vs direct gRPC, SSE fan-out to 1,000 subscribers (ARGS=--compare-servers --profile)
	$(BIN)/python -m bench.gateway $(ARGS)

clean: ## Remove local state (.stockmesh/), build output and caches
	rm -rf .stockmesh .build .mypy_cache .ruff_cache .pytest_cache console/dist
