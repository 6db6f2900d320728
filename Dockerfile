# syntax=docker/dockerfile:1.7
#
# One image for the five services and the REST gateway; the command chooses the process:
#   stockmesh serve <user|catalog|stock|procure|order>   one gRPC service (kit/cli.py)
#   python -m gateway                                    the REST/JSON edge (gateway/__main__.py)
#   stockmesh migrate <service>                          that service's migrations (a Job or hook)
# These are the commands `stockmesh up` starts for each process (kit/supervisor.py).
#
# The bases are pinned by the digest of the official images' multi-platform index, as pinned in
# several unrelated public Dockerfiles found through code search: no registry could be reached
# where this file was written, so check them once with
#   docker buildx imagetools inspect python:3.11-slim-bookworm
#   docker buildx imagetools inspect node:20-bookworm-slim
# before the first build, and let the dependency bot move them from then on.

# The operator console, built by Vite from package.json's exact pins, as `make console` builds it.
FROM node:20-bookworm-slim@sha256:2cf067cfed83d5ea958367df9f966191a942351a2df77d6f0193e162b5febfc0 AS console
WORKDIR /src
COPY package.json .npmrc ./
RUN npm install --no-audit --no-fund --loglevel=error
COPY console/ console/
RUN node_modules/.bin/vite build console

# Every wheel the runtime needs: the project's own (kit, clients, gateway, tools, the services and
# the generated contracts in gen/) and its pinned dependencies. Built here so that pip's build
# step never runs in the runtime image.
FROM python:3.11-slim-bookworm@sha256:a36c24f9cbdf4fd0f52d67f0823eeac19c2028c637cecc392d97f980d4fec56b AS wheels
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY gen/ gen/
COPY kit/ kit/
COPY clients/ clients/
COPY gateway/ gateway/
COPY tools/ tools/
COPY svc_user/ svc_user/
COPY svc_catalog/ svc_catalog/
COPY svc_stock/ svc_stock/
COPY svc_procure/ svc_procure/
COPY svc_order/ svc_order/
RUN pip wheel --wheel-dir /wheels .

FROM python:3.11-slim-bookworm@sha256:a36c24f9cbdf4fd0f52d67f0823eeac19c2028c637cecc392d97f980d4fec56b AS runtime
LABEL org.opencontainers.image.title="stockmesh" \
      org.opencontainers.image.description="stockmesh gRPC services and REST gateway; the command picks one"
# The venv is the only place Python packages go; STOCKMESH_HOME is under /tmp because the pods run
# with a read-only root filesystem and an emptyDir at /tmp. The mesh policy and the console sit
# beside the code, where the settings are told to look (README, Configuration).
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    VIRTUAL_ENV=/opt/stockmesh \
    PATH=/opt/stockmesh/bin:$PATH \
    STOCKMESH_HOME=/tmp/stockmesh \
    STOCKMESH_MESH_DIR=/app/mesh/istio \
    STOCKMESH_CONSOLE_DIR=/app/console/dist
# A numeric user, so Kubernetes' runAsNonRoot can verify it without reading /etc/passwd.
RUN groupadd --gid 10001 stockmesh \
    && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin stockmesh
# The wheels are mounted, not copied: they leave no layer behind. --no-index: nothing is fetched
# here, so the image holds exactly what the wheels stage resolved.
RUN --mount=type=bind,from=wheels,source=/wheels,target=/wheels \
    python -m venv /opt/stockmesh \
    && /opt/stockmesh/bin/pip install --no-index --find-links=/wheels /wheels/stockmesh-*.whl
WORKDIR /app
COPY mesh/istio/ /app/mesh/istio/
COPY --from=console /src/console/dist/ /app/console/dist/
USER 10001:10001
# gRPC (user 50051 … order 50055), REST 8080, metrics 9450 (gateway) and 9451 … 9455.
EXPOSE 50051-50055 8080 9450-9455
# Kubernetes probes the services over gRPC health and the gateway on /healthz; a Docker
# HEALTHCHECK would only run a second probe that nothing acts on.
HEALTHCHECK NONE
CMD ["stockmesh", "--help"]
