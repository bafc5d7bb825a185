# Flux: `make run` serves the app with demo data; `make test` runs the whole suite.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.12 || command -v python3.13 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
export PORT

.PHONY: run serve test install css migrate seed lint check clean messages

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Reinstall whenever a requirements file changes.
$(VENV)/.installed: $(BIN)/python requirements/base.txt requirements/dev.txt requirements/prod.txt
	$(BIN)/pip install --quiet -r requirements/dev.txt -r requirements/prod.txt
	touch $@

install: $(VENV)/.installed

# The Tailwind CSS (theme/, django-tailwind with npm). npm packages are reinstalled, exactly as
# locked, only when package.json or its lock changes; the CSS is rebuilt every time (a few seconds).
THEME_SRC := theme/static_src
NPM ?= npm
$(THEME_SRC)/node_modules/.installed: $(THEME_SRC)/package.json $(THEME_SRC)/package-lock.json
	cd $(THEME_SRC) && $(NPM) ci --no-audit --no-fund --loglevel=error
	touch $@

css: install $(THEME_SRC)/node_modules/.installed
	$(BIN)/python manage.py tailwind build

# The CSS once, for `make serve` (which must not rewrite it under a running server).
CSS_OUT := theme/static/css/dist/styles.css
$(CSS_OUT):
	$(MAKE) css

migrate: install
	$(BIN)/python manage.py migrate --noinput

seed: migrate
	$(BIN)/python manage.py seed_demo

# Every process in the foreground (Ctrl-C stops them all): web (bin/web: gunicorn with
# WEB_CONCURRENCY uvicorn workers, as in production), nats-server (unless NATS_URL points at another
# one), the audit relay, the audit consumer, the scheduler and the notifier (customers'
# notifications). Each process connects to NATS as its own user
# (deploy/nats/nats.conf); for the bundled nats-server their passwords are generated once into
# var/nats/credentials.env, which honcho passes to every process. With NATS_URL, give the passwords
# of that server's users as NATS_RELAY_PASSWORD, NATS_CONSUMER_PASSWORD, NATS_WEB_PASSWORD,
# NATS_SCHEDULER_PASSWORD and NATS_NOTIFIER_PASSWORD (or credentials in NATS_URL, one user for all).
comma := ,
run: seed css
	$(if $(NATS_URL),,bin/nats-dev-credentials)
	$(BIN)/honcho start -f Procfile -p $(PORT) $(if $(NATS_URL),web relay consumer scheduler notifier,-e .env$(comma)var/nats/credentials.env)

# The production configuration on this machine (bin/serve): it refuses to start without SECRET_KEY,
# ALLOWED_HOSTS, FLUX_NUM_PROXIES, DATABASE_URL and NATS_URL; then migrate, collectstatic, and web,
# relay, consumer, scheduler and notifier in the foreground (Procfile.prod). docs/operations.md.
serve: install $(CSS_OUT)
	bin/serve

test: install css
	$(BIN)/python manage.py makemigrations --check --dry-run --settings=project.settings.test
	$(BIN)/lint-imports
	$(BIN)/pytest -n 2 $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .

# The French catalogue: collect new strings into locale/fr/LC_MESSAGES/django.po, translate them
# there, then compile. Commit both django.po and django.mo (installs need no gettext).
messages: install
	$(BIN)/python manage.py makemessages -l fr --no-obsolete --ignore='.venv/*' --ignore='theme/static_src/*' \
		--ignore='var/*' --ignore='e2e/*' --ignore='benchmarks/*'
	$(BIN)/python manage.py compilemessages -l fr --ignore='.venv/*'

clean:
	rm -rf $(VENV) var .pytest_cache .hypothesis $(THEME_SRC)/node_modules theme/static/css/dist e2e/artifacts
