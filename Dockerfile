# The dispatch board image: web (gunicorn), Celery worker and beat all run from it.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Dependencies first, so code changes reuse this layer. psycopg2-binary ships its own libpq.
# The runtime only: tests and tooling (requirements-dev.txt) never reach the image.
COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .

# Static files are collected at build time and served by WhiteNoise. The key only lets
# settings load here; the real SECRET_KEY comes from the environment at run time.
RUN SECRET_KEY=build-only-not-secret DEBUG=false python manage.py collectstatic --noinput \
    && useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin app \
    && chown -R app:app /app

USER app
EXPOSE 8000

# uvicorn (ASGI): the pages, the API and the boards' live stream (/board/events/, docs/scaling.md)
CMD ["uvicorn", "config.asgi:application", "--host", "0.0.0.0", "--port", "8000", \
     "--workers", "3", "--lifespan", "off", "--no-proxy-headers"]
