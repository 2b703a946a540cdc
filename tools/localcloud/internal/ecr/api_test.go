package ecr

import (
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/google/go-containerregistry/pkg/v1/random"

	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/awsproto/awsprototest"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/ecr/ecrtest"
)

// newAPI serves the ECR API and registry on one port, as localcloud does.
func newAPI(t *testing.T) (*Backend, *ecr.Client, string) {
	t.Helper()
	return newAPIClock(t, wallClock{})
}

// newAPIClock is newAPI with the backend reading clk.
func newAPIClock(t *testing.T, clk clock) (*Backend, *ecr.Client, string) {
	t.Helper()
	b, err := New(Config{Dir: t.TempDir(), Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	ep := awsprototest.Serve(t, b.Register)
	b.cfg.Host = strings.TrimPrefix(ep, "http://")
	return b, ecr.NewFromConfig(awsprototest.Config(ep)), ep
}

func TestAPIRepositories(t *testing.T) {
	ctx := context.Background()
	b, c, _ := newAPI(t)
	out, err := c.CreateRepository(ctx, &ecr.CreateRepositoryInput{
		RepositoryName:             aws.String("shipyard/app"),
		ImageTagMutability:         types.ImageTagMutabilityImmutable,
		ImageScanningConfiguration: &types.ImageScanningConfiguration{ScanOnPush: true},
	})
	if err != nil {
		t.Fatalf("CreateRepository = %v", err)
	}
	r := out.Repository
	if got, want := aws.ToString(r.RepositoryUri), b.Host()+"/shipyard/app"; got != want {
		t.Errorf("repositoryUri = %s, want %s", got, want)
	}
	if got, want := aws.ToString(r.RepositoryArn), "arn:aws:ecr:us-east-1:000000000000:repository/shipyard/app"; got != want {
		t.Errorf("repositoryArn = %s, want %s", got, want)
	}
	if r.ImageTagMutability != types.ImageTagMutabilityImmutable || !r.ImageScanningConfiguration.ScanOnPush || r.CreatedAt == nil {
		t.Errorf("repository = %+v, want IMMUTABLE, scanOnPush and a creation time", r)
	}

	// Push an image through the URI the API gave, then describe it.
	img, _ := random.Image(64, 1)
	ref, err := ecrtest.Push(img, b.Host(), "shipyard/app", "v1")
	if err != nil {
		t.Fatal(err)
	}
	imgs, err := c.DescribeImages(ctx, &ecr.DescribeImagesInput{RepositoryName: aws.String("shipyard/app"), ImageIds: []types.ImageIdentifier{{ImageTag: aws.String("v1")}}})
	if err != nil || len(imgs.ImageDetails) != 1 {
		t.Fatalf("DescribeImages = %+v, %v; want one image", imgs, err)
	}
	if d := aws.ToString(imgs.ImageDetails[0].ImageDigest); !strings.HasSuffix(ref, "@"+d) || aws.ToInt64(imgs.ImageDetails[0].ImageSizeInBytes) <= 0 {
		t.Errorf("DescribeImages digest = %s size %d, want the pushed %s", d, aws.ToInt64(imgs.ImageDetails[0].ImageSizeInBytes), ref)
	}

	tok, err := c.GetAuthorizationToken(ctx, &ecr.GetAuthorizationTokenInput{})
	if err != nil || len(tok.AuthorizationData) != 1 {
		t.Fatalf("GetAuthorizationToken = %+v, %v", tok, err)
	}
	raw, _ := base64.StdEncoding.DecodeString(aws.ToString(tok.AuthorizationData[0].AuthorizationToken))
	if !strings.HasPrefix(string(raw), "AWS:") || tok.AuthorizationData[0].ExpiresAt == nil {
		t.Errorf("authorization token decodes to %q, want AWS:<password> with an expiry", raw)
	}

	tests := []struct {
		name string
		call func() error
		want any
	}{
		{"create existing", func() error {
			_, err := c.CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String("shipyard/app")})
			return err
		}, &types.RepositoryAlreadyExistsException{}},
		{"create bad name", func() error {
			_, err := c.CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String("Upper/Case")})
			return err
		}, &types.InvalidParameterException{}},
		{"describe unknown", func() error {
			_, err := c.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{RepositoryNames: []string{"nope"}})
			return err
		}, &types.RepositoryNotFoundException{}},
		{"images of unknown", func() error {
			_, err := c.DescribeImages(ctx, &ecr.DescribeImagesInput{RepositoryName: aws.String("nope")})
			return err
		}, &types.RepositoryNotFoundException{}},
		{"unknown tag", func() error {
			_, err := c.DescribeImages(ctx, &ecr.DescribeImagesInput{RepositoryName: aws.String("shipyard/app"), ImageIds: []types.ImageIdentifier{{ImageTag: aws.String("v9")}}})
			return err
		}, &types.ImageNotFoundException{}},
		{"delete non-empty", func() error {
			_, err := c.DeleteRepository(ctx, &ecr.DeleteRepositoryInput{RepositoryName: aws.String("shipyard/app")})
			return err
		}, &types.RepositoryNotEmptyException{}},
		{"delete unknown", func() error {
			_, err := c.DeleteRepository(ctx, &ecr.DeleteRepositoryInput{RepositoryName: aws.String("nope")})
			return err
		}, &types.RepositoryNotFoundException{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if err == nil || !errors.As(err, &tt.want) {
				t.Errorf("%s = %v, want %T", tt.name, err, tt.want)
			}
		})
	}

	if _, err := c.DeleteRepository(ctx, &ecr.DeleteRepositoryInput{RepositoryName: aws.String("shipyard/app"), Force: true}); err != nil {
		t.Fatalf("DeleteRepository(force) = %v", err)
	}
	list, err := c.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{})
	if err != nil || len(list.Repositories) != 0 {
		t.Errorf("DescribeRepositories after delete = %d repositories, %v; want 0", len(list.Repositories), err)
	}
}

