# syntax=docker/dockerfile:1
#
# docker build -t cadre .
# docker run --rm -p 8080:8080 -v cadre-data:/app/cadre-data cadre

# ---- dashboard --------------------------------------------------------------------------------
# The React app, built once here; the Rust stage embeds frontend/dist and skips its own npm run.
FROM node:20-bookworm-slim AS dashboard
WORKDIR /src/frontend
COPY frontend/package.json frontend/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY frontend ./
RUN npm run build

# ---- build ----------------------------------------------------------------------------------
# The toolchain the project is built and tested with (the locked dependencies need ≥ 1.89).
FROM rust:1.95-bookworm AS builder
WORKDIR /src

# The migrations are embedded at compile time (sqlx::migrate!), so they are part of the build
# context; no database is needed to build.
COPY Cargo.toml Cargo.lock build.rs ./
COPY src ./src
COPY --from=dashboard /src/frontend/dist ./frontend/dist
# Declared in Cargo.toml, so cargo needs it even though it is not built here.
COPY benches ./benches
COPY migrations ./migrations
COPY config ./config

# Cache the registry and the target directory between builds; the binary is copied out of the
# cache mount because the mount is not part of the image.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    CADRE_SKIP_FRONTEND=1 cargo build --release --locked \
    && cp target/release/cadre /usr/local/bin/cadre

# ---- run ------------------------------------------------------------------------------------
FROM debian:bookworm-slim

RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 cadre \
    && useradd --system --uid 10001 --gid cadre --home-dir /app --shell /usr/sbin/nologin cadre

WORKDIR /app
COPY --from=builder /usr/local/bin/cadre /usr/local/bin/cadre
# Read from the working directory: /app/config/cadre.toml.
COPY config/cadre.toml /app/config/cadre.toml
# SQLite's default place (store.data_dir = ./cadre-data); mount a volume here to keep it.
RUN mkdir -p /app/cadre-data && chown cadre:cadre /app/cadre-data
VOLUME ["/app/cadre-data"]

ENV CADRE_BIND=0.0.0.0:8080
EXPOSE 8080
USER cadre

# No HEALTHCHECK: the slim image has no HTTP client. Point the platform's probes at
# GET /healthz (liveness) and GET /readyz (store reachable).
ENTRYPOINT ["cadre"]
CMD ["serve"]
