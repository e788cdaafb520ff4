# syntax=docker/dockerfile:1
# The platform's image: web (daphne), Celery worker and beat all run from it;
# compose.yaml picks the command. Configuration comes from the environment only
# (see chatapp/settings.py); nothing secret is baked in.

# --- build: dependencies, compiled translations, collected static files -------
FROM python:3.11-slim-bookworm AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PATH=/opt/venv/bin:$PATH \
    DJANGO_STATIC_ROOT=/app/staticfiles

# msgfmt for compilemessages; needed at build time only.
RUN apt-get update \
    && apt-get install -y --no-install-recommends gettext \
    && rm -rf /var/lib/apt/lists/*

# Runtime dependencies only (not the `local` or `dev` extras). pyproject.toml is
# copied alone so this layer is rebuilt only when the dependencies change; it is
# built outside /app so no build/ or egg-info lands in the image.
RUN python -m venv /opt/venv
COPY pyproject.toml /tmp/deps/pyproject.toml
RUN pip install /tmp/deps && rm -rf /tmp/deps

WORKDIR /app
COPY . .

# Settings refuse to load without these; the values below exist for this step
# only (nothing connects to the database or Redis here) and are not kept in the
# image's environment.
RUN DJANGO_SECRET_KEY=build-only-not-a-secret-000000000000000000000000000000 \
    DATABASE_URL=postgresql://build@localhost/build \
    REDIS_URL=redis://localhost:6379/0 \
    sh -c 'python manage.py compilemessages -v 0 && python manage.py collectstatic --noinput -v 0'

# --- runtime --------------------------------------------------------------
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/venv/bin:$PATH \
    DJANGO_STATIC_ROOT=/app/staticfiles \
    DJANGO_MEDIA_ROOT=/data/media

# OCR of scanned documents (Korean and English).
RUN apt-get update \
    && apt-get install -y --no-install-recommends tesseract-ocr tesseract-ocr-kor \
    && rm -rf /var/lib/apt/lists/*

# A fixed uid/gid, so secret files on the host can be given to it (compose.yaml)
# and Kubernetes can check runAsNonRoot. /data holds what the app writes
# (uploads, the beat schedule); the code under /app stays read-only to it.
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --home-dir /app --no-create-home \
       --shell /usr/sbin/nologin app \
    && mkdir -p /data/media \
    && chown -R app:app /data

COPY --from=build /opt/venv /opt/venv
COPY --from=build /app /app
WORKDIR /app

USER 10001:10001
EXPOSE 8000
CMD ["python", "-m", "chatapp.serve", "-b", "0.0.0.0", "-p", "8000", "--proxy-headers", "chatapp.asgi:application"]