// TestAPIBadRequests sends what the SDK would refuse to send, and checks the
// error and that nothing was created.
func TestAPIBadRequests(t *testing.T) {
	b, _, url := newAPI(t)
	tests := []struct {
		name, op, body, wantType string
	}{
		{"malformed body", "CreateRepository", `{"repositoryName":`, "SerializationException"},
		{"wrong type", "CreateRepository", `{"repositoryName":42}`, "SerializationException"},
		{"missing name", "CreateRepository", `{}`, "ValidationException"},
		{"bad mutability", "CreateRepository", `{"repositoryName":"ok-name","imageTagMutability":"SOMETIMES"}`, "InvalidParameterException"},
		{"unknown operation", "FlyToTheMoon", `{}`, "UnknownOperationException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, url+"/", strings.NewReader(tt.body))
			req.Header.Set("X-Amz-Target", TargetPrefix+"."+tt.op)
			req.Header.Set("Content-Type", "application/x-amz-json-1.1")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), tt.wantType) {
				t.Errorf("%s %s = %d %s, want 400 %s", tt.op, tt.body, resp.StatusCode, body, tt.wantType)
			}
		})
	}
	if rs, _ := b.DescribeRepositories(nil); len(rs) != 0 {
		t.Errorf("repositories after bad requests = %d, want 0", len(rs))
	}
}

