package event

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t
}

var web = ServiceRef{Region: "eu-west-1", Account: "111122223333", Cluster: "prod-cluster", Service: "web"}

func TestDecode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		check func(t *testing.T, in Input)
	}{
		{"deployment-in-progress", func(t *testing.T, in Input) {
			d := in.Deployment
			if d == nil || d.Service != web || d.EventName != DeploymentInProgress || d.DeploymentID != "ecs-svc/8802134481127734015" || d.Rollback {
				t.Errorf("Decode = %+v, want web's in-progress deployment ecs-svc/8802134481127734015, no rollback", d)
			}
			if !d.UpdatedAt.Equal(mustTime("2026-09-01T10:10:01Z")) {
				t.Errorf("UpdatedAt = %v, want 2026-09-01T10:10:01Z", d.UpdatedAt)
			}
		}},
		{"deployment-rollback-in-progress", func(t *testing.T, in Input) {
			d := in.Deployment
			if d == nil || !d.Rollback || d.RollbackTo != "ecs-svc/8802134481127734015" || d.DeploymentID != "ecs-svc/4503962209113548126" {
				t.Errorf("Decode = %+v, want a rollback of ecs-svc/4503962209113548126 to ecs-svc/8802134481127734015", d)
			}
		}},
		{"deployment-completed", func(t *testing.T, in Input) {
			if d := in.Deployment; d == nil || d.EventName != DeploymentCompleted || !d.UpdatedAt.Equal(mustTime("2026-09-01T10:20:01.402Z")) {
				t.Errorf("Decode = %+v, want completed at 10:20:01.402", d)
			}
		}},
		{"deployment-failed", func(t *testing.T, in Input) {
			if d := in.Deployment; d == nil || d.EventName != DeploymentFailed || d.EventType != "ERROR" || d.Rollback {
				t.Errorf("Decode = %+v, want a failed ERROR event, no rollback", d)
			}
		}},
		{"deployment-unknown-fields", func(t *testing.T, in Input) {
			if d := in.Deployment; d == nil || d.DeploymentID != "ecs-svc/8802134481127734015" {
				t.Errorf("Decode = %+v, want the deployment despite unknown fields", d)
			}
		}},
		{"deployment-other-service", func(t *testing.T, in Input) {
			if d := in.Deployment; d == nil || d.Service.Service != "api" {
				t.Errorf("Decode = %+v, want service api (the handler, not the decoder, ignores it)", d)
			}
		}},
		{"service-action-task-start-impaired", func(t *testing.T, in Input) {
			a := in.ServiceAction
			if a == nil || a.Service != web || a.EventType != "WARN" || a.EventName != "SERVICE_TASK_START_IMPAIRED" || !a.CreatedAt.Equal(mustTime("2026-09-01T10:21:40.118Z")) {
				t.Errorf("Decode = %+v, want web's WARN SERVICE_TASK_START_IMPAIRED at 10:21:40.118", a)
			}
		}},
		{"service-action-steady-state", func(t *testing.T, in Input) {
			if a := in.ServiceAction; a == nil || a.EventName != "SERVICE_STEADY_STATE" {
				t.Errorf("Decode = %+v, want SERVICE_STEADY_STATE", a)
			}
		}},
		{"service-action-placement-failure", func(t *testing.T, in Input) {
			if a := in.ServiceAction; a == nil || a.Reason != "RESOURCE:FARGATE" || a.EventType != "ERROR" {
				t.Errorf("Decode = %+v, want ERROR with reason RESOURCE:FARGATE", a)
			}
		}},
		{"task-stopped", func(t *testing.T, in Input) {
			k := in.Task
			if k == nil || k.Cluster != "prod-cluster" || k.Service != "web" || k.StartedBy != "ecs-svc/4503962209113548126" || k.LastStatus != "STOPPED" {
				t.Errorf("Decode = %+v, want web's stopped task started by ecs-svc/4503962209113548126", k)
			}
		}},
		{"hook-state-hook-succeeded", func(t *testing.T, in Input) {
			h := in.HookState
			if h == nil || h.DeploymentID != "EZe5RNVLH6PPzHXINuP28" || h.Service.Service != "web" || h.EventName != "HOOK_SUCCEEDED" {
				t.Errorf("Decode = %+v, want HOOK_SUCCEEDED of deployment EZe5RNVLH6PPzHXINuP28", h)
			}
			if want := time.Date(2026, 3, 5, 15, 54, 41, 618059641, time.UTC); !h.UpdatedAt.Equal(want) {
				t.Errorf("UpdatedAt = %v, want %v (nanoseconds kept)", h.UpdatedAt, want)
			}
		}},
		{"hook-state-hook-in-progress", func(t *testing.T, in Input) { wantHookState(t, in, "HOOK_IN_PROGRESS") }},
		{"hook-state-hook-awaiting-action", func(t *testing.T, in Input) { wantHookState(t, in, "HOOK_AWAITING_ACTION") }},
		{"hook-state-hook-failed", func(t *testing.T, in Input) { wantHookState(t, in, "HOOK_FAILED") }},
		{"hook-state-hook-timed-out", func(t *testing.T, in Input) { wantHookState(t, in, "HOOK_TIMED_OUT") }},
		{"alarm-ok-to-alarm", func(t *testing.T, in Input) {
			a := in.Alarm
			if a == nil || a.AlarmName != "web-target-5xx" || a.State.Value != AlarmAlarm || a.Previous.Value != AlarmOK {
				t.Fatalf("Decode = %+v, want web-target-5xx OK -> ALARM", a)
			}
			if want := time.Date(2026, 9, 1, 10, 19, 40, 989e6, time.UTC); !a.State.Timestamp.Equal(want) {
				t.Errorf("State.Timestamp = %v, want %v", a.State.Timestamp, want)
			}
			if a.State.ReasonData["threshold"] != 5.0 {
				t.Errorf("ReasonData[threshold] = %v, want 5", a.State.ReasonData["threshold"])
			}
		}},
		{"alarm-alarm-to-ok", func(t *testing.T, in Input) {
			if a := in.Alarm; a == nil || a.State.Value != AlarmOK || a.Previous.Value != AlarmAlarm {
				t.Errorf("Decode = %+v, want ALARM -> OK", a)
			}
		}},
		{"alarm-insufficient-data", func(t *testing.T, in Input) {
			if a := in.Alarm; a == nil || a.State.Value != AlarmInsufficientData || a.State.ReasonData != nil || !a.Previous.Timestamp.IsZero() {
				t.Errorf("Decode = %+v, want INSUFFICIENT_DATA, no reason data, no previous state", a)
			}
		}},
		{"alarm-reason-data-not-json", func(t *testing.T, in Input) {
			if a := in.Alarm; a == nil || a.State.Value != AlarmAlarm || a.State.ReasonData != nil {
				t.Errorf("Decode = %+v, want the alarm, reason data dropped", a)
			}
		}},
		{"alarm-other-alarm", func(t *testing.T, in Input) {
			if a := in.Alarm; a == nil || a.AlarmName != "someone-elses-alarm" {
				t.Errorf("Decode = %+v, want someone-elses-alarm", a)
			}
		}},
		{"hook-post-test-traffic-shift", func(t *testing.T, in Input) {
			h := in.Hook
			if h == nil || h.LifecycleStage != "POST_TEST_TRAFFIC_SHIFT" || h.Service != web || h.DeploymentID != "EZe5RNVLH6PPzHXINuP28" || h.RollingBack() || h.HookDetails != nil {
				t.Errorf("Decode = %+v, want web's POST_TEST_TRAFFIC_SHIFT, not a rollback, no details", h)
			}
			if in.ID() != "f4fcae0f-9bec-41c6-ba87-0eaa0cef8af5" || in.Kind() != "lifecycle-hook" {
				t.Errorf("ID(), Kind() = %q, %q, want the execution id, lifecycle-hook", in.ID(), in.Kind())
			}
		}},
		{"hook-production-traffic-shift", func(t *testing.T, in Input) {
			h := in.Hook
			if h == nil || h.RollingBack() || h.HookDetails["S3_BUCKET_NAME"] != "my-approval-bucket" {
				t.Errorf("Decode = %+v, want a forward shift with hookDetails", h)
			}
		}},
		{"hook-rollback-reinvocation", func(t *testing.T, in Input) {
			if h := in.Hook; h == nil || !h.RollingBack() {
				t.Errorf("RollingBack() = false, want true (green 0, blue 100)")
			}
		}},
		{"hook-first-deployment", func(t *testing.T, in Input) {
			if h := in.Hook; h == nil || h.RollingBack() || h.TestTrafficWeights[h.TargetRevisionArn] != 100 {
				t.Errorf("Decode = %+v, want green at 100 test weight, not a rollback", h)
			}
		}},
		{"hook-in-progress-details", func(t *testing.T, in Input) {
			if h := in.Hook; h == nil || h.HookDetails["smokeAttempts"] != 2.0 {
				t.Errorf("Decode = %+v, want hookDetails smokeAttempts 2", h)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			in, err := Decode(fixture(t, tt.name))
			if err != nil {
				t.Fatalf("Decode(%s) error = %v, want nil", tt.name, err)
			}
			tt.check(t, in)
		})
	}
}

