package deploy_test

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/shipyard-ecs/shipyard/platform/deploy"
)

// TestBakeLeft: the countdown runs while a deployment bakes, in the time
// really left under the engine's TimeScale (a 3-minute bake is 18 s at
// 0.1), and stops when a rollback starts in BAKE_TIME.
func TestBakeLeft(t *testing.T) {
	const arn = "arn:aws:ecs:us-east-1:1:service-deployment/c/web/abc"
	deployment := func(status string) map[string]any {
		return map[string]any{"serviceDeployments": []any{map[string]any{
			"serviceDeploymentArn": arn, "status": status, "lifecycleStage": "BAKE_TIME",
			"deploymentConfiguration": map[string]any{"bakeTimeInMinutes": 3},
		}}}
	}
	tests := []struct {
		name   string
		status string
		scale  float64
		after  time.Duration
		want   time.Duration
	}{
		{"AWS, at the start", "IN_PROGRESS", 0, 0, 3 * time.Minute},
		{"AWS, 5s in", "IN_PROGRESS", 1, 5 * time.Second, 3*time.Minute - 5*time.Second},
		{"time scale 0.1, at the start", "IN_PROGRESS", 0.1, 0, 18 * time.Second},
		{"time scale 0.1, 5s in", "IN_PROGRESS", 0.1, 5 * time.Second, 13 * time.Second},
		{"time scale 0.1, past the bake", "IN_PROGRESS", 0.1, 20 * time.Second, 0},
		{"rolling back in BAKE_TIME", "ROLLBACK_IN_PROGRESS", 0.1, 0, 0},
		{"rolled back in BAKE_TIME", "ROLLBACK_SUCCESSFUL", 1, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hs := httptest.NewServer(&ecsServer{bodies: map[string]any{"DescribeServiceDeployments": deployment(tt.status)}})
			defer hs.Close()
			client := ecs.NewFromConfig(aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("k", "s", ""), BaseEndpoint: aws.String(hs.URL)})
			now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
			e := &deploy.Engine{Service: deploy.Service{Cluster: "c", Name: "web"}, ECS: client, Reader: client, TimeScale: tt.scale, Now: func() time.Time { return now }}
			if _, err := e.Look(context.Background(), arn); err != nil {
				t.Fatal(err)
			}
			now = now.Add(tt.after)
			s, err := e.Look(context.Background(), arn)
			if err != nil {
				t.Fatal(err)
			}
			if s.BakeLeft != tt.want {
				t.Errorf("BakeLeft %s after the bake began (%s, scale %g) = %s, want %s", tt.after, tt.status, tt.scale, s.BakeLeft, tt.want)
			}
		})
	}
}
