FROM node:20-bookworm-slim
WORKDIR /app
RUN npm install -g pnpm@10.34.9
COPY package.json pnpm-lock.yaml pnpm-workspace.yaml .npmrc ./
COPY packages packages
COPY services services
COPY apps apps
RUN pnpm install --frozen-lockfile
COPY . .
USER node