func wantHookState(t *testing.T, in Input, name string) {
	t.Helper()
	if h := in.HookState; h == nil || h.EventName != name || h.LifecycleStage != "POST_TEST_TRAFFIC_SHIFT" {
		t.Errorf("Decode = %+v, want %s at POST_TEST_TRAFFIC_SHIFT", h, name)
	}
}

func TestDecodeRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		kind  error
		id    string
		field string
	}{
		{"deployment-undocumented-name", ErrUnsupported, "7f1c2a9e-0006", "detail.eventName"},
		{"unknown-detail-type", ErrUnsupported, "aa-0001", "detail-type"},
		{"bad-deployment-missing-id", ErrMalformed, "7f1c2a9e-0007", "detail.deploymentId"},
		{"bad-deployment-time-format", ErrMalformed, "7f1c2a9e-0008", "detail.updatedAt"},
		{"bad-deployment-wrong-type", ErrMalformed, "7f1c2a9e-0009", "detail.deploymentId"},
		{"bad-deployment-no-resources", ErrMalformed, "7f1c2a9e-0010", "resources"},
		{"bad-deployment-cluster-mismatch", ErrMalformed, "7f1c2a9e-0011", "detail.clusterArn"},
		{"bad-envelope-time", ErrMalformed, "7f1c2a9e-0013", "time"},
		{"bad-envelope-no-id", ErrMalformed, "", "id"},
		{"bad-envelope-null-detail", ErrMalformed, "7f1c2a9e-0014", "detail"},
		{"bad-envelope-wrong-source", ErrMalformed, "7f1c2a9e-0015", "source"},
		{"bad-service-action-event-type", ErrMalformed, "0b2e6f7a-0004", "detail.eventType"},
		{"bad-alarm-rfc3339-timestamp", ErrMalformed, "c4c1c1c9-0006", "detail.state.timestamp"},
		{"bad-alarm-state-value", ErrMalformed, "c4c1c1c9-0007", "detail.state.value"},
		{"bad-alarm-no-state", ErrMalformed, "c4c1c1c9-0008", "detail.state"},
		{"bad-alarm-arn-mismatch", ErrMalformed, "c4c1c1c9-0009", "resources[0]"},
		{"bad-alarm-wrong-type", ErrMalformed, "c4c1c1c9-0010", "detail.state.value"},
		{"bad-hook-resource-not-deployment", ErrMalformed, "f4fcae0f-0006", "resourceArn"},
		{"bad-hook-no-execution-details", ErrMalformed, "f4fcae0f-0007", "executionDetails"},
		{"bad-hook-weight-type", ErrMalformed, "f4fcae0f-0008", "executionDetails.productionTrafficWeights"},
		{"bad-hook-details-not-object", ErrMalformed, "f4fcae0f-0009", "hookDetails"},
		{"bad-not-json", ErrMalformed, "", ""},
		{"bad-array", ErrMalformed, "", ""},
		{"bad-neither-shape", ErrMalformed, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Decode(fixture(t, tt.name))
			if !errors.Is(err, tt.kind) {
				t.Fatalf("Decode(%s) error = %v, want %v", tt.name, err, tt.kind)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Decode(%s) error = %T, want *Error", tt.name, err)
			}
			if wantHook := strings.HasPrefix(tt.name, "bad-hook"); e.Hook != wantHook {
				t.Errorf("Decode(%s) error .Hook = %v, want %v", tt.name, e.Hook, wantHook)
			}
			if e.ID != tt.id || !strings.HasPrefix(e.Field, tt.field) {
				t.Errorf("Decode(%s) error names (id %q, field %q), want (%q, %q): %v", tt.name, e.ID, e.Field, tt.id, tt.field, err)
			}
		})
	}
}

