package ecr

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"time"

	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/awsproto"
)

// TargetPrefix is ECR's X-Amz-Target prefix.
const TargetPrefix = "AmazonEC2ContainerRegistry_V20150921"

// Register answers the ECR API (JSON 1.1) and mounts the OCI registry at /v2/.
func (b *Backend) Register(m *awsproto.Mux) {
	m.HandleJSON(awsproto.JSONService{TargetPrefix: TargetPrefix, Version: "1.1", Ops: map[string]awsproto.JSONOp{
		"CreateRepository":      op(b.apiCreateRepository),
		"DescribeRepositories":  op(b.apiDescribeRepositories),
		"DeleteRepository":      op(b.apiDeleteRepository),
		"DescribeImages":        op(b.apiDescribeImages),
		"ListImages":            op(b.apiListImages),
		"GetAuthorizationToken": op(b.apiGetAuthorizationToken),
	}})
	m.Handle("/v2/", b.Registry())
}

// op adapts a typed operation and renders backend errors as AWS errors.
func op[In any](f func(context.Context, *In) (any, error)) awsproto.JSONOp {
	return awsproto.Op[In](func(ctx context.Context, in *In) (any, error) {
		out, err := f(ctx, in)
		var e *Error
		if errors.As(err, &e) {
			status := http.StatusBadRequest
			if e.Code == CodeServer {
				status = http.StatusInternalServerError
			}
			return nil, &awsproto.Error{Code: string(e.Code), Message: e.Message, Status: status}
		}
		return out, err
	}).JSON()
}

func required(field string) error {
	return awsproto.Validation("ValidationException", awsproto.Required(field))
}

type tagJSON struct {
	Key   string `json:"Key"`
	Value string `json:"Value"`
}

type repositoryJSON struct {
	RepositoryArn              string             `json:"repositoryArn"`
	RegistryID                 string             `json:"registryId"`
	RepositoryName             string             `json:"repositoryName"`
	RepositoryURI              string             `json:"repositoryUri"`
	CreatedAt                  awsproto.Timestamp `json:"createdAt"`
	ImageTagMutability         string             `json:"imageTagMutability"`
	ImageScanningConfiguration struct {
		ScanOnPush bool `json:"scanOnPush"`
	} `json:"imageScanningConfiguration"`
	EncryptionConfiguration struct {
		EncryptionType string `json:"encryptionType"`
	} `json:"encryptionConfiguration"`
}

func (b *Backend) repoJSON(r Repository) repositoryJSON {
	out := repositoryJSON{
		RepositoryArn: r.ARN, RegistryID: b.cfg.Account, RepositoryName: r.Name,
		RepositoryURI: b.URI(r.Name), CreatedAt: awsproto.NewTimestamp(r.CreatedAt),
		ImageTagMutability: r.ImageTagMutability,
	}
	out.ImageScanningConfiguration.ScanOnPush = r.ScanOnPush
	out.EncryptionConfiguration.EncryptionType = "AES256"
	return out
}

type createRepositoryIn struct {
	RepositoryName             *string `json:"repositoryName"`
	ImageTagMutability         string  `json:"imageTagMutability"`
	ImageScanningConfiguration *struct {
		ScanOnPush bool `json:"scanOnPush"`
	} `json:"imageScanningConfiguration"`
	Tags []tagJSON `json:"tags"`
}

func (b *Backend) apiCreateRepository(_ context.Context, in *createRepositoryIn) (any, error) {
	if in.RepositoryName == nil {
		return nil, required("repositoryName")
	}
	var tags map[string]string
	for _, t := range in.Tags {
		if tags == nil {
			tags = map[string]string{}
		}
		tags[t.Key] = t.Value
	}
	scan := in.ImageScanningConfiguration != nil && in.ImageScanningConfiguration.ScanOnPush
	r, err := b.CreateRepository(*in.RepositoryName, in.ImageTagMutability, scan, tags)
	if err != nil {
		return nil, err
	}
	return map[string]any{"repository": b.repoJSON(r)}, nil
}

type describeRepositoriesIn struct {
	RepositoryNames []string `json:"repositoryNames"`
	MaxResults      *int32   `json:"maxResults"`
}

func (b *Backend) apiDescribeRepositories(_ context.Context, in *describeRepositoriesIn) (any, error) {
	if in.MaxResults != nil && (*in.MaxResults < 1 || *in.MaxResults > 1000) {
		return nil, errorf(CodeInvalidParameter, "Invalid parameter at 'maxResults' failed to satisfy constraint: 'Member must have value between 1 and 1000'")
	}
	rs, err := b.DescribeRepositories(in.RepositoryNames)
	if err != nil {
		return nil, err
	}
	out := make([]repositoryJSON, 0, len(rs))
	for _, r := range rs {
		out = append(out, b.repoJSON(r))
	}
	return map[string]any{"repositories": out}, nil
}

