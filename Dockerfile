# s3kv container image: an official Swift image builds a release binary with the Swift runtime
# linked in statically; a slim Debian image runs it as a non-root user.
#
#   docker build -t s3kv .
#   docker run -p 8080:8080 -e S3_ENDPOINT=... -e S3_BUCKET=... -e S3_ACCESS_KEY=... -e S3_SECRET_KEY=... s3kv
#
# The base images are build arguments so the same file builds elsewhere with stand-ins
# (docker build --build-arg SWIFT_IMAGE=... --build-arg RUNTIME_IMAGE=...). No credential is
# baked in: every setting comes from the environment at run time.

ARG SWIFT_IMAGE=swift:6.3.1-bookworm
ARG RUNTIME_IMAGE=debian:bookworm-slim

# ---- build: release binary, static Swift runtime ----
FROM ${SWIFT_IMAGE} AS build
WORKDIR /src
# Dependencies first, so a source change reuses the resolved-packages layer.
COPY Package.swift ./
RUN swift package resolve
COPY Sources ./Sources
COPY Tests ./Tests
# Package.swift declares the benchmark's reference server too, so its source must be present.
COPY Benchmarks ./Benchmarks
# Debug info is stripped (it is most of the binary's size); symbols stay for crash backtraces.
RUN swift build -c release --static-swift-stdlib --product s3kv \
    && install -D -m 0755 "$(swift build -c release --show-bin-path)/s3kv" /out/s3kv \
    && strip --strip-debug /out/s3kv

# ---- test: the integration tests, run by `docker compose run test` against the composed MinIO ----
FROM build AS test
COPY scripts ./scripts
RUN swift build --build-tests
CMD ["scripts/test-against-s3"]

# ---- runtime ----
FROM ${RUNTIME_IMAGE} AS runtime
# libsqlite3 for the embedded store (GRDB links the system SQLite); CA certificates for HTTPS
# endpoints; tzdata for Foundation's time zones.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libsqlite3-0 ca-certificates tzdata \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --user-group --home-dir /var/lib/s3kv --create-home --shell /usr/sbin/nologin s3kv
COPY --from=build /out/s3kv /usr/local/bin/s3kv
USER s3kv:s3kv
WORKDIR /var/lib/s3kv
# Listen on every interface inside the container; the embedded store (KV_STORAGE=local) keeps
# its data under the volume at /var/lib/s3kv.
ENV HOST=0.0.0.0 \
    PORT=8080 \
    KV_DATA_DIR=/var/lib/s3kv/data
VOLUME ["/var/lib/s3kv"]
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=5s --start-period=15s --retries=3 CMD ["s3kv", "healthcheck"]
ENTRYPOINT ["s3kv"]
CMD ["serve"]
