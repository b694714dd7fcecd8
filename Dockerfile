# grid-dispatch services, compiled. Three stages:
#   build    the whole workspace with every dependency; `pnpm build` compiles the services and the
#            CLI to dist/ (esbuild; our packages bundled, SQL migrations and topics.json copied in).
#   deps     a fresh production install: the root's "dependencies" only (pruning the build stage's
#            node_modules would leave every dev package in pnpm's store directory).
#   runtime  node, the production node_modules and dist/: no TypeScript, tsx, esbuild or test tools.
# One service per container: `node dist/intake.js` (grid-routing, sla-timer, notification), as
# docker-compose.yml runs them; the CLI is `node dist/griddispatch.js <command>`.

FROM node:20-bookworm-slim AS base
WORKDIR /app
RUN npm install -g pnpm@10.34.9
COPY package.json pnpm-lock.yaml pnpm-workspace.yaml .npmrc ./
COPY packages packages
COPY services services
COPY apps apps

FROM base AS build
RUN pnpm install --frozen-lockfile
COPY infra infra
RUN pnpm build

FROM base AS deps
RUN pnpm install --prod --frozen-lockfile

FROM node:20-bookworm-slim AS runtime
WORKDIR /app
COPY --from=deps /app/node_modules node_modules
COPY --from=build /app/dist dist
USER node
EXPOSE 8080
CMD ["node", "--enable-source-maps", "dist/griddispatch.js", "--help"]
