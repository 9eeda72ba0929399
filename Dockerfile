# syntax=docker/dockerfile:1
# One image per service, all from this file, built from the repository root:
#   docker build --build-arg SERVICE=registration -t emm-tot/registration .
# SERVICE is registration, evaluation, notification or portal. A container runs deploy/container/emm-run:
# the service's API by default (the portal's pages for the portal), `worker` for its event consumer.
# The image holds only the run-time packages (requirements-production.lock), runs as the numeric user
# 10001, and writes only under $EMM_CACHE_DIR (faust's data of a worker: a volume or an emptyDir).
ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm

FROM node:20.19.5-bookworm-slim AS vendor
WORKDIR /vendor
# The portal serves htmx itself (never from a CDN); every page works without it.
RUN npm install --no-audit --no-fund --omit=dev htmx.org@2.0.11

FROM ${PYTHON_IMAGE} AS build
ARG SERVICE
WORKDIR /src
COPY requirements-production.lock ./
COPY services ./services
# Our packages and the run-time dependencies this service declares, at the production lock's versions
# (the portal checks forms with registration's and evaluation's own domain rules: imported, not copied).
RUN case "$SERVICE" in \
      registration|evaluation|notification) set -- services/shared "services/$SERVICE" ;; \
      portal) set -- services/shared services/registration services/evaluation services/portal ;; \
      *) echo "build with --build-arg SERVICE=registration|evaluation|notification|portal" >&2; exit 1 ;; \
    esac \
    && python -m venv /opt/venv \
    && /opt/venv/bin/pip install --no-cache-dir --disable-pip-version-check \
         --constraint requirements-production.lock "$@" \
    && /opt/venv/bin/pip check

FROM ${PYTHON_IMAGE}
ARG SERVICE
RUN groupadd --gid 10001 emm \
    && useradd --uid 10001 --gid 10001 --home-dir /home/emm --create-home --shell /usr/sbin/nologin emm \
    && install -d -o 10001 -g 10001 /var/lib/emm /keys
COPY --from=build /opt/venv /opt/venv
COPY schemas /app/schemas
COPY --from=vendor /vendor/node_modules/htmx.org/dist/htmx.min.js /app/vendor/htmx/htmx.min.js
COPY deploy/container/emm-run /usr/local/bin/emm-run
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HOME=/home/emm \
    EMM_SERVICE=$SERVICE \
    EMM_SCHEMAS_DIR=/app/schemas \
    EMM_CACHE_DIR=/var/lib/emm \
    PORTAL_VENDOR_DIR=/app/vendor/htmx
WORKDIR /app
USER 10001:10001
# An API's /healthz, or a worker's /metrics when its <SERVICE>_METRICS_PORT is set (deploy/container/emm-run).
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=6 CMD ["emm-run", "probe"]
ENTRYPOINT ["emm-run"]
CMD ["api"]
