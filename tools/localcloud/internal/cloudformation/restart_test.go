package cloudformation_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cfnapi "github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"

	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/awsproto"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/awsproto/awsprototest"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/clock"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/cloudformation"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/state"
)

// blocking is a provisioner that creates nothing until released (or its
// context ends), to catch a stack mid-operation.
type blocking struct {
	started chan struct{}
	release chan struct{}
}

func (b blocking) Create(ctx context.Context, r *cloudformation.Request) (cloudformation.Result, error) {
	close(b.started)
	select {
	case <-b.release:
	case <-ctx.Done():
		return cloudformation.Result{}, ctx.Err()
	}
	return cloudformation.Result{PhysicalID: r.LogicalID}, nil
}

func (blocking) Update(_ context.Context, _ *cloudformation.Request, prev cloudformation.Result, _ map[string]any) (cloudformation.Result, error) {
	return prev, nil
}

func (blocking) Delete(context.Context, *cloudformation.Request, cloudformation.Result) error {
	return nil
}

// serveCFN serves one CloudFormation backend on its own mux, with a path
// that answers templates the way S3 would for a TemplateURL.
func serveCFN(t *testing.T, store state.Store, provs map[string]cloudformation.Provisioner, templates map[string]string) (*cfnapi.Client, *cloudformation.Backend, func()) {
	t.Helper()
	mux := awsproto.NewMux(slog.New(slog.DiscardHandler))
	mux.Handle("/templates/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ok := templates[strings.TrimPrefix(r.URL.Path, "/templates/")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		_, _ = io.WriteString(w, body) // a client gone away is not this test's concern
	}))
	b, err := cloudformation.New(cloudformation.Config{Clock: clock.New(1), Store: store, Handler: mux, Provisioners: provs})
	if err != nil {
		t.Fatal(err)
	}
	b.Register(mux)
	srv := httptest.NewServer(mux)
	c := cfnapi.NewFromConfig(awsprototest.Config(srv.URL))
	return c, b, func() { srv.Close(); b.Close() }
}

func describe(t *testing.T, c *cfnapi.Client, name string) cfntypes.Stack {
	t.Helper()
	out, err := c.DescribeStacks(ctx, &cfnapi.DescribeStacksInput{StackName: aws.String(name)})
	if err != nil {
		t.Fatalf("DescribeStacks(%s): %v", name, err)
	}
	return out.Stacks[0]
}

// TestRestart: stacks survive a restart with their resources and outputs;
// one caught mid-create comes back failed, saying why.
func TestRestart(t *testing.T) {
	t.Parallel()
	store := state.Store{Dir: t.TempDir()}
	templates := map[string]string{
		"vpc.json":   `{"Resources":{"V":{"Type":"AWS::EC2::VPC","Properties":{"CidrBlock":"10.3.0.0/16"}}},"Outputs":{"Vpc":{"Value":{"Ref":"V"}}}}`,
		"stuck.json": `{"Resources":{"S":{"Type":"Test::Block::Thing"}}}`,
	}
	block := blocking{started: make(chan struct{}), release: make(chan struct{})}
	c1, _, stop1 := serveCFN(t, store, map[string]cloudformation.Provisioner{"Test::Block::Thing": block}, templates)
	defer stop1()
	// The template comes from a URL, path-style, as from S3.
	if _, err := c1.CreateStack(ctx, &cfnapi.CreateStackInput{StackName: aws.String("keep"), TemplateURL: aws.String("http://127.0.0.1:4566/templates/vpc.json")}); err != nil {
		t.Fatal(err)
	}
	if err := cfnapi.NewStackCreateCompleteWaiter(c1, func(o *cfnapi.StackCreateCompleteWaiterOptions) {
		o.MinDelay, o.MaxDelay = 20*time.Millisecond, 100*time.Millisecond
	}).
		Wait(ctx, &cfnapi.DescribeStacksInput{StackName: aws.String("keep")}, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	before := describe(t, c1, "keep")
	if _, err := c1.CreateStack(ctx, &cfnapi.CreateStackInput{StackName: aws.String("stuck"), TemplateURL: aws.String("http://127.0.0.1:4566/templates/missing.json")}); !strings.Contains(apiCode(err), "S3 error") {
		t.Errorf("CreateStack(TemplateURL to a missing object) = %v, want an S3 error", err)
	}
	// Virtual-hosted style names the bucket in the host.
	if _, err := c1.CreateStack(ctx, &cfnapi.CreateStackInput{StackName: aws.String("stuck"), TemplateURL: aws.String("https://templates.s3.us-east-1.amazonaws.com/stuck.json")}); err != nil {
		t.Fatal(err)
	}
	<-block.started // the stack is CREATE_IN_PROGRESS and saved so

	// A second localcloud on the same state, as after a crash.
	c2, _, stop2 := serveCFN(t, store, nil, templates)
	defer stop2()
	after := describe(t, c2, "keep")
	if after.StackStatus != cfntypes.StackStatusCreateComplete || aws.ToString(after.StackId) != aws.ToString(before.StackId) {
		t.Errorf("keep after restart = %s %s, want CREATE_COMPLETE %s", after.StackStatus, aws.ToString(after.StackId), aws.ToString(before.StackId))
	}
	if got, want := outputs(after)["Vpc"], outputs(before)["Vpc"]; got != want || got == "" {
		t.Errorf("output Vpc after restart = %q, want %q", got, want)
	}
	stuck := describe(t, c2, "stuck")
	if stuck.StackStatus != cfntypes.StackStatusCreateFailed || !strings.Contains(aws.ToString(stuck.StackStatusReason), "localcloud restarted") {
		t.Errorf("stuck after restart = %s %q, want CREATE_FAILED, localcloud restarted", stuck.StackStatus, aws.ToString(stuck.StackStatusReason))
	}
	close(block.release)
	// The restored stack takes new operations.
	if _, err := c2.DeleteStack(ctx, &cfnapi.DeleteStackInput{StackName: aws.String("keep")}); err != nil {
		t.Fatal(err)
	}
	if err := cfnapi.NewStackDeleteCompleteWaiter(c2, func(o *cfnapi.StackDeleteCompleteWaiterOptions) {
		o.MinDelay, o.MaxDelay = 20*time.Millisecond, 100*time.Millisecond
	}).
		Wait(ctx, &cfnapi.DescribeStacksInput{StackName: aws.String("keep")}, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	gone, err := c2.DescribeStacks(ctx, &cfnapi.DescribeStacksInput{StackName: before.StackId})
	if err != nil || gone.Stacks[0].StackStatus != cfntypes.StackStatusDeleteComplete {
		t.Errorf("DescribeStacks(deleted stack's ARN) = %v, %v, want DELETE_COMPLETE", gone, err)
	}
}
