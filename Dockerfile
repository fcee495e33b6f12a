# syntax=docker/dockerfile:1
#
# sockeyed in a container: built with the Swift toolchain on Debian 12, run on Debian 12 slim
# as an unprivileged user, with the Swift runtime linked in.
#
#   docker build -t sockeyed .
#   docker run -d --name sockeyed --init --stop-timeout 30 \
#       -e SLACK_APP_TOKEN=xapp-… -p 127.0.0.1:9464:9464 -v sockeyed-state:/var/lib/sockeyed sockeyed
#
# With your own configuration: -v "$PWD/sockeyed.yaml:/etc/sockeyed/sockeyed.yaml:ro" and the
# tokens it references as ${NAME} in --env-file (never in the file or the image). Reload it with
# `docker kill -s HUP sockeyed`. docker stop waits 10 s by default; the drain takes up to 15 s,
# hence --stop-timeout 30 (stop_grace_period: 30s in compose). docs/operations.md has the rest.

ARG SWIFT_IMAGE=swift:6.3-bookworm
ARG RUNTIME_IMAGE=debian:bookworm-slim

# --- build: the toolchain and the -dev packages sockeyed links (scripts/setup's list) --------
FROM ${SWIFT_IMAGE} AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        libwebsockets-dev libssl-dev pkg-config libsqlite3-dev libnats-dev libev-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# The Swift runtime and Foundation are linked statically: the runtime image has no toolchain.
# SwiftPM's folder is a cache between builds; the binary is copied out of it, stripped.
RUN --mount=type=cache,target=/src/.build \
    swift build -c release --product sockeyed --static-swift-stdlib \
 && install -D -m 0755 "$(swift build -c release --product sockeyed --static-swift-stdlib --show-bin-path)/sockeyed" \
        /out/usr/local/bin/sockeyed \
 && strip /out/usr/local/bin/sockeyed

# --- runtime: Debian 12 slim, the shared libraries sockeyed links, CA certificates ------------
FROM ${RUNTIME_IMAGE}
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        libwebsockets17 libwebsockets-evlib-ev libev4 libssl3 libnats3.4 libsqlite3-0 libstdc++6 ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 sockeyed \
 && useradd --system --uid 10001 --gid sockeyed --home-dir /var/lib/sockeyed --shell /usr/sbin/nologin sockeyed \
 && install -d -m 0755 /etc/sockeyed \
 && install -d -m 0750 -o sockeyed -g sockeyed /var/lib/sockeyed
COPY --from=build /out/ /
# The default configuration: one app from SLACK_APP_TOKEN, events on standard output.
COPY --chmod=0644 contrib/docker/sockeyed.yaml /etc/sockeyed/sockeyed.yaml
COPY --chmod=0644 sockeyed.example.yaml /usr/share/doc/sockeyed/sockeyed.example.yaml

ENV SOCKEYE_CONFIG=/etc/sockeyed/sockeyed.yaml
# Relative paths of file and spool sinks and the installation store land in the volume.
WORKDIR /var/lib/sockeyed
VOLUME ["/var/lib/sockeyed"]
USER 10001:10001
# The operations listener (/healthz, /readyz, /metrics, the status page; operations.listen),
# and the public listener of apps that take Slack's HTTP requests (public.listen, if any).
EXPOSE 9464 3000
# sockeyed asks its own operations listener (no curl in the image); a listener on another
# port needs `sockeyed healthcheck --address 127.0.0.1:PORT` here.
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 \
    CMD ["/usr/local/bin/sockeyed", "healthcheck", "--timeout", "5"]
# SIGTERM drains (up to 15 s); SIGHUP reloads the configuration.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/sockeyed"]
CMD ["run"]
