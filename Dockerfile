# syntax=docker/dockerfile:1
# Multi-stage build: wheels are built in a throw-away stage; the runtime image has no compiler and runs as non-root.

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN apt-get update && apt-get install -y --no-install-recommends build-essential && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pyproject.toml README.md ./
COPY app ./app
RUN python -m venv /opt/venv && /opt/venv/bin/pip install --upgrade pip && /opt/venv/bin/pip install .

FROM python:3.11-slim AS runtime
ENV PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 \
    HOCSO_ENV=production HOCSO_HOST=0.0.0.0 HOCSO_PORT=8000 HOCSO_DATA_DIR=/var/lib/hocso
RUN apt-get update && apt-get install -y --no-install-recommends curl tini && rm -rf /var/lib/apt/lists/* \
    && groupadd --system hocso && useradd --system --gid hocso --home /app hocso \
    && mkdir -p /var/lib/hocso && chown hocso:hocso /var/lib/hocso
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY --chown=hocso:hocso alembic.ini ./
COPY --chown=hocso:hocso alembic ./alembic
USER hocso
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
    CMD curl -fsS http://127.0.0.1:8000/healthz || exit 1
ENTRYPOINT ["tini", "--"]
# Migrate, then serve with HOCSO_WORKERS uvicorn workers. Run `hocso worker` as a separate container for jobs.
CMD ["sh", "-c", "hocso db upgrade && exec hocso serve"]
