package stack

import (
	"github.com/shipyard-ecs/shipyard/platform"
	"github.com/shipyard-ecs/shipyard/platform/cfn"
)

// Logical ids of the bootstrap stack.
const (
	logicalRepository   = "Repository"
	logicalBucket       = "ArtifactBucket"
	logicalBucketPolicy = "ArtifactBucketPolicy"
)

// untaggedImageDays is how long an untagged image (a superseded push) stays.
const untaggedImageDays = 14

// keptImages is how many tagged images the repository keeps: enough to roll
// back many deployments, few enough to bound storage.
const keptImages = 50

// Bootstrap renders the stack that must exist before the environment stack:
// the ECR repository the app image is pushed to, and the bucket the
// deploywatch Lambda's package is uploaded to.
func Bootstrap(spec platform.Spec) (*Stack, error) {
	t := cfn.New("Shipyard " + spec.Env + " bootstrap: image repository and artifact bucket (rendered by ship; edit ship.yaml, not this)")
	retain := spec.LoadBalancer.DeletionProtection // protected environments keep their images and artifacts

	lifecycle := map[string]any{"rules": []map[string]any{
		{
			"rulePriority": 1,
			"description":  "expire untagged images",
			"selection":    map[string]any{"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days", "countNumber": untaggedImageDays},
			"action":       map[string]any{"type": "expire"},
		},
		{
			"rulePriority": 2,
			"description":  "keep the newest images",
			"selection":    map[string]any{"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": keptImages},
			"action":       map[string]any{"type": "expire"},
		},
	}}
	repo := cfn.Of(cfn.Repository{
		RepositoryName:             RepositoryName(spec),
		ImageTagMutability:         "IMMUTABLE",
		ImageScanningConfiguration: cfn.ImageScanningConfiguration{ScanOnPush: true},
		EncryptionConfiguration:    cfn.RepositoryEncryption{EncryptionType: "AES256"},
		LifecyclePolicy:            cfn.RepositoryLifecyclePolicy{LifecyclePolicyText: mustJSON(lifecycle)},
		EmptyOnDelete:              !retain,
	})
	bucket := cfn.Of(cfn.Bucket{
		BucketEncryption: cfn.BucketEncryption{ServerSideEncryptionConfiguration: []cfn.ServerSideEncryptionRule{{
			ServerSideEncryptionByDefault: cfn.ServerSideEncryptionByDefault{SSEAlgorithm: "AES256"},
		}}},
		VersioningConfiguration: cfn.VersioningConfiguration{Status: "Enabled"},
		PublicAccessBlockConfiguration: cfn.PublicAccessBlockConfiguration{
			BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true,
		},
		OwnershipControls: cfn.OwnershipControls{Rules: []cfn.OwnershipControlsRule{{ObjectOwnership: "BucketOwnerEnforced"}}},
		LifecycleConfiguration: &cfn.LifecycleConfiguration{Rules: []cfn.LifecycleRule{{
			Id: "expire-old-versions", Status: "Enabled",
			NoncurrentVersionExpiration:    &cfn.NoncurrentVersionExpiration{NoncurrentDays: 30},
			AbortIncompleteMultipartUpload: &cfn.AbortIncompleteMultipartUpload{DaysAfterInitiation: 1},
		}}},
	})
	if retain {
		for _, r := range []*cfn.Resource{&repo, &bucket} {
			r.DeletionPolicy, r.UpdateReplacePolicy = "Retain", "Retain"
		}
	}
	t.Add(logicalRepository, repo)
	t.Add(logicalBucket, bucket)
	t.Add(logicalBucketPolicy, cfn.Of(cfn.BucketPolicy{
		Bucket: cfn.Ref(logicalBucket),
		PolicyDocument: cfn.PolicyDocument{Version: cfn.PolicyVersion, Statement: []cfn.Statement{{
			Sid:       "DenyInsecureTransport",
			Effect:    "Deny",
			Principal: &cfn.Principal{AWS: []cfn.Value{cfn.String("*")}},
			Action:    []string{"s3:*"},
			Resource:  []cfn.Value{cfn.GetAtt(logicalBucket, "Arn"), cfn.Sub("${" + logicalBucket + ".Arn}/*")},
			Condition: map[string]map[string]any{"Bool": {"aws:SecureTransport": "false"}},
		}}},
	}))

	t.Output(OutputRepositoryURI, "where ship pushes the app image", cfn.GetAtt(logicalRepository, "RepositoryUri"))
	t.Output(OutputRepositoryName, "the ECR repository's name", cfn.Ref(logicalRepository))
	t.Output(OutputRepositoryArn, "the ECR repository's ARN", cfn.GetAtt(logicalRepository, "Arn"))
	t.Output(OutputArtifactBucket, "where ship uploads the deploywatch package", cfn.Ref(logicalBucket))
	if spec.CI.Enabled() {
		ci(t, spec)
	}
	bound(t, spec)
	return &Stack{Name: BootstrapName(spec), Template: t, Parameters: map[string]string{}, Tags: tags(spec)}, nil
}
