# Two commands on a fresh machine with only python3:
#   make review   set up .venv, run the monthly review of the bundled sample data
#   make test     set up .venv, run the full test suite (two workers, pytest-xdist; a notebook's cells stay together)
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
MONTH  ?= 2026-10
DATA   ?= data/sample
OUT    ?= reports
PYTEST_ARGS ?=

.PHONY: review test lab kernel synth-sample bench clean

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip==26.3
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -r requirements.lock
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	$(BIN)/pip check
	touch $(STAMP)

review: $(STAMP)
	$(BIN)/journey review --data $(DATA) --month $(MONTH) --out $(OUT)

test: $(STAMP)
	$(BIN)/python -m pytest -n 2 --dist loadfile --nbval-lax --nbval-cell-timeout=900 tests notebooks $(PYTEST_ARGS)

# JupyterLab on the notebooks; as root Jupyter refuses to start without --allow-root.
lab: $(STAMP)
	$(BIN)/jupyter lab notebooks $(if $(filter 0,$(shell id -u)),--allow-root,)

# Register this environment as a kernel in an existing JupyterLab.
kernel: $(STAMP)
	$(BIN)/python -m ipykernel install --user --name journeylib --display-name "Python (journeylib)"

synth-sample: $(STAMP)
	$(BIN)/journey synth --accounts 2000 --seed 7 --end-date 2026-10-31 --out $(DATA)

# Benchmarks in their own venv (.venv-bench): the lock plus the benchmark-only tools (pm4py, AGPL; retentioneering,
# telemetry off), never installed into .venv. Rebuilt when the lock or the benchmark requirements change.
bench:
	@if [ ! -f .venv-bench/.installed ] || [ requirements.lock -nt .venv-bench/.installed ] \
	    || [ benchmarks/requirements-bench.txt -nt .venv-bench/.installed ] || [ pyproject.toml -nt .venv-bench/.installed ]; then \
	  set -e; \
	  test -x .venv-bench/bin/python || $(PYTHON) -m venv .venv-bench; \
	  .venv-bench/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip==26.3; \
	  .venv-bench/bin/pip install --quiet --disable-pip-version-check --no-deps -r requirements.lock; \
	  .venv-bench/bin/pip install --quiet --disable-pip-version-check -r benchmarks/requirements-bench.txt; \
	  .venv-bench/bin/pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .; \
	  .venv-bench/bin/pip check; \
	  touch .venv-bench/.installed; \
	fi
	RETENTIONEERING_NO_TRACK=1 .venv-bench/bin/python benchmarks/bench_synth.py
	RETENTIONEERING_NO_TRACK=1 .venv-bench/bin/python benchmarks/bench_paths.py

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache
