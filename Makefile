# The two commands of the README: `make demo` (plait's main job) and `make test` (everything).
PY ?= python3
UV := $(PY) -m uv
RUN := $(UV) run --no-sync

.PHONY: setup services demo test lint typecheck

setup:
	$(PY) -m pip install --quiet --disable-pip-version-check "uv>=0.9,<1"
	$(UV) sync --all-packages --locked

# Services the tests need: PostgreSQL server binaries for plait-postgres (its tests start
# a throwaway cluster themselves). Installs with apt-get only when missing.
services:
	sh plugins/postgres/scripts/install-postgres.sh

demo: setup
	$(RUN) python examples/weather_agent.py

lint:
	$(RUN) ruff check .
	$(RUN) ruff format --check .

typecheck:
	$(RUN) mypy

test: setup services lint typecheck
	$(RUN) pytest
