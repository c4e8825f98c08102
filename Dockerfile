# syntax=docker/dockerfile:1
# Backlot's container image:  docker build -t backlot:0.1.0 .
# The final stage holds Node.js, the bundle and the executable that runs it. Both stages'
# RUN steps are scripts/image.sh, which test/integration/deploy-image.test.ts also runs
# (build, production install, `backlot --help`, and `backlot run` as UID 65532 on a
# read-only root filesystem against a real API server).
ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
COPY scripts/image.sh scripts/image.sh
RUN sh scripts/image.sh deps
COPY tsconfig.json ./
COPY scripts/build.ts scripts/build.ts
COPY src src
RUN sh scripts/image.sh build /opt/backlot

FROM ${NODE_IMAGE}
ENV NODE_ENV=production \
    PATH=/opt/backlot/bin:$PATH
# Owned by root and read-only to the process: nothing in the image is written at run time,
# so the root filesystem can be mounted read-only.
COPY --from=build /opt/backlot /opt/backlot
# Any non-root UID works; deploy/deployment.yaml runs it as 65532 too.
USER 65532:65532
EXPOSE 8443 8081
ENTRYPOINT ["/opt/backlot/bin/backlot", "run"]
