# Vigie: the two commands are `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test install lint typecheck bank-check pytest browser-deps bench bench-cat bench-restart clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/vigie run

# Browser tests drive Debian's chromium; axe-core comes from the npm registry (Debian's npm
# when the machine has none).
APT_INSTALL = if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq

browser-deps:
	@command -v chromium >/dev/null 2>&1 || { echo "installing Debian's chromium"; \
	  $(APT_INSTALL) chromium >/dev/null; }
	@command -v npm >/dev/null 2>&1 || { echo "installing Debian's npm"; \
	  $(APT_INSTALL) npm >/dev/null; }
	@[ -f tests/js/node_modules/axe-core/axe.min.js ] || \
	  (cd tests/js && npm ci --silent --no-audit --no-fund)

lint: $(STAMP)
	$(BIN)/ruff check server tests load
	$(BIN)/ruff format --check server tests load

typecheck: $(STAMP)
	$(BIN)/mypy server/

pytest: $(STAMP) browser-deps
	$(BIN)/pytest --cov=vigie.core --cov-branch --cov-report=term-missing:skip-covered \
	  --cov-fail-under=100

# The question bank's proof-reading rules (key balance, give-aways, French typography).
bank-check: $(STAMP)
	$(BIN)/python load/bank_check.py

test: lint typecheck bank-check pytest

bench: $(STAMP)
	$(BIN)/python load/bench.py

bench-cat: $(STAMP)
	$(BIN)/python load/bench_cat.py

# A room of 20 on 2 hubs while Redis is killed and restarted (DOWN seconds, SIGNAL kill|term).
DOWN ?= 5
SIGNAL ?= kill
bench-restart: $(STAMP)
	$(BIN)/python load/redis_restart.py --down $(DOWN) --signal $(SIGNAL)

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
