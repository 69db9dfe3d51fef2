# One command per developer task; CI runs `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV := .tools/bin/uv
UV_VERSION := 0.13.9
INSTALLED := $(VENV)/.installed
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export PYTHONDONTWRITEBYTECODE :=


.PHONY: bench-deps
.PHONY: fault-run
.PHONY: help install local test test-slow lint format models generated synth deploy destroy clean

help:
	@echo "make local   run the whole system locally (moto server + Graph API simulator)"
	@echo "make test    run every test"
	@echo "make lint    ruff + mypy (strict)"
	@echo "make fault-run  10,000 messages with Meta failing and senders killed; figures to benchmarks/RESULTS.md"
	@echo "make models  regenerate pydantic models from Meta's OpenAPI spec"
	@echo "make generated  regenerate docs/error-codes.md and docs/contract/"
	@echo "make synth   synthesize the CDK app into cdk.out"
	@echo "make deploy  deploy with the pinned CDK CLI"

$(UV):
	$(PYTHON) -m venv .tools
	.tools/bin/python -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"

# uv is about 25x faster than pip here; bytecode is compiled so imports stay fast.
$(INSTALLED): pyproject.toml requirements/constraints.txt | $(UV)
	$(UV) venv --quiet --allow-existing --python "$$($(PYTHON) -c 'import sys; print(sys.executable)')" $(VENV)
	$(UV) pip install --quiet --python $(BIN)/python --compile-bytecode \
		--constraints requirements/constraints.txt -e . --group dev --group infra --group local
	touch $@

install: $(INSTALLED)

local: $(INSTALLED)
	$(BIN)/pixy-whatsapp local $(ARGS)

test: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy layers/core/python functions
	$(BIN)/python -m pytest -n 2 -m "not slow" $(PYTEST_ARGS)

test-slow: $(INSTALLED)
	$(BIN)/python -m pytest -m slow $(PYTEST_ARGS)

# Fault injection at scale (tests/e2e/test_fault_run.py), alone, figures recorded; takes
# 10+ minutes. FAULT_RUN_MESSAGES=1000 runs a smaller one. flock keeps it from sharing
# the machine with other benchmarks.
fault-run: FAULT_RUN_MESSAGES ?= 10000
fault-run: $(INSTALLED)
	$$(command -v flock >/dev/null 2>&1 && echo flock /tmp/pixy-bench.lock) \
		env PIXY_WRITE_RESULTS=1 PIXY_FAULT_RUN_MESSAGES=$(FAULT_RUN_MESSAGES) \
		$(BIN)/python -m pytest -m slow -p no:cacheprovider tests/e2e/test_fault_run.py $(PYTEST_ARGS)

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy layers/core/python functions

format: $(INSTALLED)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

models: $(INSTALLED)
	$(BIN)/python -m tools.generate_models

# Generated documents: the error table, the queue/API contracts and the event schemas.
generated: $(INSTALLED)
	$(BIN)/python -m pixy_whatsapp.errors.docs
	$(BIN)/python -m pixy_whatsapp.api.export_contracts
	$(BIN)/python -m pixy_whatsapp.events.export_schemas

constraints: | $(UV)
	$(UV) pip compile --quiet --no-header --no-annotate --universal --python-version 3.11 \
		--group pyproject.toml:dev --group pyproject.toml:infra --group pyproject.toml:local --group pyproject.toml:bench pyproject.toml -o requirements/constraints.txt

# Benchmarks compare with pywa, which is installed for them only.
BENCH_INSTALLED := $(VENV)/.bench-installed
$(BENCH_INSTALLED): $(INSTALLED)
	$(UV) pip install --quiet --python $(BIN)/python --compile-bytecode \
		--constraints requirements/constraints.txt -e . --group bench
	touch $@

bench-deps: $(BENCH_INSTALLED)

clean:
	rm -rf $(VENV) .tools cdk.out .pytest_cache .mypy_cache .ruff_cache

# --- AWS CDK: the CLI pinned in package.json; STAGE=prod picks config/prod.json -------
CDK := node_modules/.bin/cdk
CDK_FLAGS := --no-notices $(if $(STAGE),-c stage=$(STAGE)) $(CDK_ARGS)
CDK_ENV := CDK_DISABLE_CLI_TELEMETRY=true

node_modules: package.json $(wildcard package-lock.json)
	if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi
	touch $@

# cdk-nag runs inside the app: an unacknowledged finding fails the synth. Without npm the
# app runs directly, with cdk.json's context handed over as the CLI would.
synth: $(INSTALLED)
	@if command -v npm >/dev/null 2>&1; then \
		$(MAKE) --no-print-directory node_modules && $(CDK_ENV) $(CDK) synth --quiet $(CDK_FLAGS); \
	else \
		CDK_OUTDIR=cdk.out CDK_CONTEXT_JSON="$$($(BIN)/python -c 'import json; c = json.load(open("cdk.json"))["context"]; c.update({"stage": "$(STAGE)"} if "$(STAGE)" else {}); print(json.dumps(c))')" \
			$(BIN)/python app.py; \
	fi

deploy: $(INSTALLED) node_modules
	$(CDK_ENV) $(CDK) deploy --all --require-approval broadening $(CDK_FLAGS)

destroy: $(INSTALLED) node_modules
	$(CDK_ENV) $(CDK) destroy --all $(CDK_FLAGS)
