# toasoan — the two commands are `make run` and `make test`; both set up what they need.
# `make test` and `make lint` type-check too (mypy, configured in pyproject.toml).
# The newest Python 3.11–3.13 on PATH, or PYTHON=/path/to/python3.x from the command line.
PYTHON ?= $(shell scripts/find-python)
PYVER  := $(shell $(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)
VENV   ?= .venv
BIN    := $(VENV)/bin
# The venv remembers the Python it was built with: another one (an upgrade, PYTHON=) rebuilds it.
STAMP  := $(VENV)/.built-with-python$(PYVER)
CONFIG ?= settings.toml
# pytest-xdist workers: the suite is I/O-bound on real servers, so a few more than the 2 cores.
JOBS   ?= 4

.PHONY: install system-deps run test fuzz lint bench clean

$(STAMP): pyproject.toml
	@case "$(PYVER)" in 3.11|3.12|3.13) ;; *) echo "make: no Python 3.11–3.13 (PYTHON=$(PYTHON)); install one or set PYTHON=" >&2; exit 1;; esac
	@if [ -d $(VENV) ] && ! ls $(VENV)/.built-with-python$(PYVER) >/dev/null 2>&1; then echo "rebuilding $(VENV) for Python $(PYVER)"; rm -rf $(VENV); fi
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	@touch $@

install: $(STAMP)

# Debian packages the tests start for real (Dovecot, LibreOffice, ...). Installs only what is missing.
system-deps:
	scripts/system-deps.sh

# The worker (mailbox, outbox) in the background, the review UI in the foreground; Ctrl-C stops both.
run: install
	$(BIN)/toasoan --config $(CONFIG) seed
	$(BIN)/toasoan --config $(CONFIG) demo
	@$(BIN)/toasoan --config $(CONFIG) worker & WORKER=$$!; \
	trap 'kill $$WORKER 2>/dev/null; wait $$WORKER 2>/dev/null' EXIT INT TERM; \
	$(BIN)/toasoan --config $(CONFIG) serve

test: system-deps install
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/python -m pytest -n $(JOBS) --dist loadgroup -q
	TOASOAN_TEST_DATABASE=postgresql $(BIN)/python -m pytest -n $(JOBS) --dist loadgroup -q

# Intake fuzzing for longer than `make test` does (tests/fuzz): many more generated batches per test.
FUZZ_EXAMPLES ?= 400
fuzz: system-deps install
	TOASOAN_FUZZ=1 TOASOAN_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/python -m pytest -n 2 -q tests/fuzz

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: install system-deps
	$(BIN)/pip install --quiet -e '.[test,bench]'
	$(BIN)/python bench/run.py

clean:
	rm -rf var .pytest_cache
