package sts_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssts "github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/awsproto/awsprototest"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/sts"
)

func TestGetCallerIdentity(t *testing.T) {
	c := awssts.NewFromConfig(awsprototest.Config(awsprototest.Serve(t, (&sts.Backend{}).Register)))
	out, err := c.GetCallerIdentity(context.Background(), &awssts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatalf("GetCallerIdentity: %v", err)
	}
	if got, want := aws.ToString(out.Account), "000000000000"; got != want {
		t.Errorf("Account = %q, want %q", got, want)
	}
	if got, want := aws.ToString(out.Arn), "arn:aws:iam::000000000000:root"; got != want {
		t.Errorf("Arn = %q, want %q", got, want)
	}
}
