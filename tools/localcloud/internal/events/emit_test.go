package events

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/cloudwatch"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/ecs"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func ptr[T any](v T) *T { return &v }

// golden compares the event with testdata/<name>.json as parsed JSON; the
// id, random per event, is checked for shape and left out.
func golden(t *testing.T, name string, e Event) {
	t.Helper()
	if len(e.ID) != 36 || e.ID[14] != '4' {
		t.Errorf("%s id = %q, want a v4 UUID", name, e.ID)
	}
	e.ID = "<uuid>"
	got, err := json.MarshalIndent(e, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", name+".json")
	if *update {
		if err := os.WriteFile(path, append(got, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run with -update to create it): %v", err)
	}
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("%s = %s\nwant %s", name, got, want)
	}
}

func TestFromAlarmChange(t *testing.T) {
	t.Parallel()
	prev := time.Date(2026, 9, 1, 10, 5, 12, 101e6, time.UTC)
	now := time.Date(2026, 9, 1, 10, 19, 40, 989e6, time.UTC)
	reasonData := `{"version":"1.0","queryDate":"2026-09-01T10:19:40.985+0000","statistic":"Sum","period":60,"recentDatapoints":[12.0],"threshold":5.0}`
	tests := []struct {
		name  string
		alarm cloudwatch.MetricAlarm
	}{
		{"alarm-single-metric", cloudwatch.MetricAlarm{
			AlarmName: "web-green-5xx", AlarmArn: "arn:aws:cloudwatch:us-east-1:000000000000:alarm:web-green-5xx",
			AlarmDescription: "5XX from targets", Namespace: "AWS/ApplicationELB", MetricName: "HTTPCode_Target_5XX_Count", Statistic: "Sum", Period: ptr(int32(60)),
			Dimensions: []cloudwatch.Dimension{{Name: "LoadBalancer", Value: "app/web-alb/32e0e4f946c3c05b"}, {Name: "TargetGroup", Value: "targetgroup/web-green/cad10a56f5843199"}},
		}},
		{"alarm-metric-math", cloudwatch.MetricAlarm{
			AlarmName: "web-5xx", AlarmArn: "arn:aws:cloudwatch:us-east-1:000000000000:alarm:web-5xx",
			Metrics: []cloudwatch.MetricDataQuery{
				{Id: "blue", ReturnData: ptr(false), MetricStat: &cloudwatch.MetricStat{Metric: &cloudwatch.Metric{Namespace: "AWS/ApplicationELB", MetricName: "HTTPCode_Target_5XX_Count", Dimensions: []cloudwatch.Dimension{{Name: "TargetGroup", Value: "targetgroup/blue/1"}}}, Period: ptr(int32(60)), Stat: "Sum"}},
				{Id: "green", ReturnData: ptr(false), MetricStat: &cloudwatch.MetricStat{Metric: &cloudwatch.Metric{Namespace: "AWS/ApplicationELB", MetricName: "HTTPCode_Target_5XX_Count", Dimensions: []cloudwatch.Dimension{{Name: "TargetGroup", Value: "targetgroup/green/2"}}}, Period: ptr(int32(60)), Stat: "Sum"}},
				{Id: "total", Expression: "blue+green", Label: "5XX on both target groups"},
			},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e, err := FromAlarmChange(cloudwatch.StateChange{
				Alarm:    tt.alarm,
				Previous: cloudwatch.AlarmState{Value: "OK", Reason: "Threshold Crossed: 1 datapoint [0.0] was not greater than or equal to the threshold (5.0).", Timestamp: prev},
				Current:  cloudwatch.AlarmState{Value: "ALARM", Reason: "Threshold Crossed: 1 out of the last 1 datapoints [12.0] was greater than or equal to the threshold (5.0).", ReasonData: reasonData, Timestamp: now},
			})
			if err != nil {
				t.Fatal(err)
			}
			golden(t, tt.name, e)
			var d struct {
				State struct{ Timestamp, ReasonData string }
			}
			if err := json.Unmarshal(e.Detail, &d); err != nil {
				t.Fatalf("detail %s: %v", e.Detail, err)
			}
			if ts, err := time.Parse(AlarmTimeLayout, d.State.Timestamp); err != nil || !ts.Equal(now) {
				t.Errorf("state.timestamp %q parses to %v, %v; want %v in %s", d.State.Timestamp, ts, err, now, AlarmTimeLayout)
			}
			if _, err := time.Parse(time.RFC3339, d.State.Timestamp); err == nil {
				t.Errorf("state.timestamp %q parses as RFC 3339; AWS's format has no colon in the offset", d.State.Timestamp)
			}
			if !json.Valid([]byte(d.State.ReasonData)) {
				t.Errorf("state.reasonData = %q, want a JSON string", d.State.ReasonData)
			}
		})
	}
}

func TestFromECS(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 9, 1, 10, 15, 2, 0, time.UTC)
	tests := []struct {
		name string
		in   ecs.Event
	}{
		{"ecs-deployment-rollback", ecs.Event{
			DetailType: "ECS Deployment State Change", Time: at,
			Resources: []string{"arn:aws:ecs:us-east-1:000000000000:service/prod-cluster/web"},
			Detail: map[string]any{
				"eventType": "INFO", "eventName": "SERVICE_DEPLOYMENT_IN_PROGRESS",
				"clusterArn":   "arn:aws:ecs:us-east-1:000000000000:cluster/prod-cluster",
				"deploymentId": "ecs-svc/4503962209113548126", "updatedAt": "2026-09-01T10:15:01.000Z",
				"reason": "ECS deployment circuit breaker: rolling back to deploymentId ecs-svc/8802134481127734015.",
			},
		}},
		{"ecs-service-action", ecs.Event{
			DetailType: "ECS Service Action", Time: at,
			Resources: []string{"arn:aws:ecs:us-east-1:000000000000:service/prod-cluster/web"},
			Detail: map[string]any{
				"eventType": "INFO", "eventName": "SERVICE_STEADY_STATE",
				"clusterArn": "arn:aws:ecs:us-east-1:000000000000:cluster/prod-cluster", "createdAt": "2026-09-01T10:15:02.118Z",
			},
		}},
		{"ecs-task-stopped", ecs.Event{
			DetailType: "ECS Task State Change", Time: at,
			Resources: []string{"arn:aws:ecs:us-east-1:000000000000:task/prod-cluster/c13b4cb40f1f4fe4a2971f76ae5a47ad"},
			Detail: map[string]any{
				"clusterArn": "arn:aws:ecs:us-east-1:000000000000:cluster/prod-cluster",
				"taskArn":    "arn:aws:ecs:us-east-1:000000000000:task/prod-cluster/c13b4cb40f1f4fe4a2971f76ae5a47ad",
				"group":      "service:web", "startedBy": "ecs-svc/4503962209113548126", "lastStatus": "STOPPED", "desiredStatus": "STOPPED",
				"stopCode": "ServiceSchedulerInitiated", "version": 6,
				"containers": []map[string]any{{"name": "web", "lastStatus": "STOPPED", "exitCode": 137}},
			},
		}},
		{"ecs-hook-succeeded", ecs.Event{
			DetailType: "ECS Hook State Change", Time: at,
			Resources: []string{"arn:aws:ecs:us-east-1:000000000000:service-deployment/prod-cluster/web/EZe5RNVLH6PPzHXINuP28"},
			Detail: map[string]any{
				"eventType": "INFO", "eventName": "HOOK_SUCCEEDED", "hookId": "h1", "hookType": "AWS_LAMBDA",
				"lifecycleStage": "POST_TEST_TRAFFIC_SHIFT", "clusterArn": "arn:aws:ecs:us-east-1:000000000000:cluster/prod-cluster",
				"serviceArn":           "arn:aws:ecs:us-east-1:000000000000:service/prod-cluster/web",
				"serviceDeploymentArn": "arn:aws:ecs:us-east-1:000000000000:service-deployment/prod-cluster/web/EZe5RNVLH6PPzHXINuP28",
				"updatedAt":            "2026-09-01T10:15:01.618059641Z",
			},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e, err := FromECS(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, tt.name, e)
		})
	}
}
