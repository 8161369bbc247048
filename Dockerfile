# syntax=docker/dockerfile:1
#
# Multi-stage build of ModelLens for `docker compose up`:
#   frontend    npm ci + npm run build            -> /src/dist (module.js, plugin.json, img, dashboards, ...)
#   backend     mage build:<linux arch> + demo-model + demo-pg -> /src/dist/gpx_modellens_linux_<arch>, /out/...
#   grafana     Grafana OSS with the plugin in /var/lib/grafana/plugins/modellens-mlmonitoring-datasource
#   demo-model  the demo model server (Prediction Log API, Open Inference Protocol, /metrics) on :8090
#   demo-pg     the loader of the demo fleet into PostgreSQL (the sql source's default tables)
#   demo-feast  the loader of the demo fleet's Feast side (registry file, Redis online store,
#               PostgreSQL batch sources and monitoring rows)
#
# Build one image by hand with e.g. `docker build --target grafana -t modellens-grafana .`.

ARG NODE_VERSION=20
ARG GO_VERSION=1.26
ARG GRAFANA_VERSION=12.4.0

FROM node:${NODE_VERSION}-bookworm-slim AS frontend
WORKDIR /src
COPY package.json package-lock.json ./
RUN npx -y npm@10 ci --no-audit --no-fund
COPY . .
RUN npm run build

FROM golang:${GO_VERSION} AS backend
WORKDIR /src
ENV CGO_ENABLED=0
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# The plugin executable must match the Grafana image's architecture (amd64 or arm64 hosts).
ARG TARGETARCH
RUN case "${TARGETARCH:-amd64}" in \
      amd64) target=build:linux ;; \
      arm64) target=build:linuxARM64 ;; \
      arm) target=build:linuxARM ;; \
      *) echo "unsupported architecture: ${TARGETARCH}" >&2; exit 1 ;; \
    esac \
 && go run github.com/magefile/mage -v "${target}" \
 && go build -trimpath -ldflags "-s -w" -o /out/demo-model ./pkg/cmd/demo-model \
 && go build -trimpath -ldflags "-s -w" -o /out/demo-pg ./pkg/cmd/demo-pg \
 && go build -trimpath -ldflags "-s -w" -o /out/demo-feast ./pkg/cmd/demo-feast \
 && mkdir -p /out/feast

FROM grafana/grafana:${GRAFANA_VERSION} AS grafana
COPY --from=frontend /src/dist/ /var/lib/grafana/plugins/modellens-mlmonitoring-datasource/
COPY --from=backend /src/dist/ /var/lib/grafana/plugins/modellens-mlmonitoring-datasource/
ENV GF_PLUGINS_ALLOW_LOADING_UNSIGNED_PLUGINS=modellens-mlmonitoring-datasource
EXPOSE 3000

FROM gcr.io/distroless/static-debian12:nonroot AS demo-pg
COPY --from=backend /out/demo-pg /usr/local/bin/demo-pg
ENTRYPOINT ["/usr/local/bin/demo-pg"]

# /var/lib/feast is owned by the image's user: a new named volume mounted there starts as this
# directory (its owner included), so demo-feast may write the registry file into it.
FROM gcr.io/distroless/static-debian12:nonroot AS demo-feast
COPY --from=backend /out/demo-feast /usr/local/bin/demo-feast
COPY --from=backend --chown=65532:65532 /out/feast /var/lib/feast
ENTRYPOINT ["/usr/local/bin/demo-feast"]

FROM gcr.io/distroless/static-debian12:nonroot AS demo-model
COPY --from=backend /out/demo-model /usr/local/bin/demo-model
EXPOSE 8090
ENTRYPOINT ["/usr/local/bin/demo-model"]
CMD ["-listen", ":8090"]
