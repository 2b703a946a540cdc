package ecr

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"slices"
	"time"

	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/awsproto"
)

// TargetPrefix is ECR's X-Amz-Target prefix.
const TargetPrefix = "AmazonEC2ContainerRegistry_V20150921"

// Register answers the ECR API (JSON 1.1) and mounts the OCI registry at /v2/.
func (b *Backend) Register(m *awsproto.Mux) {
	m.HandleJSON(awsproto.JSONService{TargetPrefix: TargetPrefix, Version: "1.1", Ops: map[string]awsproto.JSONOp{
		"CreateRepository":              op(b.apiCreateRepository),
		"DescribeRepositories":          op(b.apiDescribeRepositories),
		"DeleteRepository":              op(b.apiDeleteRepository),
		"DescribeImages":                op(b.apiDescribeImages),
		"ListImages":                    op(b.apiListImages),
		"GetAuthorizationToken":         op(b.apiGetAuthorizationToken),
		"BatchDeleteImage":              op(b.apiBatchDeleteImage),
		"PutImageTagMutability":         op(b.apiPutImageTagMutability),
		"PutImageScanningConfiguration": op(b.apiPutImageScanningConfiguration),
		"PutLifecyclePolicy":            op(b.apiPutLifecyclePolicy),
		"GetLifecyclePolicy":            op(b.apiGetLifecyclePolicy),
		"DeleteLifecyclePolicy":         op(b.apiDeleteLifecyclePolicy),
		"TagResource":                   op(b.apiTagResource),
		"UntagResource":                 op(b.apiUntagResource),
		"ListTagsForResource":           op(b.apiListTagsForResource),
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

type repoSettingIn struct {
	RepositoryName             *string `json:"repositoryName"`
	ImageTagMutability         string  `json:"imageTagMutability"`
	ImageScanningConfiguration *struct {
		ScanOnPush bool `json:"scanOnPush"`
	} `json:"imageScanningConfiguration"`
	LifecyclePolicyText *string `json:"lifecyclePolicyText"`
}

func (b *Backend) apiPutImageTagMutability(_ context.Context, in *repoSettingIn) (any, error) {
	if in.RepositoryName == nil || in.ImageTagMutability == "" {
		return nil, required("repositoryName")
	}
	r, err := b.UpdateRepository(*in.RepositoryName, func(r *Repository) error {
		if in.ImageTagMutability != "MUTABLE" && in.ImageTagMutability != "IMMUTABLE" {
			return errorf(CodeInvalidParameter, "Invalid parameter at 'imageTagMutability' failed to satisfy constraint: 'Member must satisfy enum value set: [MUTABLE, IMMUTABLE]'")
		}
		r.ImageTagMutability = in.ImageTagMutability
		return nil
	})
	if err != nil {
		return nil, err
	}
	return map[string]any{"registryId": b.cfg.Account, "repositoryName": r.Name, "imageTagMutability": r.ImageTagMutability}, nil
}

func (b *Backend) apiPutImageScanningConfiguration(_ context.Context, in *repoSettingIn) (any, error) {
	if in.RepositoryName == nil {
		return nil, required("repositoryName")
	}
	if in.ImageScanningConfiguration == nil {
		return nil, required("imageScanningConfiguration")
	}
	r, err := b.UpdateRepository(*in.RepositoryName, func(r *Repository) error {
		r.ScanOnPush = in.ImageScanningConfiguration.ScanOnPush
		return nil
	})
	if err != nil {
		return nil, err
	}
	return map[string]any{"registryId": b.cfg.Account, "repositoryName": r.Name, "imageScanningConfiguration": map[string]bool{"scanOnPush": r.ScanOnPush}}, nil
}

func (b *Backend) apiPutLifecyclePolicy(_ context.Context, in *repoSettingIn) (any, error) {
	if in.RepositoryName == nil {
		return nil, required("repositoryName")
	}
	if in.LifecyclePolicyText == nil {
		return nil, required("lifecyclePolicyText")
	}
	var doc struct {
		Rules []json.RawMessage `json:"rules"`
	}
	if err := json.Unmarshal([]byte(*in.LifecyclePolicyText), &doc); err != nil || len(doc.Rules) == 0 {
		return nil, errorf(CodeInvalidParameter, "Invalid parameter at 'LifecyclePolicyText' failed to satisfy constraint: 'Lifecycle policy validation failure: the policy must be a JSON object with a non-empty rules array'")
	}
	r, err := b.UpdateRepository(*in.RepositoryName, func(r *Repository) error {
		r.LifecyclePolicy = *in.LifecyclePolicyText
		return nil
	})
	if err != nil {
		return nil, err
	}
	return map[string]any{"registryId": b.cfg.Account, "repositoryName": r.Name, "lifecyclePolicyText": r.LifecyclePolicy}, nil
}

func (b *Backend) lifecyclePolicy(name string, remove bool) (any, error) {
	var text string
	r, err := b.UpdateRepository(name, func(r *Repository) error {
		if r.LifecyclePolicy == "" {
			return errorf(CodeLifecyclePolicyNotFound, "Lifecycle policy does not exist for the repository with name '%s' in the registry with id '%s'", name, b.cfg.Account)
		}
		text = r.LifecyclePolicy
		if remove {
			r.LifecyclePolicy = ""
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return map[string]any{"registryId": b.cfg.Account, "repositoryName": r.Name, "lifecyclePolicyText": text}, nil
}

func (b *Backend) apiGetLifecyclePolicy(_ context.Context, in *repoSettingIn) (any, error) {
	if in.RepositoryName == nil {
		return nil, required("repositoryName")
	}
	return b.lifecyclePolicy(*in.RepositoryName, false)
}

func (b *Backend) apiDeleteLifecyclePolicy(_ context.Context, in *repoSettingIn) (any, error) {
	if in.RepositoryName == nil {
		return nil, required("repositoryName")
	}
	return b.lifecyclePolicy(*in.RepositoryName, true)
}

type tagResourceIn struct {
	ResourceArn *string   `json:"resourceArn"`
	Tags        []tagJSON `json:"tags"`
	TagKeys     []string  `json:"tagKeys"`
}

func (b *Backend) apiTagResource(_ context.Context, in *tagResourceIn) (any, error) {
	if in.ResourceArn == nil || in.Tags == nil {
		return nil, required("resourceArn")
	}
	name, err := b.RepositoryByARN(*in.ResourceArn)
	if err != nil {
		return nil, err
	}
	_, err = b.UpdateRepository(name, func(r *Repository) error {
		if r.Tags == nil {
			r.Tags = map[string]string{}
		}
		for _, t := range in.Tags {
			if t.Key == "" || len(t.Key) > 128 || len(t.Value) > 256 {
				return errorf(CodeInvalidParameter, "Invalid parameter at 'tags': keys must be 1 to 128 characters and values at most 256")
			}
			r.Tags[t.Key] = t.Value
		}
		if len(r.Tags) > 50 {
			return errorf(CodeInvalidParameter, "Invalid parameter at 'tags': a repository can have at most 50 tags")
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return map[string]any{}, nil
}

func (b *Backend) apiUntagResource(_ context.Context, in *tagResourceIn) (any, error) {
	if in.ResourceArn == nil || in.TagKeys == nil {
		return nil, required("resourceArn")
	}
	name, err := b.RepositoryByARN(*in.ResourceArn)
	if err != nil {
		return nil, err
	}
	if _, err := b.UpdateRepository(name, func(r *Repository) error {
		for _, k := range in.TagKeys {
			delete(r.Tags, k)
		}
		return nil
	}); err != nil {
		return nil, err
	}
	return map[string]any{}, nil
}

func (b *Backend) apiListTagsForResource(_ context.Context, in *tagResourceIn) (any, error) {
	if in.ResourceArn == nil {
		return nil, required("resourceArn")
	}
	name, err := b.RepositoryByARN(*in.ResourceArn)
	if err != nil {
		return nil, err
	}
	rs, err := b.DescribeRepositories([]string{name})
	if err != nil {
		return nil, err
	}
	keys := slices.Sorted(maps.Keys(rs[0].Tags))
	out := make([]tagJSON, 0, len(keys))
	for _, k := range keys {
		out = append(out, tagJSON{Key: k, Value: rs[0].Tags[k]})
	}
	return map[string]any{"tags": out}, nil
}

type batchDeleteImageIn struct {
	RepositoryName *string       `json:"repositoryName"`
	ImageIDs       []imageIDJSON `json:"imageIds"`
}

func (b *Backend) apiBatchDeleteImage(_ context.Context, in *batchDeleteImageIn) (any, error) {
	if in.RepositoryName == nil {
		return nil, required("repositoryName")
	}
	if len(in.ImageIDs) == 0 || len(in.ImageIDs) > 100 {
		return nil, errorf(CodeInvalidParameter, "Invalid parameter at 'imageIds' failed to satisfy constraint: 'Member must have length between 1 and 100'")
	}
	if _, err := b.DescribeRepositories([]string{*in.RepositoryName}); err != nil {
		return nil, err
	}
	deleted := []imageIDJSON{}
	failures := []map[string]any{}
	for _, id := range in.ImageIDs {
		if err := b.DeleteImage(*in.RepositoryName, ImageID{Digest: id.ImageDigest, Tag: id.ImageTag}); err != nil {
			code, reason := "ImageNotFound", "Requested image not found"
			var e *Error
			if errors.As(err, &e) && e.Message == "ImageTagDoesNotMatchDigest" {
				code, reason = "ImageTagDoesNotMatchDigest", "Invalid image digest or tag"
			}
			failures = append(failures, map[string]any{"imageId": id, "failureCode": code, "failureReason": reason})
			continue
		}
		deleted = append(deleted, id)
	}
	return map[string]any{"imageIds": deleted, "failures": failures}, nil
}
