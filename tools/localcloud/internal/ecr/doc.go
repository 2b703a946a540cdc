// Package ecr emulates Amazon ECR: a real OCI distribution registry (blobs and
// manifests on disk, pushed to and pulled from by docker-style clients and
// go-containerregistry) plus the ECR control-plane API (JSON 1.1) over the
// same repositories.
//
// The rules, as on AWS:
//   - a repository must exist (CreateRepository) before anything can be
//     pushed to it; a push to an unknown repository answers NAME_UNKNOWN;
//   - a manifest can be pushed only when every blob it references is present;
//   - with imageTagMutability IMMUTABLE a tag, once set, cannot move to
//     another digest;
//   - DeleteRepository refuses a repository that still holds images unless
//     force is set.
//
// Repositories live at <registry host>/<name>, where the registry host is the
// loopback host:port the server listens on (for example 127.0.0.1:4566). Such
// an address is treated as a plain-HTTP registry by go-containerregistry and
// by docker (127.0.0.0/8 is an insecure registry by default), so images are
// referenced as 127.0.0.1:4566/<repo>@sha256:<hex>.
package ecr
