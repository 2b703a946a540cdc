package ecs_test

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecsapi "github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/smithy-go"
)

func errCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func TestAPIErrors(t *testing.T) {
	e := newEnv(t, t.TempDir())
	e.cluster()
	td := e.taskDef("web")
	c1 := aws.String("c1")
	tests := []struct {
		name string
		call func() error
		want any
	}{
		{"describe services of unknown cluster", func() error {
			_, err := e.ecs.DescribeServices(ctx, &ecsapi.DescribeServicesInput{Cluster: aws.String("nope"), Services: []string{"x"}})
			return err
		}, &types.ClusterNotFoundException{}},
		{"update unknown service", func() error {
			_, err := e.ecs.UpdateService(ctx, &ecsapi.UpdateServiceInput{Cluster: c1, Service: aws.String("nope"), DesiredCount: aws.Int32(1)})
			return err
		}, &types.ServiceNotFoundException{}},
		{"fargate without task cpu", func() error {
			_, err := e.ecs.RegisterTaskDefinition(ctx, &ecsapi.RegisterTaskDefinitionInput{Family: aws.String("x"), NetworkMode: types.NetworkModeAwsvpc,
				RequiresCompatibilities: []types.Compatibility{types.CompatibilityFargate}, Memory: aws.String("512"),
				ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("a"), Image: aws.String("img")}}})
			return err
		}, &types.ClientException{}},
		{"fargate size that does not exist", func() error {
			_, err := e.ecs.RegisterTaskDefinition(ctx, &ecsapi.RegisterTaskDefinitionInput{Family: aws.String("x"), NetworkMode: types.NetworkModeAwsvpc,
				RequiresCompatibilities: []types.Compatibility{types.CompatibilityFargate}, Cpu: aws.String("256"), Memory: aws.String("4096"),
				ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("a"), Image: aws.String("img")}}})
			return err
		}, &types.ClientException{}},
		{"awsvpc service without network configuration", func() error {
			_, err := e.ecs.CreateService(ctx, &ecsapi.CreateServiceInput{Cluster: c1, ServiceName: aws.String("s"), TaskDefinition: aws.String(td), DesiredCount: aws.Int32(1)})
			return err
		}, &types.InvalidParameterException{}},
		{"blue/green without load balancer", func() error {
			_, err := e.ecs.CreateService(ctx, &ecsapi.CreateServiceInput{Cluster: c1, ServiceName: aws.String("s"), TaskDefinition: aws.String(td), DesiredCount: aws.Int32(1),
				NetworkConfiguration: awsvpc, DeploymentConfiguration: &types.DeploymentConfiguration{Strategy: types.DeploymentStrategyBlueGreen, BakeTimeInMinutes: aws.Int32(1)}})
			return err
		}, &types.InvalidParameterException{}},
		{"unknown task definition", func() error {
			_, err := e.ecs.CreateService(ctx, &ecsapi.CreateServiceInput{Cluster: c1, ServiceName: aws.String("s"), TaskDefinition: aws.String("nope:3"), DesiredCount: aws.Int32(1), NetworkConfiguration: awsvpc})
			return err
		}, &types.InvalidParameterException{}},
		{"describe unknown deployment", func() error {
			_, err := e.ecs.StopServiceDeployment(ctx, &ecsapi.StopServiceDeploymentInput{ServiceDeploymentArn: aws.String("arn:aws:ecs:us-east-1:000000000000:service-deployment/c1/s/nope")})
			return err
		}, &types.ServiceDeploymentNotFoundException{}},
		{"stop unknown task", func() error {
			_, err := e.ecs.StopTask(ctx, &ecsapi.StopTaskInput{Cluster: c1, Task: aws.String("0123")})
			return err
		}, &types.InvalidParameterException{}},
		{"tag unknown resource", func() error {
			_, err := e.ecs.TagResource(ctx, &ecsapi.TagResourceInput{ResourceArn: aws.String("arn:aws:ecs:us-east-1:000000000000:cluster/nope"), Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})
			return err
		}, &types.ResourceNotFoundException{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if err == nil || !errors.As(err, &tt.want) {
				t.Errorf("%s = %v, want %T", tt.name, err, tt.want)
			}
		})
	}
	// None of the failed calls created anything.
	ls, err := e.ecs.ListServices(ctx, &ecsapi.ListServicesInput{Cluster: c1})
	if err != nil || len(ls.ServiceArns) != 0 {
		t.Errorf("ListServices after bad requests = %v, %v; want none", ls.ServiceArns, err)
	}
	tds, _ := e.ecs.ListTaskDefinitions(ctx, &ecsapi.ListTaskDefinitionsInput{})
	if len(tds.TaskDefinitionArns) != 1 {
		t.Errorf("ListTaskDefinitions = %v, want only %s", tds.TaskDefinitionArns, td)
	}
}

