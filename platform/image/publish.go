package image

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// Published is an image in a registry.
type Published struct {
	// Ref is repository@sha256:…, what a task definition pins.
	Ref string
	// Tag is the tag it was pushed with, repository:tag.
	Tag    string
	Digest string
	// Size is the compressed size of the manifest's layers and config.
	Size int64
}

// Publisher pushes images to one registry with one set of credentials.
type Publisher struct {
	// Auth authenticates to the registry; nil means anonymous.
	Auth authn.Authenticator
	// Transport is the HTTP transport; nil means the default.
	Transport http.RoundTripper
}

var badTagChars = regexp.MustCompile(`[^A-Za-z0-9_.-]`)

// Tag is the tag an image is pushed with: the version, made a valid tag,
// and the digest's first 12 hex digits, so that an immutable repository
// never sees one tag on two images.
func Tag(version string, digest v1.Hash) string {
	v := badTagChars.ReplaceAllString(version, "-")
	v = strings.TrimLeft(v, ".-")
	if len(v) > 100 {
		v = v[:100]
	}
	if v == "" {
		v = "build"
	}
	return v + "-" + digest.Hex[:12]
}

// Reference is what Publish pins img by in repository,
// repository@sha256:…, and the digest. Both are known before any push, so
// a caller can tell whether a deployment would change anything without
// one.
func Reference(img v1.Image, repository string) (ref, digest string, err error) {
	d, err := img.Digest()
	if err != nil {
		return "", "", fmt.Errorf("digest the image: %w", err)
	}
	repo, err := name.NewRepository(repository)
	if err != nil {
		return "", "", fmt.Errorf("repository %q: %w", repository, err)
	}
	return repo.Name() + "@" + d.String(), d.String(), nil
}

// Publish pushes img to repository (host/name, e.g. the ECR repository URI)
// tagged for version, and returns it pinned by digest.
func (p Publisher) Publish(ctx context.Context, img v1.Image, repository, version string) (Published, error) {
	ref, _, err := Reference(img, repository)
	if err != nil {
		return Published{}, fmt.Errorf("publish image: %w", err)
	}
	digest, err := img.Digest()
	if err != nil {
		return Published{}, fmt.Errorf("publish image: %w", err)
	}
	tag, err := name.NewTag(repository + ":" + Tag(version, digest))
	if err != nil {
		return Published{}, fmt.Errorf("publish image: repository %q: %w", repository, err)
	}
	opts := []remote.Option{remote.WithContext(ctx)}
	if p.Auth != nil {
		opts = append(opts, remote.WithAuth(p.Auth))
	}
	if p.Transport != nil {
		opts = append(opts, remote.WithTransport(p.Transport))
	}
	if err := remote.Write(tag, img, opts...); err != nil {
		return Published{}, fmt.Errorf("push %s: %w", tag, err)
	}
	m, err := img.Manifest()
	if err != nil {
		return Published{}, fmt.Errorf("publish image: %w", err)
	}
	size := m.Config.Size
	for _, l := range m.Layers {
		size += l.Size
	}
	return Published{
		Ref:    ref,
		Tag:    tag.Name(),
		Digest: digest.String(),
		Size:   size,
	}, nil
}

// authorizer is the part of the ECR client ECRAuth uses.
type authorizer interface {
	GetAuthorizationToken(ctx context.Context, in *ecr.GetAuthorizationTokenInput, optFns ...func(*ecr.Options)) (*ecr.GetAuthorizationTokenOutput, error)
}

// ECRAuth exchanges the caller's AWS credentials for registry credentials,
// as `aws ecr get-login-password` does: the token is base64 "AWS:password".
func ECRAuth(ctx context.Context, api authorizer) (authn.Authenticator, error) {
	out, err := api.GetAuthorizationToken(ctx, &ecr.GetAuthorizationTokenInput{})
	if err != nil {
		return nil, fmt.Errorf("get an ECR authorization token: %w", err)
	}
	if len(out.AuthorizationData) == 0 || out.AuthorizationData[0].AuthorizationToken == nil {
		return nil, errors.New("get an ECR authorization token: the answer has none")
	}
	raw, err := base64.StdEncoding.DecodeString(*out.AuthorizationData[0].AuthorizationToken)
	if err != nil {
		return nil, fmt.Errorf("decode the ECR authorization token: %w", err)
	}
	user, pass, ok := strings.Cut(string(raw), ":")
	if !ok {
		return nil, errors.New("decode the ECR authorization token: want user:password")
	}
	return &authn.Basic{Username: user, Password: pass}, nil
}

// ErrImageNotFound means a named image is not in its registry.
var ErrImageNotFound = errors.New("image not found")

// Resolve pins an image reference by digest: a repository@sha256:… stays
// as it is once the registry has it, a tag becomes the digest it names
// now. An image the registry does not have is ErrImageNotFound.
func (p Publisher) Resolve(ctx context.Context, ref string) (string, error) {
	r, err := name.ParseReference(ref)
	if err != nil {
		return "", fmt.Errorf("%w: %q is not an image reference: %w", ErrImageNotFound, ref, err)
	}
	opts := []remote.Option{remote.WithContext(ctx)}
	if p.Auth != nil {
		opts = append(opts, remote.WithAuth(p.Auth))
	}
	if p.Transport != nil {
		opts = append(opts, remote.WithTransport(p.Transport))
	}
	desc, err := remote.Head(r, opts...)
	if err != nil {
		var te *transport.Error
		if errors.As(err, &te) && te.StatusCode == http.StatusNotFound {
			return "", fmt.Errorf("%w: %s is not in its registry; push it first, or drop --image to build one", ErrImageNotFound, ref)
		}
		return "", fmt.Errorf("look up image %s: %w", ref, err)
	}
	return r.Context().Name() + "@" + desc.Digest.String(), nil
}
