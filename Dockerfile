# Seam: one image for the web server, the Celery worker and Celery beat.
#
#   docker build -t seam .
#
# Production differs from a laptop by environment variables only (see README.md).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Dependencies first (cached until the lock changes); every file is pinned by its hash.
COPY requirements.lock ./
RUN pip install --require-hashes --no-deps -r requirements.lock

COPY . .

# Static files are collected (hashed and compressed for WhiteNoise) at build time. The
# secret here only satisfies the settings check; it is never used at run time.
RUN DEBUG=0 SECRET_KEY=collectstatic-at-build-time-only-not-a-secret ALLOWED_HOSTS=build \
    python manage.py collectstatic --no-input --verbosity 0

# Run as an unprivileged user that owns nothing in /app.
RUN groupadd --system seam && useradd --system --gid seam --no-create-home --home-dir /app seam
USER seam

EXPOSE 8000

# Behind a TLS-terminating proxy: FORWARDED_ALLOW_IPS names the proxies gunicorn trusts
# for X-Forwarded-Proto (docker-compose.yml sets it). WEB_CONCURRENCY sets the workers.
CMD ["sh", "-c", "exec gunicorn alignment.wsgi:application --bind 0.0.0.0:8000 --workers \"${WEB_CONCURRENCY:-3}\" --forwarded-allow-ips \"${FORWARDED_ALLOW_IPS:-127.0.0.1}\" --access-logfile - --timeout 60"]
