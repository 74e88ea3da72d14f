# syntax=docker/dockerfile:1
# councilwatch: the service image. Build from the repository root:
#   docker build -t councilwatch .
#   docker run -e COUNCILWATCH_SECRET_KEY=... -p 127.0.0.1:8080:8080 \
#     -v councilwatch-data:/var/lib/councilwatch councilwatch
# The container runs `councilwatch run` (ENTRYPOINT + CMD), so any other command is
# `docker run ... councilwatch db upgrade`. See docs/operations.md.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# ---- builder: wheels for the project and every dependency ----------------------------------
FROM ${PYTHON_IMAGE} AS builder
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1
WORKDIR /src
# Only what the wheel is built from (the rest is kept out by .dockerignore as well).
COPY pyproject.toml README.md ./
COPY councilwatch ./councilwatch
COPY scraper ./scraper
COPY alerts ./alerts
COPY db ./db
COPY cwerrors ./cwerrors
# Every dependency has a manylinux wheel (lxml, psycopg-binary, numpy), so no compiler is
# needed; the postgres extra is included so one image serves SQLite and PostgreSQL.
RUN pip wheel --no-cache-dir --wheel-dir /wheels ".[postgres]"

# ---- runtime: the wheels installed into a slim image, run as an unprivileged user ----------
FROM ${PYTHON_IMAGE} AS runtime
LABEL org.opencontainers.image.title="councilwatch" \
      org.opencontainers.image.description="Alerts when an English council is named in an ombudsman decision or in local news." \
      org.opencontainers.image.licenses="MIT"
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    COUNCILWATCH_CONFIG=/etc/councilwatch/config.toml \
    COUNCILWATCH_WEB__LISTEN=0.0.0.0:8080

# A fixed uid/gid so that volume ownership survives rebuilds.
RUN groupadd --system --gid 10001 councilwatch \
    && useradd --system --uid 10001 --gid councilwatch --no-create-home \
       --home-dir /var/lib/councilwatch --shell /usr/sbin/nologin councilwatch \
    && mkdir -p /etc/councilwatch /var/lib/councilwatch/outbox \
    && chown -R councilwatch:councilwatch /var/lib/councilwatch

# The wheels are bind-mounted from the builder, so they never become a layer of this image.
RUN --mount=type=bind,from=builder,source=/wheels,target=/wheels \
    pip install --no-cache-dir --no-index /wheels/*.whl

# The example production config: SQLite under the data volume unless
# COUNCILWATCH_DATABASE_URL points at PostgreSQL. Mount your own over it (read-only).
COPY --chown=root:councilwatch --chmod=0640 deploy/config.production.toml /etc/councilwatch/config.toml

# SQLite database, mail outbox and imported council register live here.
VOLUME ["/var/lib/councilwatch"]
WORKDIR /var/lib/councilwatch
# Numeric, so that Kubernetes runAsNonRoot can verify it without reading /etc/passwd.
USER 10001:10001
EXPOSE 8080

# The service handles SIGTERM itself (stop taking jobs, let the running one finish within
# service.shutdown_grace_seconds); give `docker stop -t` more than that grace.
STOPSIGNAL SIGTERM
# No curl in slim images: python's urllib asks /healthz on the port of COUNCILWATCH_WEB__LISTEN.
# urlopen raises on 503 (database down), so the exit status is the container's health.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; port = os.environ.get('COUNCILWATCH_WEB__LISTEN', ':8080').rpartition(':')[2]; urllib.request.urlopen(f'http://127.0.0.1:{port}/healthz', timeout=4).close()"]

ENTRYPOINT ["councilwatch"]
CMD ["run"]
