# syntax=docker/dockerfile:1
# Build stage: Rust 1.95 (the crate's minimum), release build of the single binary.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY migrations ./migrations
RUN cargo build --release --locked --bin niryat

# Runtime: slim Debian with CA certificates and tzdata, non-root user, data on a volume.
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates tzdata \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 niryat \
 && useradd --system --uid 10001 --gid niryat --home-dir /app --shell /usr/sbin/nologin niryat \
 && mkdir -p /app/config /data \
 && ln -s /data /app/data \
 && chown niryat:niryat /data
COPY --from=build /src/target/release/niryat /usr/local/bin/niryat
COPY config/niryat.toml /app/config/niryat.toml
WORKDIR /app
USER niryat
VOLUME ["/data"]
ENV NIRYAT_CONFIG=/app/config/niryat.toml
ENTRYPOINT ["niryat"]
CMD ["run"]