func TestTaskDefinitionsAndTags(t *testing.T) {
	e := newEnv(t, t.TempDir())
	e.cluster()
	first := e.taskDef("web")
	second := e.taskDef("web", "APP_VERSION=v2")
	if !strings.HasSuffix(first, ":task-definition/web:1") || !strings.HasSuffix(second, ":task-definition/web:2") {
		t.Errorf("task definition ARNs = %s, %s; want revisions 1 and 2", first, second)
	}
	d, err := e.ecs.DescribeTaskDefinition(ctx, &ecsapi.DescribeTaskDefinitionInput{TaskDefinition: aws.String("web")})
	if err != nil || aws.ToString(d.TaskDefinition.TaskDefinitionArn) != second || d.TaskDefinition.Status != types.TaskDefinitionStatusActive {
		t.Fatalf("DescribeTaskDefinition(web) = %v, %v; want the latest, %s", d, err, second)
	}
	c := d.TaskDefinition.ContainerDefinitions[0]
	if aws.ToInt32(c.PortMappings[0].HostPort) != 5000 || c.PortMappings[0].Protocol != types.TransportProtocolTcp || len(d.TaskDefinition.Compatibilities) != 2 {
		t.Errorf("container = %+v, compatibilities %v; want hostPort 5000 tcp and EC2+FARGATE", c.PortMappings, d.TaskDefinition.Compatibilities)
	}
	if _, err := e.ecs.DeregisterTaskDefinition(ctx, &ecsapi.DeregisterTaskDefinitionInput{TaskDefinition: aws.String("web:2")}); err != nil {
		t.Fatal(err)
	}
	d, _ = e.ecs.DescribeTaskDefinition(ctx, &ecsapi.DescribeTaskDefinitionInput{TaskDefinition: aws.String("web")})
	if got := aws.ToString(d.TaskDefinition.TaskDefinitionArn); got != first {
		t.Errorf("DescribeTaskDefinition(web) after deregistering 2 = %s, want %s", got, first)
	}
	inactive, _ := e.ecs.ListTaskDefinitions(ctx, &ecsapi.ListTaskDefinitionsInput{Status: types.TaskDefinitionStatusInactive})
	if len(inactive.TaskDefinitionArns) != 1 || inactive.TaskDefinitionArns[0] != second {
		t.Errorf("ListTaskDefinitions(INACTIVE) = %v, want [%s]", inactive.TaskDefinitionArns, second)
	}

	cl, _ := e.ecs.DescribeClusters(ctx, &ecsapi.DescribeClustersInput{Clusters: []string{"c1", "nope"}})
	if len(cl.Clusters) != 1 || len(cl.Failures) != 1 || aws.ToString(cl.Failures[0].Reason) != "MISSING" {
		t.Errorf("DescribeClusters(c1, nope) = %d clusters, failures %v; want 1 and one MISSING", len(cl.Clusters), cl.Failures)
	}
	arn := aws.ToString(cl.Clusters[0].ClusterArn)
	if _, err := e.ecs.TagResource(ctx, &ecsapi.TagResourceInput{ResourceArn: aws.String(arn), Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("platform")}}}); err != nil {
		t.Fatal(err)
	}
	tags, err := e.ecs.ListTagsForResource(ctx, &ecsapi.ListTagsForResourceInput{ResourceArn: aws.String(arn)})
	if err != nil || len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].Value) != "platform" {
		t.Errorf("ListTagsForResource = %v, %v; want team=platform", tags, err)
	}
	if _, err := e.ecs.DeleteCluster(ctx, &ecsapi.DeleteClusterInput{Cluster: aws.String("c1")}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.ecs.ListServices(ctx, &ecsapi.ListServicesInput{Cluster: aws.String("c1")}); errCode(err) != "ClusterNotFoundException" {
		t.Errorf("ListServices(deleted cluster) = %v, want ClusterNotFoundException", err)
	}
}

