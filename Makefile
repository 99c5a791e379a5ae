# One command to run, one to test. Everything is installed into .venv from a bare python3.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
export UV_PYTHON_DOWNLOADS := never
export UV_LINK_MODE := copy
TRANSCRIPTS ?= transcripts/ember/conversations.json
PERSONA ?= Ember
OUT ?= reports
NOTEBOOKS := $(sort $(wildcard notebooks/*.ipynb))

.DEFAULT_GOAL := help
.PHONY: help setup report test lint types unit nbval notebooks lab bench bench-env clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | expand -t 14

$(BIN)/uv:
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check uv

$(VENV)/.synced: $(BIN)/uv pyproject.toml uv.lock
	$(BIN)/uv sync --locked --all-extras --quiet
	@touch $@

setup: $(VENV)/.synced  ## create .venv with everything the project needs

report: $(VENV)/.synced  ## the main job: notebooks + report on TRANSCRIPTS (PERSONA=name), HTML into reports/
	$(BIN)/python -m toolkit notebooks --transcripts $(TRANSCRIPTS) --out $(OUT)/notebooks $(if $(PERSONA),--persona $(PERSONA))
	$(BIN)/python -m toolkit report $(TRANSCRIPTS) --out $(OUT) $(if $(PERSONA),--persona $(PERSONA)) $(if $(REDACT),--redact)
	@echo "open $(OUT)/report.html"

test: lint types unit nbval  ## everything CI runs: lint, types, unit + doctests, notebooks under nbval

lint: $(VENV)/.synced  ## ruff
	$(BIN)/ruff check toolkit tests bench

types: $(VENV)/.synced  ## mypy on the package
	$(BIN)/mypy

unit: $(VENV)/.synced  ## pytest: unit, property and doc tests
	$(BIN)/pytest -q

nbval: $(VENV)/.synced  ## run every notebook under nbval (lax, headline cells checked)
	@if [ -n "$(NOTEBOOKS)" ]; then \
	  $(BIN)/pytest -q -p no:cacheprovider --nbval-lax --nbval-current-env \
	    --nbval-sanitize-with tests/nbval_sanitize.cfg --nbval-cell-timeout=600 $(NOTEBOOKS); \
	else echo "no notebooks yet"; fi

notebooks: $(VENV)/.synced  ## re-run the notebooks in place (refresh committed outputs)
	@for nb in $(NOTEBOOKS); do echo "== $$nb"; \
	  $(BIN)/jupyter nbconvert --to notebook --execute --inplace $$nb || exit 1; done

lab: $(VENV)/.synced  ## open JupyterLab on notebooks/
	$(BIN)/jupyter lab notebooks

BENCH_VENV := .venv-bench
$(BENCH_VENV)/.installed:
	$(PY) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install -q --disable-pip-version-check spacy==3.8.18 polars==2.1.0
	@touch $@

bench-env: $(BENCH_VENV)/.installed  ## bench-only venv with spaCy (not a project dependency)

bench: $(VENV)/.synced bench-env  ## speed benchmarks (not part of make test): read, tag, recurrence
	$(BIN)/python -m bench

clean:  ## remove the venv and generated files
	rm -rf $(VENV) $(BENCH_VENV) reports .mypy_cache .ruff_cache