func TestPersistence(t *testing.T) {
	dir := t.TempDir()
	st := &fileStore{dir: t.TempDir()}
	b1, err := New(Config{Dir: dir, Store: st, Clock: wallClock{}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(b1.Registry())
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	if _, err := b1.CreateRepository("app", "", false, nil); err != nil {
		t.Fatal(err)
	}
	img, _ := random.Image(64, 1)
	ref, err := ecrtest.Push(img, host, "app", "v1")
	if err != nil {
		t.Fatal(err)
	}
	b2, err := New(Config{Dir: dir, Store: st, Clock: wallClock{}})
	if err != nil {
		t.Fatal(err)
	}
	if _, d, err := b2.Image("app:v1"); err != nil || !strings.HasSuffix(ref, d) {
		t.Errorf("Image(app:v1) after reopen = %s, %v; want %s", d, err, ref)
	}
}

func TestAPISettingsTagsAndImageDeletion(t *testing.T) {
	ctx := context.Background()
	b, c, _ := newAPI(t)
	out, err := c.CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String("app"), Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("a")}}})
	if err != nil {
		t.Fatal(err)
	}
	arn := out.Repository.RepositoryArn
	name := aws.String("app")

	if _, err := c.PutImageTagMutability(ctx, &ecr.PutImageTagMutabilityInput{RepositoryName: name, ImageTagMutability: types.ImageTagMutabilityImmutable}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutImageScanningConfiguration(ctx, &ecr.PutImageScanningConfigurationInput{RepositoryName: name, ImageScanningConfiguration: &types.ImageScanningConfiguration{ScanOnPush: true}}); err != nil {
		t.Fatal(err)
	}
	d, _ := c.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{RepositoryNames: []string{"app"}})
	if r := d.Repositories[0]; r.ImageTagMutability != types.ImageTagMutabilityImmutable || !r.ImageScanningConfiguration.ScanOnPush {
		t.Errorf("repository = %s scanOnPush %v, want IMMUTABLE and scan on push", r.ImageTagMutability, r.ImageScanningConfiguration.ScanOnPush)
	}

	var notFound *types.LifecyclePolicyNotFoundException
	if _, err := c.GetLifecyclePolicy(ctx, &ecr.GetLifecyclePolicyInput{RepositoryName: name}); !errors.As(err, &notFound) {
		t.Errorf("GetLifecyclePolicy(none) = %v, want LifecyclePolicyNotFoundException", err)
	}
	var invalid *types.InvalidParameterException
	if _, err := c.PutLifecyclePolicy(ctx, &ecr.PutLifecyclePolicyInput{RepositoryName: name, LifecyclePolicyText: aws.String(`{"rules":`)}); !errors.As(err, &invalid) {
		t.Errorf("PutLifecyclePolicy(malformed) = %v, want InvalidParameterException", err)
	}
	policy := `{"rules":[{"rulePriority":1,"selection":{"tagStatus":"untagged","countType":"imageCountMoreThan","countNumber":5},"action":{"type":"expire"}}]}`
	if _, err := c.PutLifecyclePolicy(ctx, &ecr.PutLifecyclePolicyInput{RepositoryName: name, LifecyclePolicyText: aws.String(policy)}); err != nil {
		t.Fatal(err)
	}
	if got, err := c.GetLifecyclePolicy(ctx, &ecr.GetLifecyclePolicyInput{RepositoryName: name}); err != nil || aws.ToString(got.LifecyclePolicyText) != policy {
		t.Errorf("GetLifecyclePolicy = %v, %v; want the policy put", got, err)
	}

	if _, err := c.TagResource(ctx, &ecr.TagResourceInput{ResourceArn: arn, Tags: []types.Tag{{Key: aws.String("env"), Value: aws.String("local")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UntagResource(ctx, &ecr.UntagResourceInput{ResourceArn: arn, TagKeys: []string{"team"}}); err != nil {
		t.Fatal(err)
	}
	tags, err := c.ListTagsForResource(ctx, &ecr.ListTagsForResourceInput{ResourceArn: arn})
	if err != nil || len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].Key) != "env" {
		t.Errorf("ListTagsForResource = %+v, %v; want only env", tags, err)
	}

	img, _ := random.Image(64, 1)
	ref, err := ecrtest.Push(img, b.Host(), "app", "v1")
	if err != nil {
		t.Fatal(err)
	}
	digest := ref[strings.Index(ref, "@")+1:]
	del, err := c.BatchDeleteImage(ctx, &ecr.BatchDeleteImageInput{RepositoryName: name, ImageIds: []types.ImageIdentifier{
		{ImageTag: aws.String("v1"), ImageDigest: aws.String("sha256:" + strings.Repeat("0", 64))},
		{ImageDigest: aws.String(digest)},
		{ImageTag: aws.String("nope")},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(del.ImageIds) != 1 || len(del.Failures) != 2 || del.Failures[0].FailureCode != types.ImageFailureCodeImageTagDoesNotMatchDigest || del.Failures[1].FailureCode != types.ImageFailureCodeImageNotFound {
		t.Errorf("BatchDeleteImage = deleted %v, failures %+v; want the digest deleted, a mismatch and a not-found", del.ImageIds, del.Failures)
	}
	if imgs, _ := b.DescribeImages("app", nil); len(imgs) != 0 {
		t.Errorf("images after deletion = %d, want 0", len(imgs))
	}
}
