# Flux: the web process (bin/web: gunicorn with uvicorn workers serving project.asgi, the production
# settings); the same image runs the audit relay, the consumer and the scheduler (docker-compose.yml),
# the commands `make serve` runs (bin/serve, Procfile.prod).
# Configuration comes from the environment at run time (SECRET_KEY, DATABASE_URL, ALLOWED_HOSTS, FLUX_*).

# The Tailwind CSS, built from the templates with the npm packages locked in theme/static_src/.
FROM node:20-slim AS css
WORKDIR /app/theme/static_src
COPY theme/static_src/package.json theme/static_src/package-lock.json ./
RUN npm ci --no-audit --no-fund
WORKDIR /app
COPY . .
RUN cd theme/static_src && npm run build

FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    LOG_FORMAT=json \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=project.settings.prod

WORKDIR /app
RUN groupadd --system flux && useradd --system --gid flux --home-dir /app --no-create-home flux

# Dependencies first, so a code change does not reinstall them.
COPY requirements/ requirements/
RUN pip install -r requirements/prod.txt

COPY . .
COPY --from=css /app/theme/static/css/dist/ theme/static/css/dist/
# The production settings refuse to load without a long SECRET_KEY: collectstatic gets a throwaway
# one for this step only (it is not kept in the image's environment). var/ is the app user's
# (SQLite fallback when DATABASE_URL is unset); the collected static files stay root's, read-only.
RUN SECRET_KEY=build-only-collectstatic-key-never-used-at-run-time-0123456789 FLUX_NUM_PROXIES=0 \
        python manage.py collectstatic --noinput --verbosity 0 \
    && chown flux:flux var

USER flux
EXPOSE 8000
# Ready when /readyz answers 200 (the database answers; NATS away is "degraded", still 200). Probes
# are exempt from the HTTPS redirect; 127.0.0.1 must be in ALLOWED_HOSTS (compose's default has it).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 CMD ["python", "-c", "import urllib.request as r; r.urlopen('http://127.0.0.1:8000/readyz', timeout=4)"]
# bin/web: gunicorn with WEB_CONCURRENCY uvicorn workers (the same launcher as `make run`), on all
# interfaces of the container.
ENV FLUX_HOST=0.0.0.0 PORT=8000
CMD ["bin/web"]
