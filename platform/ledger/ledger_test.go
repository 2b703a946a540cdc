package ledger_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/shipyard-ecs/shipyard/platform/ledger"
	"github.com/shipyard-ecs/shipyard/platform/ledger/ledgertest"
)

func TestMain(m *testing.M) { ledgertest.Main(m) }

// The suite runs against localcloud's DynamoDB (or LEDGER_DYNAMODB_ENDPOINT)
// and against dynalite where it is installed.
var suite = []struct {
	name string
	test func(t *testing.T, newLedger func(*testing.T) *ledger.Ledger)
}{
	{"RecordLifecycle", testRecordLifecycle},
	{"RecordConverges", testRecordConverges},
	{"ConcurrentWriters", testConcurrentWriters},
	{"DeploymentsNewestFirst", testDeploymentsNewestFirst},
	{"RecordRejects", testRecordRejects},
	{"ClaimEnforcementOnce", testClaimEnforcementOnce},
	{"ClaimCooldown", testClaimCooldown},
}

func runSuite(t *testing.T, client func(testing.TB) *dynamodb.Client) {
	for _, s := range suite {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			s.test(t, func(t *testing.T) *ledger.Ledger {
				t.Helper()
				c := client(t)
				return ledger.New(c, ledgertest.NewTable(t, c))
			})
		})
	}
}

func TestLedger(t *testing.T) { runSuite(t, ledgertest.DynamoDB) }

func TestLedgerOnDynalite(t *testing.T) {
	ledgertest.Dynalite(t) // skips once, here, where it is not installed
	runSuite(t, ledgertest.Dynalite)
}

var t0 = time.Date(2026, 9, 1, 10, 0, 0, 123456789, time.UTC)

func key(n int) ledger.Key {
	return ledger.Key{Cluster: "prod", Service: "web",
		Arn:       fmt.Sprintf("arn:aws:ecs:us-east-1:111122223333:service-deployment/prod/web/dep%02d", n),
		CreatedAt: t0.Add(time.Duration(n) * time.Minute)}
}

// lifecycle is the events of one deployment that rolls back, as the
// Lambda and ship would record them.
func lifecycle(k ledger.Key) []ledger.Observation {
	at := func(s int) time.Time { return k.CreatedAt.Add(time.Duration(s) * time.Second) }
	return []ledger.Observation{
		{Key: k, EventID: "ship-start", At: at(0), Source: "ship", Kind: "deploy", Summary: "ship deploy",
			Initiator: ledger.Initiator{User: "ana", GitCommit: "abc123", ManifestVersion: "7", Drill: "errors=0.5"}, ImageDigest: "sha256:aa", Image: "repo/web@sha256:aa",
			TaskDefinition: "arn:aws:ecs:us-east-1:111122223333:task-definition/web:8"},
		{Key: k, EventID: "e1", At: at(1), Source: "ecs", Kind: "ECS Deployment State Change", Statuses: []ledger.Transition{{Name: "IN_PROGRESS", At: at(1), Reason: "ECS deployment ecs-svc/1 in progress."}}, LegacyIDs: []string{"ecs-svc/1"}, StartedAt: at(1),
			TargetRevision: "rev-8", SourceRevisions: []string{"rev-7"}, Stages: []ledger.Transition{{Name: "SCALE_UP", At: at(1)}}},
		{Key: k, EventID: "e2", At: at(30), Source: "ecs", Kind: "ECS Hook State Change", Stages: []ledger.Transition{{Name: "POST_TEST_TRAFFIC_SHIFT", At: at(30)}, {Name: "POST_TEST_TRAFFIC_SHIFT", At: at(31)}},
			Statuses: []ledger.Transition{{Name: "IN_PROGRESS", At: at(1)}, {Name: "IN_PROGRESS", At: at(30)}}},
		{Key: k, EventID: "e3", At: at(60), Source: "cloudwatch", Kind: "CloudWatch Alarm State Change", TriggeredAlarms: []string{"web-target-5xx"},
			Statuses: []ledger.Transition{{Name: "ROLLBACK_REQUESTED", At: at(60)}}, Detail: map[string]string{"alarm": "web-target-5xx"}},
		{Key: k, EventID: "e4", At: at(61), Source: "ecs", Kind: "ECS Deployment State Change", Statuses: []ledger.Transition{{Name: "ROLLBACK_IN_PROGRESS", At: at(61)}},
			Rollback: &ledger.Rollback{Reason: "alarm web-target-5xx", Revision: "rev-7", StartedAt: at(61)}, Stages: []ledger.Transition{{Name: "PRODUCTION_TRAFFIC_SHIFT", At: at(45)}}},
		{Key: k, EventID: "e5", At: at(90), Source: "ecs", Kind: "ECS Deployment State Change", Statuses: []ledger.Transition{{Name: "ROLLBACK_SUCCESSFUL", At: at(90), Reason: "rolled back"}}, FinishedAt: at(90), TriggeredAlarms: []string{"web-elb-5xx"}},
	}
}

