# The sample service (services/app) as a distroless, non-root image.
#
#   make image
#   docker build --build-arg VERSION=$(git describe --tags --always) \
#                --build-arg COMMIT=$(git rev-parse HEAD) -t shipyard/app .
#
# `ship deploy` builds the same image without Docker (ko-style); this file is
# for machines that have Docker. tools/devtools/dockerfilecheck parses it with
# BuildKit's own parser and keeps it in step with the Makefile: base images
# pinned, the Go version equal to the Makefile's GOTOOLCHAIN, the same build
# flags, non-root, port 5000, exec-form entrypoint. No "# syntax=" line: it
# would pull a frontend image unpinned; Docker's built-in BuildKit frontend
# already knows RUN --mount.

# The approved toolchain (docs/decisions/0001-go-toolchain.md). No digest of
# this tag could be looked up from our network, so it is pinned by exact
# version; add @sha256:<index digest> from `docker buildx imagetools inspect
# golang:1.27.3-trixie` on a machine with registry access.
FROM golang:1.27.3-trixie AS build
WORKDIR /src
# The image's Go is the approved one: never let go.work's `go` line fetch
# another toolchain. CGO off gives a static binary for distroless/static.
ENV CGO_ENABLED=0 GOTOOLCHAIN=local

# Module files first, so editing sources does not re-download dependencies.
# go.work names every module, so each one's go.mod must be present for the
# workspace to load, even the ones the app does not import.
COPY go.work go.work.sum* ./
COPY services/app/go.mod services/app/go.sum* services/app/
COPY platform/go.mod platform/go.sum* platform/
COPY lambdas/deploywatch/go.mod lambdas/deploywatch/go.sum* lambdas/deploywatch/
COPY tools/ship/go.mod tools/ship/go.sum* tools/ship/
COPY tools/localcloud/go.mod tools/localcloud/go.sum* tools/localcloud/
COPY tools/loadgen/go.mod tools/loadgen/go.sum* tools/loadgen/
RUN go mod download

# Only the app's sources: it imports nothing else of the monorepo (DESIGN.md
# §1), so changes elsewhere never rebuild the image.
COPY services/app/ services/app/
ARG VERSION=dev
ARG COMMIT=unknown
RUN --mount=type=cache,target=/root/.cache/go-build \
    go build -trimpath -ldflags "-s -w -X main.version=${VERSION} -X main.commit=${COMMIT}" \
      -o /out/app ./services/app

# Static, no shell, no package manager; the :nonroot variant runs as
# 65532:65532. Digest of the multi-arch :nonroot index.
FROM gcr.io/distroless/static-debian12:nonroot@sha256:d093aa3e30dbadd3efe1310db061a14da60299baff8450a17fe0ccc514a16639
COPY --from=build /out/app /app
USER 65532:65532
EXPOSE 5000
# Exec form: the app is PID 1 and receives ECS's SIGTERM itself, which starts
# its graceful drain. No HEALTHCHECK: ECS ignores it; the task definition's
# healthCheck runs ["CMD", "/app", "healthcheck"] instead.
ENTRYPOINT ["/app"]
