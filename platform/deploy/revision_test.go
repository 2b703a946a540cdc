package deploy_test

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/shipyard-ecs/shipyard/platform/deploy"
)

const (
	runningImage = "1.dkr.ecr.us-east-1.amazonaws.com/web@sha256:aaaa"
	runningArn   = "arn:aws:ecs:us-east-1:1:task-definition/web:1"
)

// registered is what ship would register for image with env: the shape of
// service.Builder's input.
func registered(image string, env map[string]string, tags map[string]string) *ecs.RegisterTaskDefinitionInput {
	in := &ecs.RegisterTaskDefinitionInput{
		Family: aws.String("web"), Cpu: aws.String("256"), Memory: aws.String("512"),
		NetworkMode: types.NetworkModeAwsvpc, RequiresCompatibilities: []types.Compatibility{types.CompatibilityFargate},
		ExecutionRoleArn: aws.String("arn:aws:iam::1:role/exec"), TaskRoleArn: aws.String("arn:aws:iam::1:role/task"),
		ContainerDefinitions: []types.ContainerDefinition{{
			Name: aws.String("app"), Image: aws.String(image), Essential: aws.Bool(true), Privileged: aws.Bool(false),
			PortMappings: []types.PortMapping{{Name: aws.String("http"), ContainerPort: aws.Int32(5000), Protocol: types.TransportProtocolTcp}},
		}},
	}
	for _, k := range []string{"PORT", "HOST", "LOG_LEVEL", "APP_FAULT"} {
		if v, ok := env[k]; ok {
			in.ContainerDefinitions[0].Environment = append(in.ContainerDefinitions[0].Environment, types.KeyValuePair{Name: aws.String(k), Value: aws.String(v)})
		}
	}
	for _, k := range []string{"project", "env"} {
		if v, ok := tags[k]; ok {
			in.Tags = append(in.Tags, types.Tag{Key: aws.String(k), Value: aws.String(v)})
		}
	}
	return in
}

// TestRunningSameTaskDefinition reads the running task definition as ECS
// describes it — its own fields added, defaults filled in (host port,
// container cpu, empty lists), environment and tags in another order, an
// aws: tag — and finds it the same as what ship would register from the
// same image and environment, and different when anything that makes a
// revision differs.
func TestRunningSameTaskDefinition(t *testing.T) {
	srv := &ecsServer{bodies: map[string]any{
		"DescribeServices": map[string]any{"services": []any{map[string]any{"serviceName": "web", "status": "ACTIVE", "taskDefinition": runningArn}}},
		"DescribeTaskDefinition": map[string]any{
			"taskDefinition": map[string]any{
				"taskDefinitionArn": runningArn, "family": "web", "revision": 1, "status": "ACTIVE", "registeredAt": 1.7e9,
				"cpu": "256", "memory": "512", "networkMode": "awsvpc", "requiresCompatibilities": []string{"FARGATE"}, "compatibilities": []string{"EC2", "FARGATE"},
				"executionRoleArn": "arn:aws:iam::1:role/exec", "taskRoleArn": "arn:aws:iam::1:role/task",
				"requiresAttributes": []any{map[string]any{"name": "com.amazonaws.ecs.capability.task-iam-role"}},
				"volumes":            []any{}, "placementConstraints": []any{},
				"containerDefinitions": []any{map[string]any{
					"name": "app", "image": runningImage, "essential": true, "cpu": 0,
					"portMappings": []any{map[string]any{"name": "http", "containerPort": 5000, "hostPort": 5000, "protocol": "tcp"}},
					"environment": []any{
						map[string]any{"name": "LOG_LEVEL", "value": "info"}, map[string]any{"name": "HOST", "value": "0.0.0.0"}, map[string]any{"name": "PORT", "value": "5000"},
					},
					"mountPoints": []any{}, "volumesFrom": []any{}, "systemControls": []any{},
				}},
			},
			"tags": []any{map[string]any{"key": "env", "value": "local"}, map[string]any{"key": "aws:cloudformation:stack-name", "value": "x"}, map[string]any{"key": "project", "value": "web"}},
		},
	}}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	client := ecs.NewFromConfig(aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("k", "s", ""), BaseEndpoint: aws.String(hs.URL)})
	e := &deploy.Engine{Service: deploy.Service{Cluster: "c", Name: "web"}, ECS: client, Reader: client, Tasks: client}
	arn, running, err := e.Running(context.Background())
	if err != nil || arn != runningArn {
		t.Fatalf("Running() = %s, %v; want %s", arn, err, runningArn)
	}
	env := map[string]string{"PORT": "5000", "HOST": "0.0.0.0", "LOG_LEVEL": "info"}
	tags := map[string]string{"project": "web", "env": "local"}
	with := func(k, v string) map[string]string {
		m := map[string]string{}
		for k, v := range env {
			m[k] = v
		}
		m[k] = v
		return m
	}
	tests := []struct {
		name string
		in   *ecs.RegisterTaskDefinitionInput
		same bool
	}{
		{"the same image and environment", registered(runningImage, env, tags), true},
		{"another image digest", registered("1.dkr.ecr.us-east-1.amazonaws.com/web@sha256:bbbb", env, tags), false},
		{"another environment value", registered(runningImage, with("LOG_LEVEL", "debug"), tags), false},
		{"one more environment variable", registered(runningImage, with("APP_FAULT", "health"), tags), false},
		{"another tag", registered(runningImage, env, map[string]string{"project": "web", "env": "staging"}), false},
		{"another size", func() *ecs.RegisterTaskDefinitionInput {
			in := registered(runningImage, env, tags)
			in.Memory = aws.String("1024")
			return in
		}(), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := deploy.SameTaskDefinition(tt.in, running); got != tt.same {
				t.Errorf("SameTaskDefinition(%s, running) = %v, want %v", tt.name, got, tt.same)
			}
		})
	}
}
