# syntax=docker/dockerfile:1
# Multi-stage build: compile with the full toolchain, ship only production dependencies and dist/.

FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# Install scripts are never needed (Prisma's client is generated explicitly below).
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json nest-cli.json prisma.config.ts ./
COPY scripts ./scripts
COPY prisma ./prisma
COPY src ./src
RUN npm run build && npm prune --omit=dev --ignore-scripts

FROM node:24-bookworm-slim AS runtime
ENV NODE_ENV=production \
    PORT=3000 \
    HOST=0.0.0.0
WORKDIR /app
COPY --from=build --chown=node:node /app/package.json /app/package-lock.json ./
COPY --from=build --chown=node:node /app/scripts ./scripts
COPY --from=build --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/prisma ./prisma
COPY --from=build --chown=node:node /app/dist ./dist
USER node
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/health/live').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# Configure with DATABASE_URL (and API_KEYS: required when NODE_ENV=production); behind PgBouncer in
# transaction mode, DATABASE_DIRECT_URL as well (migrations, LISTEN and advisory locks use it).
# Migrations run first (safe with several replicas: they serialise on an advisory lock); exec makes
# node PID 1 so SIGTERM reaches its graceful shutdown.
CMD ["sh", "-c", "npm run db:migrate && exec node dist/main.js"]
