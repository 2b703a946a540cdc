// Package image builds the app's container image without Docker and
// publishes it, the way ko does: the Go package is cross-compiled with CGO
// off and -trimpath into a static binary, the binary becomes the single layer
// of an OCI image, and the image is pushed to a registry and named by digest.
//
// There is no base image. A distroless static image (what the Dockerfile
// uses) adds CA certificates, tzdata and an /etc/passwd naming uid 65532; the
// app needs none of them (it makes no outbound TLS calls and its user is set
// by number), and pulling a base needs a registry that may not be reachable,
// so the image is the binary alone at /app, run as 65532:65532 — the same
// entrypoint, user and port as the Dockerfile's image.
//
// Images are reproducible: the layer's files and the config carry fixed
// times, so the same source and flags give the same digest.
//
// Where a Docker engine exists, DockerBuild builds the Dockerfile's image
// instead (docker build, then docker image save) and hands it to the same
// Publisher; CheckDocker says first, as ErrNoDocker, when there is no
// engine to build with.
package image
