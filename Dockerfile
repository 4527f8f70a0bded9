# syntax=docker/dockerfile:1
# Kafka Detective exporter image: `docker build -t kafka-detective:0.1.0 .`
#
# Two stages: the build stage installs the exporter and its runtime dependencies into a virtual environment (not
# the tools of tools/: no numpy, scipy, matplotlib, jsonnet or sandbox); the runtime stage copies only that
# environment onto a clean slim Python base, so pip caches and build tooling never reach the final image.
# Pin the base by digest in your build pipeline: --build-arg PYTHON_IMAGE=python:3.11-slim-bookworm@sha256:...
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY exporter ./exporter
RUN python -m venv /opt/kafka-detective \
 && /opt/kafka-detective/bin/pip install --no-compile . \
 && /opt/kafka-detective/bin/pip uninstall --yes pip setuptools wheel \
 && /opt/kafka-detective/bin/python -c "import kafka_detective, kafka, prometheus_client, yaml, requests, bcrypt" \
 && ! /opt/kafka-detective/bin/python -c "import kafka_detective_tools" 2>/dev/null

FROM ${PYTHON_IMAGE}
LABEL org.opencontainers.image.title="kafka-detective" \
      org.opencontainers.image.description="Prometheus exporter that diagnoses Kafka consumer lag, data loss and cluster health" \
      org.opencontainers.image.version="0.1.0" \
      org.opencontainers.image.licenses="Apache-2.0"
# The base image's own pip/setuptools/wheel are not needed at run time.
RUN python -m pip uninstall --yes --no-cache-dir pip setuptools wheel >/dev/null 2>&1 || true
COPY --from=build /opt/kafka-detective /opt/kafka-detective
ENV PATH=/opt/kafka-detective/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
# 65532: the conventional "nonroot" UID/GID; no home directory or shell needed. The Helm chart runs with the
# same IDs and a read-only root filesystem.
USER 65532:65532
WORKDIR /
EXPOSE 9308
ENTRYPOINT ["kafka-detective"]
CMD ["serve"]
