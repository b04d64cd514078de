# syntax=docker/dockerfile:1
# The callcenter-ari application: one Python process, the Stasis app "callcenter", HTTP on 8080.
#
# Two stages: the first runs `pip install .` into a virtualenv (with pip's build tooling and the source tree
# around), the second copies only that virtualenv onto a clean slim base. Every dependency ships manylinux
# wheels, so no compiler is needed in either stage.

FROM python:3.11-slim-bookworm AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/callcenter-ari
WORKDIR /src
COPY pyproject.toml README.md ./
COPY callcenter_ari ./callcenter_ari
RUN /opt/callcenter-ari/bin/pip install --no-cache-dir .

FROM python:3.11-slim-bookworm
ENV PATH=/opt/callcenter-ari/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
# A fixed uid so that files the app writes to mounted volumes have a predictable owner on the host.
RUN groupadd --system --gid 10001 callcenter \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin callcenter
COPY --from=build /opt/callcenter-ari /opt/callcenter-ari
USER 10001:10001
# The configuration is mounted here (see compose.yaml); secrets come from the environment, not the file.
WORKDIR /etc/callcenter-ari
EXPOSE 8080
# slim has no curl: ask /health with the interpreter that is already there. urlopen raises on any non-2xx.
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/health', timeout=2)"]
CMD ["callcenter-ari", "run", "--config", "/etc/callcenter-ari/callcenter.toml"]
