# syntax=docker/dockerfile:1
# share-gateway: one regional node per container.
#
#   docker build -t share-gateway:0.1.0 .
#   docker run --rm -v /etc/share-gateway/110000:/etc/share-gateway:ro share-gateway:0.1.0
#
# Two stages: the first builds the project's wheel and the wheels of its pinned dependencies; the second installs
# only those, from that folder and nothing else, into a virtual environment of a slim image, and runs as a user
# without privileges. Nothing of the build (compilers, sources, tests, pip's cache) reaches the runtime image.
# tests/unit/test_dockerfile.py lints this file; tests/e2e/test_wheel_serves.py does what it does, without an engine.

ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
# The project's wheel and one wheel per dependency, as pyproject.toml pins them.
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM ${PYTHON_IMAGE} AS runtime
LABEL org.opencontainers.image.title="share-gateway" \
      org.opencontainers.image.description="Federated gRPC gateway for public credit information" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV PATH=/opt/share-gateway/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
# The wheels come from the build stage through a mount: installed, never copied into a layer.
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    python -m venv /opt/share-gateway \
    && /opt/share-gateway/bin/pip install --no-cache-dir --no-index --find-links /wheels share-gateway==0.1.0 \
    && groupadd --system --gid 10001 share-gateway \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /var/lib/share-gateway \
       --shell /usr/sbin/nologin share-gateway \
    && mkdir -p /var/lib/share-gateway /etc/share-gateway \
    && chown share-gateway:share-gateway /var/lib/share-gateway
# Numeric, so that Kubernetes' runAsNonRoot can check it without reading /etc/passwd.
USER 10001:10001
WORKDIR /var/lib/share-gateway
# mTLS (registry, inquiry, peers) · public (catalog, health over TLS) · plain health for probes · metrics
EXPOSE 7443 7080 8081 9464
ENTRYPOINT ["share-gateway"]
# The node; a migration job runs the same image with `migrate --config ...`.
CMD ["serve", "--config", "/etc/share-gateway/node.yaml"]
