# The two commands of the README: `make demo` (plait's main job) and `make test` (everything).
PY ?= python3
UV := $(PY) -m uv
RUN := $(UV) run --no-sync

.PHONY: setup demo test lint typecheck

setup:
	$(PY) -m pip install --quiet --disable-pip-version-check "uv>=0.5,<1"
	$(UV) sync --all-packages --locked

demo: setup
	$(RUN) plait plugins

lint:
	$(RUN) ruff check .
	$(RUN) ruff format --check .

typecheck:
	$(RUN) mypy

test: setup lint typecheck
	$(RUN) pytest
