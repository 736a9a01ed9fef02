# Loyalty portal. `make help` lists the targets.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PORT   ?= 8000
# The Celery queues (settings.LOYALTY_CELERY_QUEUES) `make worker` consumes.
QUEUES ?= ledger,campaigns,analytics
export DJANGO_SETTINGS_MODULE := loyalty_site.settings

.PHONY: help run test lint format worker bench bench-chart chaos migrate seed messages browsers pgbouncer screenshots clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

# A stamp, not $(PY) itself: the venv's python is newer than requirements.txt as
# soon as `venv` ran, so a failed pip install would never be retried (and
# touching the symlink would touch the system interpreter).
DEPS   := $(VENV)/.installed

$(DEPS): requirements.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -r requirements.txt
	@touch $@

var:
	@mkdir -p var/broker/out var/broker/processed var/broker/control var/mail var/sms

# DEBUG=1 unless set: with DEBUG off settings.py refuses the development
# SECRET_KEY. PORT makes SITE_URL (links in emails and SMS) the address served.
migrate: $(DEPS) var  ## apply database migrations (and the cache table)
	DEBUG=$${DEBUG:-1} $(PY) manage.py migrate --noinput

seed: migrate  ## load the demo data (once; a second run keeps what is there)
	DEBUG=$${DEBUG:-1} PORT=$(PORT) $(PY) manage.py seed_demo

run: seed  ## the portal at http://127.0.0.1:8000 (PORT=8123 for another) with a Celery worker and beat
	@PORT=$(PORT) bin/run

worker: $(DEPS) var  ## a Celery worker with beat consuming every queue (QUEUES=ledger for one), on whatever broker CELERY_BROKER_URL names
	$(VENV)/bin/celery -A loyalty_site worker -B --loglevel=INFO -Q $(QUEUES)

test: $(DEPS) var browsers pgbouncer  ## the whole suite (SQLite, or PostgreSQL when DATABASE_URL points there)
	$(PY) -m pytest -n 2 --dist loadgroup $(PYTEST_ARGS)

pgbouncer:  # Debian's PgBouncer for the PgBouncer tests, when we may install it
	@if ! command -v pgbouncer >/dev/null && [ ! -x /usr/sbin/pgbouncer ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing Debian's pgbouncer for the PgBouncer tests..."; \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -q pgbouncer >/dev/null || \
	    (apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q pgbouncer >/dev/null) || \
	    echo "Could not install pgbouncer; the PgBouncer tests will be skipped."; \
	  else \
	    echo "PgBouncer tests will be skipped: run 'sudo apt-get install -y pgbouncer' to enable them."; \
	  fi; \
	fi

browsers:  # Debian's Chromium for the browser tests, when we may install it
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing Debian's chromium for the browser tests..."; \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null || \
	    (apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null) || \
	    echo "Could not install chromium; browser tests will be skipped."; \
	  else \
	    echo "Browser tests will be skipped: run 'sudo apt-get install -y chromium' to enable them."; \
	  fi; \
	fi

lint: $(DEPS)  ## ruff check and format check; import-linter: the apps depend one way (pyproject.toml)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

format: $(DEPS)  ## ruff format and fix
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

messages: $(DEPS)  ## extract and compile translations (needs GNU gettext)
	$(PY) manage.py makemessages -l uk -l ru -l ro -l en --no-obsolete --ignore=.venv --ignore=var --ignore=staticfiles --ignore=bench --ignore="*/tests/*" --ignore=tests --ignore=static
	$(PY) manage.py compilemessages --ignore=.venv

bench: $(DEPS) var  ## all benchmarks on PostgreSQL (BENCH="api hot" for some, BENCH=--tiny to check they work); prints figures for docs/BENCHMARKS.md
	$(PY) bench/run.py $(BENCH)

bench-chart: $(DEPS)  ## docs/img/benchmarks.png from the figures in docs/benchmarks.json
	$(VENV)/bin/pip install --quiet -r requirements-bench.txt
	$(PY) bench/chart.py

screenshots: $(DEPS) browsers  ## docs/img/*.png for the README: a fresh demo database in a temporary directory, served and shot in Chromium (SHOTS="counter analytics" for some)
	DEBUG=1 $(PY) manage.py screenshots $(if $(SHOTS),--only $(SHOTS))

chaos: $(DEPS) var  ## kill web/worker processes and restart PostgreSQL under load; exit 1 on any lost or doubled write
	$(PY) bench/chaos.py

clean:  ## remove the virtualenv and local data
	rm -rf $(VENV) var staticfiles
