# syntax=docker/dockerfile:1
# niryat container image. Three stages:
#   build   — Rust 1.95 (the crate's minimum): the dependencies are compiled from a stub crate
#             first (a layer that stays cached while only src/ changes), then the real sources.
#   rootfs  — Debian bookworm slim: assembles a minimal root file system (the binary, the C
#             libraries it links, CA certificates, tzdata, a passwd entry for uid 10001).
#   final   — scratch + that root file system: no shell, no apt, no curl (the health check is
#             `niryat healthcheck`). 30.6 MB (`../shared/tools/container-check -- --version`);
#             debian:bookworm-slim alone is 82 MB.

FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
# 1. Dependencies only: the real manifest and lock file over stub targets.
COPY Cargo.toml Cargo.lock ./
RUN mkdir -p src tests/integration benches \
 && echo 'fn main() {}' > src/main.rs \
 && : > src/lib.rs \
 && : > tests/integration/main.rs \
 && echo 'fn main() {}' > benches/pipeline.rs \
 && cargo build --release --locked --bin niryat \
 && rm -rf src
# 2. The real sources. `touch`: COPY keeps the context's modification times, which may be older
#    than the stub build; cargo must see the sources as changed.
COPY src ./src
COPY migrations ./migrations
RUN touch src/lib.rs src/main.rs \
 && cargo build --release --locked --bin niryat

FROM debian:bookworm-slim AS rootfs
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates tzdata \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/* /var/log/apt /var/log/dpkg.log
COPY --from=build /src/target/release/niryat /usr/local/bin/niryat
COPY config/niryat.toml /rootfs/app/config/niryat.toml
RUN set -eu; \
    r=/rootfs; \
    mkdir -p $r/usr/local/bin $r/etc/ssl/certs $r/usr/share $r/data $r/tmp; \
    cp /usr/local/bin/niryat $r/usr/local/bin/niryat; \
    # the C libraries the binary links (libc, libm, libgcc_s …) and the dynamic loader
    for lib in $(ldd /usr/local/bin/niryat | grep -o '/[^ ]*'); do cp --parents -L "$lib" $r; done; \
    cp /etc/ssl/certs/ca-certificates.crt $r/etc/ssl/certs/; \
    cp -a /usr/share/zoneinfo $r/usr/share/; \
    cp /etc/nsswitch.conf $r/etc/; \
    printf 'root:x:0:0:root:/root:/sbin/nologin\nniryat:x:10001:10001:niryat:/app:/sbin/nologin\n' > $r/etc/passwd; \
    printf 'root:x:0:\nniryat:x:10001:\n' > $r/etc/group; \
    chown 10001:10001 $r/data; \
    chmod 1777 $r/tmp

FROM scratch
COPY --from=rootfs /rootfs /
ENV PATH=/usr/local/bin \
    SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \
    NIRYAT_CONFIG=/app/config/niryat.toml \
    NIRYAT__STORAGE__PATH=/data/niryat.sqlite3
WORKDIR /app
USER 10001:10001
VOLUME ["/data"]
EXPOSE 8080
# `niryat healthcheck` asks the local HTTP endpoint, or checks the database when it is off.
HEALTHCHECK --interval=60s --timeout=10s --start-period=60s --retries=3 CMD ["niryat", "healthcheck"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["niryat"]
CMD ["run"]
