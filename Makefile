# toasoan — the two commands are `make run` and `make test`; both set up what they need.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
CONFIG ?= settings.toml
# pytest-xdist workers: the suite is I/O-bound on real servers, so a few more than the 2 cores.
JOBS   ?= 4

.PHONY: install system-deps run test lint bench clean

$(BIN)/toasoan: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	@touch $@

install: $(BIN)/toasoan

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
	$(BIN)/python -m pytest -n $(JOBS) --dist loadgroup -q

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: install system-deps
	$(BIN)/pip install --quiet -e '.[test,bench]'
	$(BIN)/python bench/run.py

clean:
	rm -rf var .pytest_cache