func TestParseAlarmTime(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    time.Time
		wantErr bool
	}{
		{"2019-10-02T17:04:40.989+0000", time.Date(2019, 10, 2, 17, 4, 40, 989e6, time.UTC), false},
		{"2019-10-02T19:04:40.989+0200", time.Date(2019, 10, 2, 17, 4, 40, 989e6, time.UTC), false},
		{"2019-10-02T17:04:40+0000", time.Date(2019, 10, 2, 17, 4, 40, 0, time.UTC), false},
		{"2019-10-02T17:04:40.989+00:00", time.Time{}, true},
		{"2019-10-02T17:04:40.989Z", time.Time{}, true},
		{"", time.Time{}, true},
	}
	for _, tt := range tests {
		got, err := ParseAlarmTime(tt.in)
		if (err != nil) != tt.wantErr || !got.Equal(tt.want) {
			t.Errorf("ParseAlarmTime(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestParseArns(t *testing.T) {
	t.Parallel()
	tests := []struct {
		arn     string
		want    ServiceRef
		wantErr bool
	}{
		{"arn:aws:ecs:eu-west-1:111122223333:service/prod-cluster/web", web, false},
		{"arn:aws:ecs:eu-west-1:111122223333:service/web", ServiceRef{Region: "eu-west-1", Account: "111122223333", Service: "web"}, false},
		{"arn:aws-cn:ecs:cn-north-1:111122223333:service/c/s", ServiceRef{Region: "cn-north-1", Account: "111122223333", Cluster: "c", Service: "s"}, false},
		{"arn:aws:ecs:eu-west-1:111122223333:task/prod-cluster/abc", ServiceRef{}, true},
		{"arn:aws:ecs:eu-west-1:111122223333:service//web", ServiceRef{}, true},
		{"arn:aws:lambda:eu-west-1:111122223333:service/c/s", ServiceRef{}, true},
		{"service/c/s", ServiceRef{}, true},
	}
	for _, tt := range tests {
		got, err := ParseServiceArn(tt.arn)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseServiceArn(%q) = %+v, %v; want %+v, error %v", tt.arn, got, err, tt.want, tt.wantErr)
		}
	}
	ref, id, err := ParseServiceDeploymentArn("arn:aws:ecs:eu-west-1:111122223333:service-deployment/prod-cluster/web/EZe5RNVLH6PPzHXINuP28")
	if err != nil || ref != web || id != "EZe5RNVLH6PPzHXINuP28" {
		t.Errorf("ParseServiceDeploymentArn = %+v, %q, %v; want web, EZe5RNVLH6PPzHXINuP28", ref, id, err)
	}
}

// TestFixturesCovered keeps every fixture in a table, so a new one is not
// silently skipped.
func TestFixturesCovered(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("testdata/*.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 49 {
		t.Errorf("len(testdata/*.json) = %d, want 49: add the new fixture to TestDecode or TestDecodeRejects and here", len(files))
	}
}

func FuzzDecode(f *testing.F) {
	files, err := filepath.Glob("testdata/*.json")
	if err != nil {
		f.Fatal(err)
	}
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		in, err := Decode(data)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || !(errors.Is(err, ErrMalformed) || errors.Is(err, ErrUnsupported)) {
				t.Fatalf("Decode error = %v (%T), want an *Error wrapping ErrMalformed or ErrUnsupported", err, err)
			}
			return
		}
		set := 0
		for _, p := range []bool{in.Deployment != nil, in.ServiceAction != nil, in.Task != nil, in.HookState != nil, in.Alarm != nil, in.Hook != nil} {
			if p {
				set++
			}
		}
		if set != 1 {
			t.Fatalf("Decode set %d shapes, want exactly 1: %+v", set, in)
		}
		if in.ID() == "" {
			t.Fatalf("Decode succeeded with no id: %+v", in)
		}
		if d := in.Deployment; d != nil && (d.Service.Cluster == "" || d.Service.Service == "" || d.DeploymentID == "" || d.UpdatedAt.IsZero()) {
			t.Fatalf("Decode accepted a deployment event without its key fields: %+v", d)
		}
		if a := in.Alarm; a != nil && (a.AlarmName == "" || a.State.Timestamp.IsZero()) {
			t.Fatalf("Decode accepted an alarm event without its key fields: %+v", a)
		}
		if h := in.Hook; h != nil {
			h.RollingBack()
			if h.DeploymentID == "" || h.TargetRevisionArn == "" {
				t.Fatalf("Decode accepted a hook invocation without its key fields: %+v", h)
			}
		}
	})
}

func BenchmarkDecode(b *testing.B) {
	for _, name := range []string{"deployment-rollback-in-progress", "alarm-ok-to-alarm", "hook-production-traffic-shift", "service-action-task-start-impaired"} {
		data := fixture(b, name)
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, err := Decode(data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