func testRecordLifecycle(t *testing.T, newLedger func(*testing.T) *ledger.Ledger) {
	l := newLedger(t)
	ctx := context.Background()
	k := key(1)
	var newStatuses []string
	for _, o := range lifecycle(k) {
		res, err := l.Record(ctx, o)
		if err != nil {
			t.Fatalf("Record(%s) error = %v", o.EventID, err)
		}
		if res.Duplicate {
			t.Errorf("Record(%s).Duplicate = true, want false on first delivery", o.EventID)
		}
		newStatuses = append(newStatuses, res.NewStatuses...)
	}
	if want := []string{"IN_PROGRESS", "ROLLBACK_REQUESTED", "ROLLBACK_IN_PROGRESS", "ROLLBACK_SUCCESSFUL"}; !reflect.DeepEqual(newStatuses, want) {
		t.Errorf("statuses reported new = %v, want %v", newStatuses, want)
	}
	d, err := l.Get(ctx, k)
	if err != nil {
		t.Fatalf("Get error = %v", err)
	}
	checks := []struct {
		field     string
		got, want any
	}{
		{"Status", d.Status, "ROLLBACK_SUCCESSFUL"},
		{"StatusReason", d.StatusReason, "rolled back"},
		{"Stage", d.Stage, "PRODUCTION_TRAFFIC_SHIFT"},
		{"Arn", d.Arn, k.Arn},
		{"CreatedAt", d.CreatedAt.Equal(k.CreatedAt), true},
		{"Initiator", d.Initiator, ledger.Initiator{User: "ana", GitCommit: "abc123", ManifestVersion: "7", Drill: "errors=0.5"}},
		{"ImageDigest", d.ImageDigest, "sha256:aa"},
		{"TaskDefinition", d.TaskDefinition, "arn:aws:ecs:us-east-1:111122223333:task-definition/web:8"},
		{"TargetRevision", d.TargetRevision, "rev-8"},
		{"SourceRevisions", d.SourceRevisions, []string{"rev-7"}},
		{"LegacyIDs", d.LegacyIDs, []string{"ecs-svc/1"}},
		{"TriggeredAlarms", d.TriggeredAlarms, []string{"web-elb-5xx", "web-target-5xx"}},
		{"Rollback.Revision", d.Rollback != nil && d.Rollback.Revision == "rev-7", true},
		{"Duration", d.Duration(), 89 * time.Second},
		{"RolledBack", d.RolledBack(), true},
		{"len(Transitions)", len(d.Transitions), 4},
		{"len(Stages)", len(d.Stages), 3},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("Get().%s = %v, want %v", c.field, c.got, c.want)
		}
	}
	tl, err := l.Timeline(ctx, k.Arn)
	if err != nil {
		t.Fatalf("Timeline error = %v", err)
	}
	var ids []string
	for _, e := range tl {
		ids = append(ids, e.EventID)
	}
	if want := []string{"ship-start", "e1", "e2", "e3", "e4", "e5"}; !reflect.DeepEqual(ids, want) {
		t.Errorf("Timeline ids = %v, want %v", ids, want)
	}
	if tl[3].Detail["alarm"] != "web-target-5xx" || tl[1].Status != "IN_PROGRESS" || tl[0].Source != "ship" {
		t.Errorf("Timeline entries = %+v, want their detail, status and source kept", tl)
	}
	got, err := l.ResolveLegacy(ctx, "prod", "web", "ecs-svc/1")
	if err != nil || got.Arn != k.Arn || !got.CreatedAt.Equal(k.CreatedAt) {
		t.Errorf("ResolveLegacy(ecs-svc/1) = %+v, %v; want %s", got, err, k.Arn)
	}
	if _, err := l.ResolveLegacy(ctx, "prod", "web", "ecs-svc/2"); !errors.Is(err, ledger.ErrNotFound) {
		t.Errorf("ResolveLegacy(ecs-svc/2) error = %v, want ErrNotFound", err)
	}
}

