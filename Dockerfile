# syntax=docker/dockerfile:1
# flinkswatch: the wheel is built in the first stage and installed, with its dependencies, in a
# slim final stage that has no compiler, no source tree and no secret. See deploy/README.md.
#
# The base is pinned by Python patch version and Debian suite. For byte-for-byte reproducible
# builds also pin the digest you pulled, e.g.
#   docker build --build-arg PYTHON_IMAGE=python:3.11.15-slim-trixie@sha256:<digest> .
# (`docker buildx imagetools inspect python:3.11.15-slim-trixie` prints it).
ARG PYTHON_IMAGE=python:3.11.15-slim-trixie

FROM ${PYTHON_IMAGE} AS build
WORKDIR /src
# The dependencies come from the lock (requirements.txt: exact versions with their hashes, made
# by `bash scripts/lock`), fetched first so that a code change does not download them again.
COPY requirements.txt ./
RUN pip download --no-cache-dir --require-hashes --only-binary=:all: --dest /wheels \
      -r requirements.txt \
    && cp requirements.txt /wheels/
COPY pyproject.toml README.md LICENSE ./
COPY app ./app
COPY migrations ./migrations
# The wheel of flinkswatch itself (migrations inside, as app.migrations), beside them, so the
# final stage installs everything without a network or a compiler.
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

FROM ${PYTHON_IMAGE} AS runtime
LABEL org.opencontainers.image.title="flinkswatch" \
      org.opencontainers.image.description="Watches Flinks data-provider registrations and alerts on Slack or email."

# The wheels come in through a bind mount, so they take no room in a layer. setuptools and
# wheel ship with the base image and are only needed to build: removed.
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    pip install --no-cache-dir --no-index --find-links=/wheels --require-hashes \
      -r /wheels/requirements.txt \
    && pip install --no-cache-dir --no-index --no-deps /wheels/flinkswatch-*.whl \
    && pip uninstall --yes setuptools wheel \
    && groupadd --system --gid 10001 flinkswatch \
    && useradd --system --uid 10001 --gid 10001 --home-dir /data --no-create-home \
       --shell /usr/sbin/nologin flinkswatch \
    && mkdir -p /data /app \
    && chown 10001:10001 /data \
    && chmod 0700 /data

# Settings come from the environment only (secrets too, or as <NAME>_FILE=/run/secrets/...).
# HTTP_HOST=0.0.0.0 so the probes and Prometheus can reach /healthz, /readyz and /metrics.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DATABASE_URL=sqlite:////data/flinkswatch.db \
    HTTP_HOST=0.0.0.0 \
    HTTP_PORT=8080

# /app is empty and not writable: no .env is read unless one is mounted there on purpose.
WORKDIR /app
VOLUME ["/data"]
USER 10001:10001
EXPOSE 8080

# /healthz is 200 while the last successful poll is under three intervals old. The start period
# covers migrations and the first poll; the probe is Python because slim images have no curl.
HEALTHCHECK --interval=30s --timeout=10s --start-period=120s --start-interval=5s --retries=3 \
    CMD ["python", "-m", "app.web", "/healthz"]

# Exec form: flinkswatch is PID 1 and gets SIGTERM itself; its handler finishes the cycle in
# progress and exits 0. It starts no child processes, so there are no zombies to reap
# (`docker run --init` / compose `init: true` adds tini anyway if you prefer).
STOPSIGNAL SIGTERM
ENTRYPOINT ["flinkswatch"]
CMD ["run"]