// TestBadRequests sends what the SDK would not: each answered with the AWS
// error and nothing created.
func TestBadRequests(t *testing.T) {
	e := newEnv(t, t.TempDir())
	e.cluster()
	// The requests below name no cluster, so they reach "default": create
	// it, so that ClusterNotFoundException cannot be what answers.
	if _, err := e.ecs.CreateCluster(ctx, &ecsapi.CreateClusterInput{}); err != nil {
		t.Fatal(err)
	}
	e.taskDef("web")
	url := e.ecs.Options().BaseEndpoint
	tests := []struct{ name, op, body, want string }{
		{"malformed", "CreateCluster", `{"clusterName":`, "SerializationException"},
		{"wrong type", "CreateCluster", `{"clusterName":7}`, "SerializationException"},
		{"missing family", "RegisterTaskDefinition", `{"containerDefinitions":[]}`, "InvalidParameterException"},
		{"missing service name", "CreateService", `{"taskDefinition":"web"}`, "InvalidParameterException"},
		{"unknown operation", "LaunchRocket", `{}`, "UnknownOperationException"},
		{"update without service", "UpdateService", `{"desiredCount":1}`, "InvalidParameterException"},
		{"stop task without task", "StopTask", `{}`, "InvalidParameterException"},
		{"describe tasks without tasks", "DescribeTasks", `{}`, "InvalidParameterException"},
		{"describe services without services", "DescribeServices", `{}`, "InvalidParameterException"},
		{"list deployments without service", "ListServiceDeployments", `{}`, "InvalidParameterException"},
		{"stop deployment without arn", "StopServiceDeployment", `{}`, "InvalidParameterException"},
		{"continue deployment without hook", "ContinueServiceDeployment", `{"serviceDeploymentArn":"x"}`, "InvalidParameterException"},
		{"revisions without arns", "DescribeServiceRevisions", `{}`, "InvalidParameterException"},
		{"desired count of the wrong type", "CreateService", `{"serviceName":"s","taskDefinition":"web","desiredCount":"two"}`, "SerializationException"},
		{"negative desired count", "CreateService", `{"serviceName":"s","taskDefinition":"web","desiredCount":-1}`, "InvalidParameterException"},
		{"tags of the wrong shape", "TagResource", `{"resourceArn":"arn:aws:ecs:us-east-1:000000000000:cluster/c","tags":{"k":"v"}}`, "SerializationException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, aws.ToString(url)+"/", strings.NewReader(tt.body))
			req.Header.Set("X-Amz-Target", "AmazonEC2ContainerServiceV20141113."+tt.op)
			req.Header.Set("Content-Type", "application/x-amz-json-1.1")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(b), tt.want) {
				t.Errorf("%s %s = %d %s, want 400 %s", tt.op, tt.body, resp.StatusCode, b, tt.want)
			}
		})
	}
	cl, _ := e.ecs.ListClusters(ctx, &ecsapi.ListClustersInput{})
	if len(cl.ClusterArns) != 2 {
		t.Errorf("ListClusters after bad requests = %v, want only c1 and default", cl.ClusterArns)
	}
	ls, _ := e.ecs.ListServices(ctx, &ecsapi.ListServicesInput{})
	if len(ls.ServiceArns) != 0 {
		t.Errorf("ListServices after bad requests = %v, want none", ls.ServiceArns)
	}
}

func errorsAs(err error, target any) bool { return err != nil && errors.As(err, target) }
