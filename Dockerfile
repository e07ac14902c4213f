# syntax=docker/dockerfile:1
#
# cronwarden as a container: `cronwarden scan`, configured by CRONWARDEN_* environment
# variables (docs/configuration.md), run nightly as a Cloud Run job (docs/deploy.md).
#
#   docker build -t cronwarden .
#   docker run --rm cronwarden scan --input examples/sample-org/resources.export.ndjson
#
# test/deploy/image-recipe.test.ts performs these steps without Docker: it reads the FROM,
# WORKDIR, COPY, RUN, ENV, USER, ENTRYPOINT and CMD lines below and runs them in a clean copy
# of the repository. Keep each instruction on one line and each RUN a plain command.

ARG NODE_IMAGE=node:24-trixie-slim

# Compile TypeScript. Dev dependencies are needed here and nowhere else. Install scripts are
# skipped: the root `prepare` script would build before the sources are copied, and the `node`
# devDependency (which pins Node 24 for npm scripts on machines whose Node is older) would
# download a second Node that this Node 24 base makes pointless.
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY rules ./rules
RUN npm run build

# Production dependencies only, from the same lock file. No dependency needs an install script
# at run time (protobufjs's only prints a version notice), and `prepare` needs tsc, a dev tool.
FROM ${NODE_IMAGE} AS prod-deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

# The runtime: compiled code, production node_modules, package.json (the version is read from
# it) and the bundled sample inventory. Files stay owned by root and read-only to the process.
FROM ${NODE_IMAGE} AS runtime
LABEL org.opencontainers.image.title="cronwarden" \
      org.opencontainers.image.description="Compliance scanner for Cloud Scheduler jobs that call Cloud Run and Cloud Functions" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV NODE_ENV=production
# /app is not writable by the runtime user; undeliverable Pub/Sub messages are kept in a 0700
# directory the process creates under /tmp (itself world-writable, so not the spool directory),
# one 0600 file per run; /tmp is in memory on Cloud Run, and a retried task publishes them again.
ENV CRONWARDEN_SPOOL_DIR=/tmp/cronwarden-spool
WORKDIR /app
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist/src ./dist/src
COPY --from=build /app/dist/rules ./dist/rules
COPY package.json ./
COPY examples ./examples
# The base image's unprivileged user (uid 1000).
USER node
# Node is PID 1 and handles SIGTERM itself: it stops taking jobs, flushes findings and exits.
ENTRYPOINT ["node", "/app/dist/src/cli/main.js"]
CMD ["scan"]
