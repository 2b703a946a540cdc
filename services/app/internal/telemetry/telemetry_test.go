package telemetry

import (
	"context"
	"testing"
)

func TestAttributes(t *testing.T) {
	base := Config{ServiceName: "app", Version: "v1", Commit: "abc"}
	onECS := base
	onECS.ECS = &ECSTask{TaskARN: "arn:aws:ecs:us-east-1:1:task/c/t", Family: "f", Revision: "3", AvailabilityZone: "us-east-1a"}
	tests := []struct {
		name string
		cfg  Config
		want map[string]string
	}{
		{"off ECS", base, map[string]string{"service.name": "app", "service.version": "v1", "vcs.ref.head.revision": "abc"}},
		{"on ECS", onECS, map[string]string{
			"service.name": "app", "service.version": "v1", "vcs.ref.head.revision": "abc",
			"cloud.provider": "aws", "cloud.platform": "aws_ecs", "aws.ecs.task.arn": "arn:aws:ecs:us-east-1:1:task/c/t",
			"aws.ecs.task.family": "f", "aws.ecs.task.revision": "3", "cloud.availability_zone": "us-east-1a",
		}},
	}
	for _, tt := range tests {
		got := map[string]string{}
		for _, kv := range Attributes(tt.cfg) {
			got[string(kv.Key)] = kv.Value.AsString()
		}
		if len(got) != len(tt.want) {
			t.Errorf("Attributes(%s) = %v, want %v", tt.name, got, tt.want)
		}
		for k, v := range tt.want {
			if got[k] != v {
				t.Errorf("Attributes(%s)[%s] = %q, want %q", tt.name, k, got[k], v)
			}
		}
	}
}

func TestNewTracerProviderNeedsEndpoint(t *testing.T) {
	if _, err := NewTracerProvider(context.Background(), Config{}); err == nil {
		t.Error("NewTracerProvider without an endpoint = nil error, want one")
	}
}