// TestRecordConverges delivers the same events in shuffled orders, with
// duplicates, to separate deployments: every record comes out the same.
func testRecordConverges(t *testing.T, newLedger func(*testing.T) *ledger.Ledger) {
	l := newLedger(t)
	ctx := context.Background()
	var want ledger.Deployment
	rng := rand.New(rand.NewPCG(1, 2))
	for n := range 6 {
		k := key(10)
		k.Arn = fmt.Sprintf("%s-order%d", k.Arn, n)
		obs := lifecycle(k)
		if n > 0 {
			rng.Shuffle(len(obs), func(i, j int) { obs[i], obs[j] = obs[j], obs[i] })
			obs = append(obs, obs[:3]...) // redeliveries
		}
		news := map[string]int{}
		for i, o := range obs {
			res, err := l.Record(ctx, o)
			if err != nil {
				t.Fatalf("order %d: Record(%s) error = %v", n, o.EventID, err)
			}
			if res.Duplicate != (i >= 6) {
				t.Errorf("order %d: Record(%s) #%d Duplicate = %v, want %v", n, o.EventID, i, res.Duplicate, i >= 6)
			}
			for _, st := range res.NewStatuses {
				news[st]++
			}
		}
		for st, c := range news {
			if c != 1 {
				t.Errorf("order %d: status %s reported new %d times, want once", n, st, c)
			}
		}
		got, err := l.Get(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		got.Arn = "" // the only difference by construction
		if n == 0 {
			want = got
			continue
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("order %d: record = %+v,\nwant (in order) %+v", n, got, want)
		}
	}
	if want.Status != "ROLLBACK_SUCCESSFUL" {
		t.Errorf("Status = %s, want ROLLBACK_SUCCESSFUL", want.Status)
	}
}

// TestConcurrentWriters has ship and the Lambda write different fields of
// the same new record at once: neither loses the other's.
func testConcurrentWriters(t *testing.T, newLedger func(*testing.T) *ledger.Ledger) {
	l := newLedger(t)
	ctx := context.Background()
	for round := range 4 {
		k := key(20 + round)
		obs := lifecycle(k)
		var wg sync.WaitGroup
		errs := make(chan error, len(obs))
		for _, o := range obs {
			wg.Go(func() {
				if _, err := l.Record(ctx, o); err != nil {
					errs <- err
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatalf("Record error = %v", err)
		}
		d, err := l.Get(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		if d.Initiator.User != "ana" || d.ImageDigest != "sha256:aa" || d.Status != "ROLLBACK_SUCCESSFUL" || len(d.TriggeredAlarms) != 2 || d.Rollback == nil || len(d.LegacyIDs) != 1 {
			t.Errorf("round %d: Get() = %+v, want every writer's fields", round, d)
		}
	}
}

func testDeploymentsNewestFirst(t *testing.T, newLedger func(*testing.T) *ledger.Ledger) {
	l := newLedger(t)
	ctx := context.Background()
	for _, n := range []int{2, 5, 1, 4, 3} {
		k := key(n)
		if _, err := l.Record(ctx, ledger.Observation{Key: k, EventID: "e", At: k.CreatedAt, Statuses: []ledger.Transition{{Name: "IN_PROGRESS", At: k.CreatedAt}}}); err != nil {
			t.Fatal(err)
		}
	}
	// Another service's deployment is not listed.
	other := key(9)
	other.Service = "api"
	if _, err := l.Record(ctx, ledger.Observation{Key: other, EventID: "e", At: other.CreatedAt}); err != nil {
		t.Fatal(err)
	}
	if _, err := l.RecordServiceEvent(ctx, "prod", "web", ledger.Entry{EventID: "svc-1", At: t0, Kind: "ECS Service Action"}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		limit int
		want  []string
	}{
		{0, []string{"dep05", "dep04", "dep03", "dep02", "dep01"}},
		{2, []string{"dep05", "dep04"}},
	}
	for _, tt := range tests {
		ds, err := l.Deployments(ctx, "prod", "web", tt.limit)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, d := range ds {
			got = append(got, d.ID())
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Deployments(prod, web, %d) = %v, want %v", tt.limit, got, tt.want)
		}
	}
	evs, err := l.ServiceEvents(ctx, "prod", "web")
	if err != nil || len(evs) != 1 || evs[0].EventID != "svc-1" {
		t.Errorf("ServiceEvents = %+v, %v; want svc-1", evs, err)
	}
	dup, err := l.RecordServiceEvent(ctx, "prod", "web", ledger.Entry{EventID: "svc-1", At: t0, Kind: "ECS Service Action"})
	if err != nil || !dup {
		t.Errorf("RecordServiceEvent(again) = %v, %v; want a duplicate", dup, err)
	}
}

func testRecordRejects(t *testing.T, newLedger func(*testing.T) *ledger.Ledger) {
	l := newLedger(t)
	ctx := context.Background()
	good := ledger.Observation{Key: key(1), EventID: "e", At: t0, Statuses: []ledger.Transition{{Name: "IN_PROGRESS", At: t0}}}
	tests := []struct {
		name string
		edit func(o *ledger.Observation)
	}{
		{"no cluster", func(o *ledger.Observation) { o.Cluster = "" }},
		{"no arn", func(o *ledger.Observation) { o.Arn = "" }},
		{"no createdAt", func(o *ledger.Observation) { o.CreatedAt = time.Time{} }},
		{"no event id", func(o *ledger.Observation) { o.EventID = "" }},
		{"no time", func(o *ledger.Observation) { o.At = time.Time{} }},
		{"status without time", func(o *ledger.Observation) { o.Statuses = []ledger.Transition{{Name: "IN_PROGRESS"}} }},
		{"status not a name", func(o *ledger.Observation) { o.Statuses = []ledger.Transition{{Name: "in progress; DROP", At: t0}} }},
		{"stage not a name", func(o *ledger.Observation) { o.Stages = []ledger.Transition{{Name: "#n0", At: t0}} }},
		{"slash in service", func(o *ledger.Observation) { o.Service = "a/b" }},
	}
	for _, tt := range tests {
		o := good
		tt.edit(&o)
		if _, err := l.Record(ctx, o); err == nil {
			t.Errorf("Record(%s) error = nil, want one", tt.name)
		}
	}
	ds, err := l.Deployments(ctx, "prod", "web", 0)
	if err != nil || len(ds) != 0 {
		t.Errorf("Deployments after rejected writes = %d, %v; want none written", len(ds), err)
	}
}

func testClaimEnforcementOnce(t *testing.T, newLedger func(*testing.T) *ledger.Ledger) {
	l := newLedger(t)
	ctx := context.Background()
	k := key(3)
	var wg sync.WaitGroup
	var mu sync.Mutex
	won := 0
	for i := range 8 {
		wg.Go(func() {
			ok, prev, err := l.ClaimEnforcement(ctx, k, ledger.Action{Kind: ledger.ActionStopRollback, Alarm: "web-target-5xx", EventID: fmt.Sprint("alarm-", i), At: t0, Reason: "alarm"})
			if err != nil {
				t.Errorf("ClaimEnforcement error = %v", err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			if ok {
				won++
			} else if prev == nil || prev.Kind != ledger.ActionStopRollback {
				t.Errorf("ClaimEnforcement lost, previous = %+v, want the winner's action", prev)
			}
		})
	}
	wg.Wait()
	if won != 1 {
		t.Fatalf("ClaimEnforcement won %d times, want 1", won)
	}
	// Only the claim's own event releases it, and only while unfinished.
	d, err := l.Get(ctx, k)
	if err != nil {
		t.Fatal(err)
	}
	winner := d.Enforcement.EventID
	if err := l.ReleaseEnforcement(ctx, k, "someone-else"); err != nil {
		t.Fatal(err)
	}
	if ok, _, err := l.ClaimEnforcement(ctx, k, ledger.Action{Kind: ledger.ActionStopRollback, EventID: "late", At: t0}); ok || err != nil {
		t.Fatalf("ClaimEnforcement after another event's release = %v, %v; want still taken", ok, err)
	}
	if err := l.ReleaseEnforcement(ctx, k, winner); err != nil {
		t.Fatal(err)
	}
	if ok, _, err := l.ClaimEnforcement(ctx, k, ledger.Action{Kind: ledger.ActionStopRollback, Alarm: "web-target-5xx", EventID: winner, At: t0}); !ok || err != nil {
		t.Fatalf("ClaimEnforcement after its own release = %v, %v; want it again", ok, err)
	}
	if err := l.FinishEnforcement(ctx, k, "stopped"); err != nil {
		t.Fatal(err)
	}
	if err := l.ReleaseEnforcement(ctx, k, winner); err != nil {
		t.Fatal(err)
	}
	d, err = l.Get(ctx, k)
	if err != nil {
		t.Fatal(err)
	}
	if e := d.Enforcement; e == nil || e.Outcome != "stopped" || e.Alarm != "web-target-5xx" || !e.At.Equal(t0) || d.Arn != k.Arn {
		t.Errorf("Get().Enforcement = %+v (record %s), want the stop-rollback, stopped", e, d.Arn)
	}
	if err := l.FinishEnforcement(ctx, key(4), "stopped"); err == nil {
		t.Errorf("FinishEnforcement(unclaimed) error = nil, want one")
	}
}

func testClaimCooldown(t *testing.T, newLedger func(*testing.T) *ledger.Ledger) {
	l := newLedger(t)
	ctx := context.Background()
	tests := []struct {
		at       time.Time
		want     bool
		wantLast time.Time
	}{
		{t0, true, time.Time{}},
		{t0.Add(5 * time.Minute), false, t0},
		{t0.Add(10 * time.Minute), true, time.Time{}},
		{t0.Add(11 * time.Minute), false, t0.Add(10 * time.Minute)},
		// The same deployment again (a retry) is not held back.
		{t0.Add(12 * time.Minute), true, time.Time{}},
	}
	for i, tt := range tests {
		arn := fmt.Sprint("arn-", i)
		if i == len(tests)-1 {
			arn = "arn-2"
		}
		ok, last, err := l.ClaimCooldown(ctx, "prod", "web", arn, tt.at, 10*time.Minute)
		if err != nil || ok != tt.want || !last.Equal(tt.wantLast) {
			t.Errorf("ClaimCooldown(%v) = %v, %v, %v; want %v, %v", tt.at, ok, last, err, tt.want, tt.wantLast)
		}
	}
}
