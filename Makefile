# Two commands do all set-up on a fresh machine (see README.md):
#   make run   — install, migrate, seed the demo on an empty database, serve on 127.0.0.1:5000
#   make test  — install with test extras and system packages, run every test
#                (SQLite; and PostgreSQL too when TEST_DATABASE_URL is set)
# Production (README, 部署): make serve — migrate, then gunicorn with gunicorn.conf.py
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app wsgi
# Dependencies are declared once, in setup.cfg.
DEPS = $(shell $(PYTHON) -c "import configparser as c; p = c.ConfigParser(); p.read('setup.cfg'); print(' '.join(repr(l.strip()) for l in p['options']['install_requires'].splitlines() if l.strip()))")
TEST_DEPS = $(shell $(PYTHON) -c "import configparser as c; p = c.ConfigParser(); p.read('setup.cfg'); print(' '.join(repr(l.strip()) for l in p['options.extras_require']['test'].splitlines() if l.strip()))")
# Offline install: `make wheelhouse` on a machine with the index fills wheels/ (same Debian release
# and Python as the servers); with wheels/ present every install below reads only from it.
PIP_SOURCE = $(if $(wildcard wheels/*.whl),--no-index --find-links wheels,)
RUN_PACKAGES := fonts-noto-cjk libharfbuzz-subset0 libpango-1.0-0 libpangoft2-1.0-0
TEST_PACKAGES := $(RUN_PACKAGES) chromium poppler-utils

.PHONY: run serve worker schedule wheelhouse test install install-test system-run system-test bench clean

$(VENV)/.installed: setup.cfg
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q $(PIP_SOURCE) --upgrade pip
	$(PY) -m pip install -q $(PIP_SOURCE) $(DEPS)
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed setup.cfg
	$(PY) -m pip install -q $(PIP_SOURCE) $(TEST_DEPS)
	touch $@

wheelhouse:
	$(PYTHON) -m pip download --quiet --dest wheels pip $(DEPS) $(TEST_DEPS)
	@echo "wheels/: $$(ls wheels | wc -l) 个安装包；连同本仓库一起拷到内网服务器，make run / make serve 将只从其中安装。"

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

# System packages: the CJK font and HarfBuzz subsetting for PDFs; Chromium and poppler for tests.
define apt_install
	@missing=$$(for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "安装系统软件包: $$missing"; \
		SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi
endef

system-run:
	$(call apt_install,$(RUN_PACKAGES))

system-test:
	$(call apt_install,$(TEST_PACKAGES))

run: install system-run
	$(FLASK) db upgrade
	$(FLASK) demo seed
	SECURE_COOKIES=0 $(FLASK) run --host 127.0.0.1 --port 5000  # plain HTTP on this machine only

# Workers, bind address and timeouts come from the environment (gunicorn.conf.py).
serve: install system-run
	$(FLASK) db upgrade
	exec $(VENV)/bin/gunicorn --config gunicorn.conf.py wsgi:app

# Export jobs (PDF, Excel) when REDIS_URL is set: as many of these as the host has cores to spare.
worker: install system-run
	exec $(VENV)/bin/rq worker $${RQ_QUEUE:-exports} --url $$REDIS_URL

# Development: run the periodic jobs in the foreground (production: the systemd timer).
schedule: install
	$(FLASK) schedule loop

# One pytest worker per core (pytest-xdist), each on a SQLite file or PostgreSQL schema of its own
# (tests/conftest.py); a worker takes the next test as it frees up, so long journeys do not queue.
PYTEST := $(PY) -m pytest -q -n auto --dist worksteal

test: install-test system-test
	env -u TEST_DATABASE_URL $(PYTEST)
	@if [ -n "$$TEST_DATABASE_URL" ]; then \
		echo "== PostgreSQL: $$TEST_DATABASE_URL =="; \
		$(PYTEST); \
	fi

bench: install
	$(PY) bench/import_divisions.py
	$(PY) bench/roster_pdf.py
	$(PY) bench/dispatch_national.py --enterprises 100000  # national scale: add --database-url (PostgreSQL)
	$(PY) bench/checklists_overview.py
	$(PY) bench/hazards_ledger.py
	$(PY) bench/plans_board.py
	$(PY) bench/dossier_pdf.py
	$(PY) bench/onboarding_import.py
	$(PY) bench/scope_cache_key.py
	# Pages per second under 20 and 50 clients (gunicorn + PostgreSQL, needs wrk): $(PY) bench/load.py

clean:
	rm -rf $(VENV) .pytest_cache
