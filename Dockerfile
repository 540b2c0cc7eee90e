# syntax=docker/dockerfile:1
# mailgate daemon image: Debian 12's Python 3.11, mailgate in a venv, run as an unprivileged user.
#
# Build: `docker build -t mailgate .`, or here (no Docker engine): scripts/build-image.
# Layout: the source tree stays at /opt/mailgate/src and is installed editable into /opt/mailgate/venv,
# because `mailgate db upgrade` finds the Alembic scripts next to the package (src/migrations).

FROM debian:bookworm-slim AS build

ARG DEBIAN_FRONTEND=noninteractive
# Versions are not pinned: the base is Debian stable, whose point and security updates are wanted here.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 python3-venv \
 && apt-get clean \
 && rm -rf /var/lib/apt/lists/*

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_ROOT_USER_ACTION=ignore

WORKDIR /opt/mailgate/src

# Dependencies first, from pyproject.toml alone, so a source change does not reinstall them.
# Optional secret "ca": a CA bundle for pip behind a TLS-intercepting proxy; it is not kept in the image.
COPY pyproject.toml ./
RUN --mount=type=secret,id=ca \
    if [ -s /run/secrets/ca ]; then export PIP_CERT=/run/secrets/ca; fi \
 && python3 -m venv /opt/mailgate/venv \
 && python3 -c 'import tomllib; print(*tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"], sep="\n")' \
      > /tmp/requirements.txt \
 && /opt/mailgate/venv/bin/pip install -r /tmp/requirements.txt \
 && rm /tmp/requirements.txt

COPY README.md LICENSE ./
COPY config/ config/
COPY migrations/ migrations/
COPY rules/ rules/
COPY mailgate/ mailgate/
RUN --mount=type=secret,id=ca \
    if [ -s /run/secrets/ca ]; then export PIP_CERT=/run/secrets/ca; fi \
 && /opt/mailgate/venv/bin/pip install --no-deps --editable . \
 && /opt/mailgate/venv/bin/pip uninstall -y -q pip setuptools \
 && rm -rf build ./*.egg-info \
 && /opt/mailgate/venv/bin/python -m compileall -q mailgate rules migrations


FROM debian:bookworm-slim

ARG DEBIAN_FRONTEND=noninteractive
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="mailgate" \
      org.opencontainers.image.description="Checks government information items submitted by email and answers every sender." \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="GPL-3.0-or-later" \
      org.opencontainers.image.base.name="docker.io/library/debian:bookworm-slim"

# ca-certificates: IMAP and SMTP over TLS verify the servers; tzdata: the units' time zone (Asia/Shanghai).
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 ca-certificates tzdata \
 && apt-get clean \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --gid 10001 mailgate \
 && useradd --uid 10001 --gid mailgate --no-log-init --no-create-home --home-dir /var/lib/mailgate \
      --shell /usr/sbin/nologin mailgate \
 && install -d -o mailgate -g mailgate -m 0750 /var/lib/mailgate \
 && install -d -m 0755 /etc/mailgate

COPY --from=build /opt/mailgate /opt/mailgate
# Every setting has a default, so the example (all defaults) lets the image start with an empty volume.
COPY config/mailgate.example.toml /etc/mailgate/mailgate.toml

ENV PATH=/opt/mailgate/venv/bin:$PATH \
    MAILGATE_CONFIG=/etc/mailgate/mailgate.toml \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1

# Numeric, so runtimes can tell it is not root (Kubernetes runAsNonRoot) without reading /etc/passwd.
USER 10001:10001
WORKDIR /var/lib/mailgate
VOLUME ["/etc/mailgate", "/var/lib/mailgate"]

HEALTHCHECK --interval=60s --timeout=20s --start-period=30s --retries=3 \
  CMD ["mailgate", "health", "--config", "/etc/mailgate/mailgate.toml"]

ENTRYPOINT ["mailgate"]
CMD ["run", "--config", "/etc/mailgate/mailgate.toml"]
