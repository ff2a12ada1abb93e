# The two commands a newcomer needs: `make run` and `make test`.
# Only Python 3.11+ and make are assumed; uv is bootstrapped into .venv-tools from PyPI
# and installs the locked dependencies (uv.lock) into .venv.

PYTHON ?= python3
UV_VERSION := 0.13.8
TOOLS := .venv-tools
UV := $(TOOLS)/bin/uv
VENV := .venv
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: install run test lint typecheck schemas clean

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"

$(VENV)/.installed: $(UV) uv.lock pyproject.toml contracts/pyproject.toml vault/pyproject.toml runtime/pyproject.toml services/intake/pyproject.toml services/ledger/pyproject.toml deploy/pyproject.toml
	$(UV) sync --frozen --all-packages --python "$$(command -v $(PYTHON))"
	@touch $@

install: $(VENV)/.installed

run: install
	$(VENV)/bin/python -m careledger.stack

test: install
	$(VENV)/bin/python -m pytest

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: install
	$(VENV)/bin/mypy contracts/src vault/src runtime/src services/intake/src services/ledger/src deploy/src

schemas: install
	$(VENV)/bin/python -m careledger.contracts.schema contracts/schemas
	$(VENV)/bin/python -m careledger.contracts.asyncapi contracts/asyncapi
	$(VENV)/bin/python -m careledger.intake.entrypoints.openapi services/intake/openapi.json
	$(VENV)/bin/python -m careledger.ledger.entrypoints.openapi services/ledger/openapi.json

clean:
	rm -rf $(VENV) $(TOOLS) var/

# Speed as a ratio to this machine's own ceilings (docs/performance.md); ARGS=--full for 1M.
.PHONY: bench
bench: install
	$(VENV)/bin/python -m bench.run $(ARGS)

# The fault suite at length (docs/reliability.md): 10x the commands and faults of the short
# version that `make test` runs; logs and files of the last run stay in var/chaos/.
# CARELEDGER_CHAOS_SEED=<n> replays a run's choices.
.PHONY: chaos
chaos: install
	mkdir -p var
	CARELEDGER_CHAOS_SCALE=long $(VENV)/bin/python -m pytest tests/chaos -q -s --basetemp=var/chaos
