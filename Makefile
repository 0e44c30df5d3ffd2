# xinqiao: two commands for a newcomer.  make run  ·  make test
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
CONSTRAINTS := constraints.txt

.PHONY: run test lint typecheck install install-dev clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml $(CONSTRAINTS) | $(PY)
	$(PIP) install --quiet -c $(CONSTRAINTS) -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml $(CONSTRAINTS) | $(PY)
	$(PIP) install --quiet -c $(CONSTRAINTS) -e ".[dev]"
	touch $(VENV)/.installed $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

## make run: install, migrate, load the demo region, print the demo accounts, serve on 127.0.0.1:8000 (SQLite).
run: $(VENV)/.installed
	env -u DATABASE_URL XINQIAO_ENV=demo $(PY) manage.py migrate --noinput
	env -u DATABASE_URL XINQIAO_ENV=demo $(PY) manage.py demo
	env -u DATABASE_URL XINQIAO_ENV=demo $(PY) manage.py runserver 127.0.0.1:8000

## make test: ruff, makemigrations --check, the suite on SQLite, then on PostgreSQL when reachable.
test: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check src tests scripts bench
	env -u DATABASE_URL XINQIAO_ENV=test $(PY) manage.py makemigrations --check --dry-run
	$(PY) scripts/run_tests.py

lint: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check src tests scripts bench
	$(VENV)/bin/ruff format --check src tests scripts bench || true

typecheck: $(VENV)/.installed-dev
	env -u DATABASE_URL XINQIAO_ENV=test $(VENV)/bin/mypy src/xinqiao

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
