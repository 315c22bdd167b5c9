# The two commands of the README. Each does its own set-up on a fresh Debian/Ubuntu machine:
# unixODBC and the SQLite ODBC driver, Chromium, poppler-utils and PostgreSQL through apt when missing, Python packages in .venv.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SQLITE_ODBC := /usr/lib/x86_64-linux-gnu/odbc/libsqlite3odbc.so

.PHONY: demo test lint bench fuzz os-deps clean

os-deps:
	@if ! ldconfig -p | grep -q libodbc.so.2 || ! ls /usr/lib/*/odbc/libsqlite3odbc.so >/dev/null 2>&1; then \
		echo "Installing unixODBC and the SQLite ODBC driver (apt)"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq unixodbc libsqliteodbc >/dev/null; \
	fi
	@if [ ! -x /usr/bin/chromium ]; then \
		echo "Installing Chromium for the headless browser test of the audit report (apt)"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	fi
	@if ! command -v pdftoppm >/dev/null || ! command -v pdftotext >/dev/null; then \
		echo "Installing poppler-utils for the test of the sign-off record's PDF (apt)"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq poppler-utils >/dev/null; \
	fi
	@if ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then \
		echo "Installing PostgreSQL for the history tests (apt; the tests start their own cluster on 127.0.0.1)"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; \
	fi

$(STAMP): pyproject.toml setup.py
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev,pdf]'
	touch $(STAMP)

demo: os-deps $(STAMP)
	$(BIN)/gpverify demo

test: os-deps $(STAMP)
	$(BIN)/pytest -q tests

# The declared style (.ci/run runs it before the tests): ruff's rules and format, mypy --strict, the layers'
# import contracts (pyproject.toml [tool.importlinter]) and the bounds on every function's size.
lint: $(STAMP)
	$(BIN)/ruff check src checks fixtures tests bench conftest.py .ci
	$(BIN)/ruff format --check src checks fixtures tests bench conftest.py .ci
	$(BIN)/mypy --strict src/gpverify
	$(BIN)/lint-imports
	$(BIN)/python .ci/function_bounds.py src

# The hostile-input generator's full run (tests/hardening/test_hostile_generator.py; `make test` runs a fixed-seed
# sample of it): GPVERIFY_FUZZ_CASES inputs in all, the figures written to tests/hardening/fuzz-figures.json and
# printed as the README's table.
FUZZ_CASES ?= 6000
fuzz: os-deps $(STAMP)
	GPVERIFY_FUZZ_CASES=$(FUZZ_CASES) $(BIN)/pytest -q -p no:cacheprovider tests/hardening/test_hostile_generator.py
	$(BIN)/python tests/hardening/hostile_generator.py tests/hardening/fuzz-figures.json

bench: os-deps $(STAMP)
	$(BIN)/pip install -q -e '.[dev,bench]'   # pytest-testinfra: the per-check way the benchmark compares with
	$(BIN)/python bench/collect.py
	$(BIN)/python bench/unreachable.py   # one check on 1,000 unreachable hosts: an error per check, no traceback

clean:
	find reports -mindepth 1 ! -name README.md -exec rm -rf {} +
	rm -rf $(VENV)
