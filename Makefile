# The two commands of the README's Quick start: `make run` and `make test`. Both are safe to re-run.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: run test install lint bench clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "Python >= 3.11 is required")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP)

run: install
	$(BIN)/hocso db upgrade
	$(BIN)/hocso demo seed
	$(BIN)/hocso serve

# SQLite always; PostgreSQL too when HOCSO_TEST_DATABASE_URL is set (as .ci/run does).
test: install
	HOCSO_TEST_DATABASE_URL= $(BIN)/python -m pytest $(PYTEST_ARGS)
	@if [ -n "$$HOCSO_TEST_DATABASE_URL" ]; then \
		echo "== again on PostgreSQL =="; $(BIN)/python -m pytest $(PYTEST_ARGS); fi

# Load benchmark on PostgreSQL (database hocso_bench; seeds 10M learners and completions first if missing):
# prints the table and saves var/bench/results-*. See docs/benchmarks.md; BENCH_ARGS="--only heartbeat" etc.
bench: install
	$(BIN)/python -m bench $(BENCH_ARGS)

lint: install
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) var .pytest_cache
