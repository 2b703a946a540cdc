package provision_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudformation"

	"github.com/shipyard-ecs/shipyard/platform/ledger/ledgertest"
	"github.com/shipyard-ecs/shipyard/platform/provision"
)

func TestMain(m *testing.M) { ledgertest.Main(m) }

const queue = `{"Resources":{"Queue":{"Type":"AWS::SQS::Queue","Properties":{"VisibilityTimeout":%d}}},
"Outputs":{"QueueUrl":{"Value":{"Ref":"Queue"}}}}`

func template(visibility int) string {
	return strings.Replace(queue, "%d", strconv.Itoa(visibility), 1)
}

// TestPlanExecute creates a stack through a change set, finds nothing to
// change the second time, updates it in place, and reports a failed
// resource by name, all against localcloud's CloudFormation.
func TestPlanExecute(t *testing.T) {
	cloud := ledgertest.Localcloud(t)
	cf := cloudformation.NewFromConfig(ledgertest.Config(cloud.Endpoint))
	p := &provision.Provisioner{CF: cf, Events: cf, Poll: 50 * time.Millisecond}
	ctx := context.Background()
	// Names of their own: the localcloud is shared by every run (-count).
	suffix := strconv.FormatInt(time.Now().UnixNano(), 36)
	s := provision.Stack{Name: "provision-test-" + suffix, Template: template(30)}

	cs, err := p.Plan(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	if !cs.Create || len(cs.Changes) != 1 || cs.Changes[0].Action != "Add" || cs.Changes[0].LogicalID != "Queue" {
		t.Errorf("Plan(new stack) = %+v, want a create adding Queue", cs)
	}
	var events []string
	if err := p.Execute(ctx, cs, func(e provision.Event) { events = append(events, e.LogicalID+" "+e.Status) }); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(events, ","), "Queue CREATE_COMPLETE") {
		t.Errorf("Execute events = %v, want Queue CREATE_COMPLETE", events)
	}

	if _, err := p.Plan(ctx, s); !errors.Is(err, provision.ErrNoChanges) {
		t.Errorf("Plan(same template) error = %v, want ErrNoChanges", err)
	}

	s.Template = template(60)
	cs, err = p.Plan(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	if cs.Create || len(cs.Changes) != 1 || cs.Changes[0].Action != "Modify" {
		t.Errorf("Plan(new visibility) = %+v, want an update modifying Queue", cs)
	}
	if err := p.Execute(ctx, cs, nil); err != nil {
		t.Fatal(err)
	}

	bad := provision.Stack{Name: "provision-test-bad-" + suffix, Template: `{"Resources":{"Thing":{"Type":"AWS::Nothing::Here","Properties":{}}}}`}
	cs, err = p.Plan(ctx, bad)
	if err == nil {
		err = p.Execute(ctx, cs, nil)
	}
	if err == nil || !strings.Contains(err.Error(), "Thing") {
		t.Errorf("provisioning an unknown type: error = %v, want one naming the resource", err)
	}
}
