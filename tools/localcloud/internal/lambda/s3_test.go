package lambda_test

import (
	"bytes"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	s3sdk "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/awsproto/awsprototest"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/lambda"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/s3"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/state"
)

// TestCodeFromS3 uploads the zip with the S3 SDK client's default upload
// path to the real S3 backend, then creates and updates the function from
// it, as CloudFormation does for the platform's deploywatch.
func TestCodeFromS3(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	store, err := s3.New(s3.Config{Store: state.Store{Dir: filepath.Join(dir, "s3")}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	b, err := lambda.New(lambda.Config{CodeDir: filepath.Join(dir, "lambda"), S3: store})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	cfg := awsprototest.Config(awsprototest.Serve(t, b.Register, store.Register))
	s3c := s3sdk.NewFromConfig(cfg)
	lc := awslambda.NewFromConfig(cfg)
	if _, err := s3c.CreateBucket(ctx, &s3sdk.CreateBucketInput{Bucket: aws.String("artifacts")}); err != nil {
		t.Fatalf("CreateBucket: %v", err)
	}
	for _, key := range []string{"v1/fn.zip", "v2/fn.zip"} {
		if _, err := s3c.PutObject(ctx, &s3sdk.PutObjectInput{Bucket: aws.String("artifacts"), Key: aws.String(key), Body: bytes.NewReader(testZip)}); err != nil {
			t.Fatalf("PutObject(%s): %v", key, err)
		}
	}
	created, err := lc.CreateFunction(ctx, &awslambda.CreateFunctionInput{
		FunctionName: aws.String("fromS3"), Runtime: types.RuntimeProvidedal2023, Role: aws.String(role), Handler: aws.String("bootstrap"),
		Code: &types.FunctionCode{S3Bucket: aws.String("artifacts"), S3Key: aws.String("v1/fn.zip")},
	})
	if err != nil {
		t.Fatalf("CreateFunction from S3: %v", err)
	}
	if created.CodeSize != int64(len(testZip)) {
		t.Errorf("CreateFunction CodeSize = %d, want %d", created.CodeSize, len(testZip))
	}
	if _, err := lc.UpdateFunctionCode(ctx, &awslambda.UpdateFunctionCodeInput{FunctionName: aws.String("fromS3"), S3Bucket: aws.String("artifacts"), S3Key: aws.String("v2/fn.zip")}); err != nil {
		t.Fatalf("UpdateFunctionCode from S3: %v", err)
	}
	out, err := lc.Invoke(ctx, &awslambda.InvokeInput{FunctionName: aws.String("fromS3"), Payload: []byte(`{"from":"s3"}`)})
	if err != nil || out.FunctionError != nil || !strings.Contains(string(out.Payload), `"received":{"from":"s3"}`) {
		t.Errorf("Invoke = %s (%v), %v; want the echo", out.Payload, aws.ToString(out.FunctionError), err)
	}
	_, err = lc.CreateFunction(ctx, &awslambda.CreateFunctionInput{
		FunctionName: aws.String("missing"), Runtime: types.RuntimeProvidedal2023, Role: aws.String(role),
		Code: &types.FunctionCode{S3Bucket: aws.String("artifacts"), S3Key: aws.String("nope.zip")},
	})
	var bad *types.InvalidParameterValueException
	if !errors.As(err, &bad) {
		t.Errorf("CreateFunction from a missing S3 key = %v, want InvalidParameterValueException", err)
	}
}
