# dnslens image: the local source, built without the embedded ClickHouse engine (chdb is an
# optional dependency of ~550 MB; in the compose stack dnslens writes to the ClickHouse server).
# test/image-build.test.ts runs the `build` and `deps` stages' steps natively and the result's
# --help, so keep COPY sources relative and stage paths under /app.

ARG NODE_IMAGE=node:24-trixie-slim

# --- build: compile TypeScript
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY docker/compiler-package.mjs ./docker/
# The lockfile without optional packages, then the one optional package the build needs: the
# TypeScript 7 compiler binary for this platform, at the lockfile's version.
RUN npm ci --omit=optional --ignore-scripts --no-audit --no-fund
RUN npm install --no-save --omit=optional --ignore-scripts --no-audit --no-fund "$(node docker/compiler-package.mjs)"
COPY tsconfig.json ./
COPY src ./src
RUN npx tsc -p tsconfig.json

# --- deps: production dependencies only (no dev, no optional: no embedded engine)
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --omit=optional --ignore-scripts --no-audit --no-fund

# --- runtime
FROM ${NODE_IMAGE} AS runtime
# tcpdump does the live capture (src/inputs/live/capture.ts). It gets the two capture capabilities as
# file capabilities, so dnslens itself runs as the unprivileged `node` user: a capture container
# needs `cap_add: [NET_RAW, NET_ADMIN]` (and no `no-new-privileges`, which would ignore file
# capabilities); other dnslens containers need no capability at all. /var/lib/dnslens (the spool
# volume's initial copy) is writable for any uid: the dnstap collector on a unix socket runs as
# the host user who owns the socket's directory.
RUN apt-get update \
 && apt-get install -y --no-install-recommends tcpdump libcap2-bin \
 && setcap cap_net_raw,cap_net_admin+eip "$(command -v tcpdump)" \
 && apt-get purge -y libcap2-bin \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /var/lib/dnslens /run/dnstap \
 && chown node:node /var/lib/dnslens /run/dnstap \
 && chmod 1777 /var/lib/dnslens
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY clickhouse ./clickhouse
COPY postgres ./postgres
COPY docker/health.mjs ./docker/
ENV NODE_ENV=production DNSLENS_DATADIR=/var/lib/dnslens
USER node
ENTRYPOINT ["node", "dist/src/cli/main.js"]
CMD ["--help"]
