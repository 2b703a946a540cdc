package cloudformation_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cfnapi "github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	cwlogs "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"

	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/cloudformation"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/state"
)

// journal is a provisioner that records the order of creates and deletes;
// the resources named in together wait for each other to start, so they can
// only finish if they run in parallel.
type journal struct {
	mu       sync.Mutex
	log      []string
	together map[string]bool
	arrived  int
	all      chan struct{} // closed when every resource in together started
}

func (j *journal) add(s string) {
	j.mu.Lock()
	j.log = append(j.log, s)
	j.mu.Unlock()
}

func (j *journal) Create(ctx context.Context, r *cloudformation.Request) (cloudformation.Result, error) {
	j.add("start " + r.LogicalID)
	if j.together[r.LogicalID] {
		j.mu.Lock()
		j.arrived++
		if j.arrived == len(j.together) {
			close(j.all)
		}
		j.mu.Unlock()
		select {
		case <-j.all:
		case <-time.After(5 * time.Second):
			return cloudformation.Result{}, errors.New("the independent resources were not created in parallel")
		case <-ctx.Done():
			return cloudformation.Result{}, ctx.Err()
		}
	}
	j.add("done " + r.LogicalID)
	return cloudformation.Result{PhysicalID: r.LogicalID + "-id"}, nil
}

func (j *journal) Update(_ context.Context, _ *cloudformation.Request, prev cloudformation.Result, _ map[string]any) (cloudformation.Result, error) {
	return prev, nil
}

func (j *journal) Delete(_ context.Context, r *cloudformation.Request, _ cloudformation.Result) error {
	j.add("delete " + r.LogicalID)
	return nil
}

func (j *journal) index(s string) int {
	j.mu.Lock()
	defer j.mu.Unlock()
	for i, e := range j.log {
		if e == s {
			return i
		}
	}
	return -1
}

// TestOrder: independent resources are created in parallel, a dependent
// one only after what it refers to, and deletion runs in reverse.
func TestOrder(t *testing.T) {
	t.Parallel()
	j := &journal{together: map[string]bool{"A": true, "B": true}, all: make(chan struct{})}
	c, _, stop := serveCFN(t, state.Store{}, map[string]cloudformation.Provisioner{"Test::Journal::Thing": j}, nil)
	defer stop()
	body := `{"Resources":{
		"A":{"Type":"Test::Journal::Thing"},
		"B":{"Type":"Test::Journal::Thing"},
		"C":{"Type":"Test::Journal::Thing","Properties":{"From":{"Fn::Sub":"${A}-${B}"}}},
		"D":{"Type":"Test::Journal::Thing","DependsOn":"C"}}}`
	if _, err := c.CreateStack(ctx, &cfnapi.CreateStackInput{StackName: aws.String("order"), TemplateBody: aws.String(body)}); err != nil {
		t.Fatal(err)
	}
	waitOpts := func(o *cfnapi.StackCreateCompleteWaiterOptions) {
		o.MinDelay, o.MaxDelay = 20*time.Millisecond, 100*time.Millisecond
	}
	if err := cfnapi.NewStackCreateCompleteWaiter(c, waitOpts).Wait(ctx, &cfnapi.DescribeStacksInput{StackName: aws.String("order")}, 15*time.Second); err != nil {
		t.Fatalf("create: %v (journal %v)", err, j.log)
	}
	before := []struct{ first, then string }{
		{"done A", "start C"}, {"done B", "start C"}, {"done C", "start D"},
	}
	for _, b := range before {
		if i, k := j.index(b.first), j.index(b.then); i < 0 || k < 0 || i > k {
			t.Errorf("journal %v: %q at %d, %q at %d, want the first before the second", j.log, b.first, i, b.then, k)
		}
	}
	if _, err := c.DeleteStack(ctx, &cfnapi.DeleteStackInput{StackName: aws.String("order")}); err != nil {
		t.Fatal(err)
	}
	if err := cfnapi.NewStackDeleteCompleteWaiter(c, func(o *cfnapi.StackDeleteCompleteWaiterOptions) {
		o.MinDelay, o.MaxDelay = 20*time.Millisecond, 100*time.Millisecond
	}).
		Wait(ctx, &cfnapi.DescribeStacksInput{StackName: aws.String("order")}, 15*time.Second); err != nil {
		t.Fatal(err)
	}
	reverse := []struct{ first, then string }{
		{"delete D", "delete C"}, {"delete C", "delete A"}, {"delete C", "delete B"},
	}
	for _, b := range reverse {
		if i, k := j.index(b.first), j.index(b.then); i < 0 || k < 0 || i > k {
			t.Errorf("journal %v: %q at %d, %q at %d, want the first before the second", j.log, b.first, i, b.then, k)
		}
	}
}

// TestRetainAndCustomNames: DeletionPolicy Retain keeps a resource when its
// stack goes, and replacing a custom-named resource fails the update as on
// AWS, rolling back.
func TestRetainAndCustomNames(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{minimal: true})
	group := func(retention int) string {
		return tmpl(t, map[string]any{"Resources": map[string]any{
			"Kept": map[string]any{"Type": "AWS::Logs::LogGroup", "DeletionPolicy": "Retain", "Properties": map[string]any{"LogGroupName": "/retain/kept"}},
			"SG": map[string]any{"Type": "AWS::EC2::SecurityGroup", "Properties": map[string]any{
				"GroupName": "named", "GroupDescription": map[string]any{"Fn::Sub": "retention ${AWS::StackName} " + string(rune('0'+retention))}}},
		}})
	}
	e.createStack("retain", group(1), nil)
	// GroupDescription is create-only: the named group would need replacing.
	if _, err := e.cfn.UpdateStack(ctx, &cfnapi.UpdateStackInput{StackName: aws.String("retain"), TemplateBody: aws.String(group(2))}); err != nil {
		t.Fatal(err)
	}
	if st := e.waitStatus("retain"); st.StackStatus != cfntypes.StackStatusUpdateRollbackComplete {
		t.Errorf("update replacing a named group = %s, want UPDATE_ROLLBACK_COMPLETE", st.StackStatus)
	}
	if f := e.failures("retain"); !strings.Contains(f, "CloudFormation cannot update a stack when a custom-named resource requires replacing. Rename") {
		t.Errorf("failures = %q, want the custom-name replacement message", f)
	}
	if _, err := e.cfn.DeleteStack(ctx, &cfnapi.DeleteStackInput{StackName: aws.String("retain")}); err != nil {
		t.Fatal(err)
	}
	_, _, del := e.waiterOpts()
	if err := cfnapi.NewStackDeleteCompleteWaiter(e.cfn, del).Wait(ctx, &cfnapi.DescribeStacksInput{StackName: aws.String("retain")}, 15*time.Second); err != nil {
		t.Fatal(err)
	}
	lg, err := e.logs.DescribeLogGroups(ctx, &cwlogs.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String("/retain/kept")})
	if err != nil || len(lg.LogGroups) != 1 {
		t.Errorf("retained log group after the stack's delete = %v, %v, want it kept", lg, err)
	}
}
