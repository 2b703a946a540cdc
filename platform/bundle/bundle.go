// Package bundle builds and uploads a Go Lambda's deployment package: the
// function cross-compiled to a static binary named bootstrap (runtime
// provided.al2023) with the Lambda build tags (Tags), zipped with fixed times so that the same source gives
// the same bytes, and stored in S3 under a key named by its SHA-256, so a
// package that did not change does not change the stack.
package bundle

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/shipyard-ecs/shipyard/platform/image"
)

// Package is a built deployment package.
type Package struct {
	Zip []byte
	// Key is <prefix>/<sha256 of Zip>.zip.
	Key string
}

// Tags are the build tags of every Go Lambda this package builds, the
// Makefile's Lambda build's too (a test keeps the two in step).
// lambda.norpc drops aws-lambda-go's RPC mode: only the retired go1.x
// runtime used it, and it brings net/rpc and encoding/gob, about a third of
// deploywatch's binary (20 MB without the tag, 14 MB with it).
var Tags = []string{"lambda.norpc"}

// Build compiles the function described by o (its Dir and Package, OS and
// Arch, Version and Commit) with Tags added to o.Tags, and zips it as
// bootstrap; the key starts with prefix.
func Build(ctx context.Context, o image.Options, prefix string) (Package, error) {
	o.Tags = append(slices.Clone(o.Tags), Tags...)
	tmp, err := os.MkdirTemp("", "ship-bundle-")
	if err != nil {
		return Package{}, fmt.Errorf("build package: %w", err)
	}
	defer os.RemoveAll(tmp)
	bin := filepath.Join(tmp, "bootstrap")
	if err := image.Compile(ctx, o, bin); err != nil {
		return Package{}, err
	}
	data, err := os.ReadFile(bin)
	if err != nil {
		return Package{}, fmt.Errorf("build package: %w", err)
	}
	z, err := Zip(data)
	if err != nil {
		return Package{}, err
	}
	sum := sha256.Sum256(z)
	return Package{Zip: z, Key: prefix + "/" + hex.EncodeToString(sum[:]) + ".zip"}, nil
}

// Zip stores binary as an executable bootstrap with a fixed time.
func Zip(binary []byte) ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	h := &zip.FileHeader{Name: "bootstrap", Method: zip.Deflate, Modified: time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)}
	h.SetMode(0o755)
	w, err := zw.CreateHeader(h)
	if err != nil {
		return nil, fmt.Errorf("zip package: %w", err)
	}
	if _, err := w.Write(binary); err != nil {
		return nil, fmt.Errorf("zip package: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("zip package: %w", err)
	}
	return buf.Bytes(), nil
}

// objects is the part of the S3 client Upload uses.
type objects interface {
	HeadObject(ctx context.Context, in *s3.HeadObjectInput, optFns ...func(*s3.Options)) (*s3.HeadObjectOutput, error)
	PutObject(ctx context.Context, in *s3.PutObjectInput, optFns ...func(*s3.Options)) (*s3.PutObjectOutput, error)
}

// Upload stores the package in bucket unless it is there already (the key
// names the content), and reports whether it uploaded.
func Upload(ctx context.Context, api objects, bucket string, p Package) (bool, error) {
	_, err := api.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(p.Key)})
	if err == nil {
		return false, nil
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) || (ae.ErrorCode() != "NotFound" && ae.ErrorCode() != "NoSuchKey") {
		return false, fmt.Errorf("look for s3://%s/%s: %w", bucket, p.Key, err)
	}
	if _, err := api.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(p.Key), Body: bytes.NewReader(p.Zip),
		ContentType: aws.String("application/zip")}); err != nil {
		return false, fmt.Errorf("upload s3://%s/%s: %w", bucket, p.Key, err)
	}
	return true, nil
}
