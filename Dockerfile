# The clickstream worker: Node 20, the repo's pinned dependencies, run with tsx (no build step).
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
# Dev dependencies (test tools) are not needed to run the worker.
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force
# Only the sources the worker runs (no node_modules, .venv or lake data from the host).
COPY tsconfig.json ./
COPY core ./core
COPY config ./config
COPY lake ./lake
COPY sql ./sql
COPY activities ./activities
COPY workflows ./workflows
COPY workers ./workers
COPY generator ./generator
COPY client ./client
COPY cli ./cli
COPY devserver ./devserver
# Runs as the image's unprivileged user.
USER node
CMD ["npx", "tsx", "workers/worker.ts"]