type deleteRepositoryIn struct {
	RepositoryName *string `json:"repositoryName"`
	Force          bool    `json:"force"`
}

func (b *Backend) apiDeleteRepository(_ context.Context, in *deleteRepositoryIn) (any, error) {
	if in.RepositoryName == nil {
		return nil, required("repositoryName")
	}
	r, err := b.DeleteRepository(*in.RepositoryName, in.Force)
	if err != nil {
		return nil, err
	}
	return map[string]any{"repository": b.repoJSON(r)}, nil
}

type imageIDJSON struct {
	ImageDigest string `json:"imageDigest,omitempty"`
	ImageTag    string `json:"imageTag,omitempty"`
}

type describeImagesIn struct {
	RepositoryName *string       `json:"repositoryName"`
	ImageIDs       []imageIDJSON `json:"imageIds"`
}

type imageDetailJSON struct {
	RegistryID             string             `json:"registryId"`
	RepositoryName         string             `json:"repositoryName"`
	ImageDigest            string             `json:"imageDigest"`
	ImageTags              []string           `json:"imageTags,omitempty"`
	ImageSizeInBytes       int64              `json:"imageSizeInBytes"`
	ImagePushedAt          awsproto.Timestamp `json:"imagePushedAt"`
	ImageManifestMediaType string             `json:"imageManifestMediaType"`
	ArtifactMediaType      string             `json:"artifactMediaType,omitempty"`
}

func (b *Backend) apiDescribeImages(_ context.Context, in *describeImagesIn) (any, error) {
	if in.RepositoryName == nil {
		return nil, required("repositoryName")
	}
	var ids []ImageID
	for _, id := range in.ImageIDs {
		if id.ImageDigest == "" && id.ImageTag == "" {
			return nil, errorf(CodeInvalidParameter, "Invalid parameter at 'imageIds' failed to satisfy constraint: 'imageId must have either imageDigest or imageTag'")
		}
		ids = append(ids, ImageID{Digest: id.ImageDigest, Tag: id.ImageTag})
	}
	imgs, err := b.DescribeImages(*in.RepositoryName, ids)
	if err != nil {
		return nil, err
	}
	out := make([]imageDetailJSON, 0, len(imgs))
	for _, im := range imgs {
		out = append(out, imageDetailJSON{
			RegistryID: b.cfg.Account, RepositoryName: im.Repository, ImageDigest: im.Digest,
			ImageTags: im.Tags, ImageSizeInBytes: im.Size, ImagePushedAt: awsproto.NewTimestamp(im.PushedAt),
			ImageManifestMediaType: im.MediaType, ArtifactMediaType: im.ArtifactMediaType,
		})
	}
	return map[string]any{"imageDetails": out}, nil
}

func (b *Backend) apiListImages(_ context.Context, in *describeImagesIn) (any, error) {
	if in.RepositoryName == nil {
		return nil, required("repositoryName")
	}
	imgs, err := b.DescribeImages(*in.RepositoryName, nil)
	if err != nil {
		return nil, err
	}
	out := []imageIDJSON{}
	for _, im := range imgs {
		if len(im.Tags) == 0 {
			out = append(out, imageIDJSON{ImageDigest: im.Digest})
		}
		for _, t := range im.Tags {
			out = append(out, imageIDJSON{ImageDigest: im.Digest, ImageTag: t})
		}
	}
	return map[string]any{"imageIds": out}, nil
}

type authIn struct {
	RegistryIDs []string `json:"registryIds"`
}

// apiGetAuthorizationToken hands out a token the registry accepts; like ECR
// it is base64("AWS:<password>") and valid for 12 hours. The registry does
// not check it.
func (b *Backend) apiGetAuthorizationToken(_ context.Context, _ *authIn) (any, error) {
	now := b.cfg.Clock.Now()
	token := base64.StdEncoding.EncodeToString([]byte("AWS:localcloud-" + now.UTC().Format("20060102T150405Z")))
	return map[string]any{"authorizationData": []map[string]any{{
		"authorizationToken": token,
		"expiresAt":          awsproto.NewTimestamp(now.Add(12 * time.Hour)),
		"proxyEndpoint":      "http://" + b.cfg.Host,
	}}}, nil
}
