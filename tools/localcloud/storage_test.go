package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	ecrapi "github.com/aws/aws-sdk-go-v2/service/ecr"
	ecsapi "github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/ecr/ecrtest"
)

// usage is what a state directory holds.
type usage struct {
	files int
	bytes int64
	// top is bytes per top-level entry, for the log.
	top map[string]int64
}

func (u usage) String() string {
	keys := make([]string, 0, len(u.top))
	for k := range u.top {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s=%d", k, u.top[k]))
	}
	return fmt.Sprintf("%d files, %d bytes (%s)", u.files, u.bytes, strings.Join(parts, " "))
}

func measure(t *testing.T, dir string) usage {
	t.Helper()
	u := usage{top: map[string]int64{}}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if os.IsNotExist(err) {
				return nil // removed while we walked
			}
			return err
		}
		if d.IsDir() {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return nil //nolint:nilerr // removed while we walked
		}
		rel, _ := filepath.Rel(dir, p)
		u.files++
		u.bytes += fi.Size()
		u.top[strings.SplitN(rel, string(filepath.Separator), 2)[0]] += fi.Size()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// entries lists a directory's entries; a missing directory has none.
func entries(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Name())
	}
	return out
}

// TestDeletesFreeStorage runs localcloud as main does, builds up what a
// deploy leaves (an image pushed twice, a task that ran from it, a bucket
// with an object, a table with an item, a log group), deletes it all through
// the real SDK clients as ship destroy does, and watches the state directory
// shrink back: no registry blobs, no unpacked images, no task directories
// once the stopped task ages out of DescribeTasks (an AWS hour, scaled), no
// bucket or table documents.
func TestDeletesFreeStorage(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir := t.TempDir()
	stateDir := filepath.Join(dir, "state")
	bin, err := ecrtest.GoBuild("internal/taskrun/testdata/testapp", dir)
	if err != nil {
		t.Fatal(err)
	}
	// At 0.003 an AWS hour, how long a STOPPED task stays describable, is
	// 10.8 s.
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"--addr", "127.0.0.1:0", "--state", stateDir, "--time-scale", "0.003", "--listener-port-offset", "-1", "--log-level", "warn"}, pw, io.Discard)
		pw.Close()
	}()
	defer func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("run = %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Error("run did not return after cancel")
		}
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("read banner: %v", err)
	}
	_, rest, _ := strings.Cut(line, "listening on ")
	endpoint := strings.Fields(rest)[0]
	go io.Copy(io.Discard, pr) //nolint:errcheck // drain the rest of stdout
	base := measure(t, stateDir)
	t.Logf("state at start: %s", base)

	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""), BaseEndpoint: aws.String(endpoint)}
	ecrc, ecsc, logc, ddb := ecrapi.NewFromConfig(cfg), ecsapi.NewFromConfig(cfg), cloudwatchlogs.NewFromConfig(cfg), dynamodb.NewFromConfig(cfg)
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })

	// --- what a deploy leaves ---
	repo, err := ecrc.CreateRepository(ctx, &ecrapi.CreateRepositoryInput{RepositoryName: aws.String("app")})
	if err != nil {
		t.Fatal(err)
	}
	host, name, _ := strings.Cut(aws.ToString(repo.Repository.RepositoryUri), "/")
	var image string
	for _, v := range []string{"v1", "v2"} {
		img, err := ecrtest.Image(bin, "APP_VERSION="+v)
		if err != nil {
			t.Fatal(err)
		}
		if image, err = ecrtest.Push(img, host, name, v); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := ecsc.CreateCluster(ctx, &ecsapi.CreateClusterInput{ClusterName: aws.String("c1")}); err != nil {
		t.Fatal(err)
	}
	td, err := ecsc.RegisterTaskDefinition(ctx, &ecsapi.RegisterTaskDefinitionInput{
		Family: aws.String("app"), NetworkMode: ecstypes.NetworkModeAwsvpc, RequiresCompatibilities: []ecstypes.Compatibility{ecstypes.CompatibilityFargate},
		Cpu: aws.String("256"), Memory: aws.String("512"), ExecutionRoleArn: aws.String("arn:aws:iam::000000000000:role/exec"),
		ContainerDefinitions: []ecstypes.ContainerDefinition{{
			Name: aws.String("app"), Image: aws.String(image), PortMappings: []ecstypes.PortMapping{{ContainerPort: aws.Int32(5000)}},
			LogConfiguration: &ecstypes.LogConfiguration{LogDriver: ecstypes.LogDriverAwslogs, Options: map[string]string{
				"awslogs-group": "/ecs/app", "awslogs-region": "us-east-1", "awslogs-stream-prefix": "ecs"}},
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ecsc.CreateService(ctx, &ecsapi.CreateServiceInput{Cluster: aws.String("c1"), ServiceName: aws.String("app"),
		TaskDefinition: td.TaskDefinition.TaskDefinitionArn, DesiredCount: aws.Int32(1),
		NetworkConfiguration: &ecstypes.NetworkConfiguration{AwsvpcConfiguration: &ecstypes.AwsVpcConfiguration{Subnets: []string{"subnet-a"}}}}); err != nil {
		t.Fatal(err)
	}
	var taskARN string
	eventually(t, "the task runs and writes its output", 60*time.Second, func() bool {
		ls, err := ecsc.ListTasks(ctx, &ecsapi.ListTasksInput{Cluster: aws.String("c1"), ServiceName: aws.String("app")})
		if err != nil || len(ls.TaskArns) == 0 {
			return false
		}
		taskARN = ls.TaskArns[0]
		id := taskARN[strings.LastIndexByte(taskARN, '/')+1:]
		fi, err := os.Stat(filepath.Join(stateDir, "tasks", "tasks", id, "container.log"))
		return err == nil && fi.Size() > 0
	})
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("artifacts")}); err != nil {
		t.Fatal(err)
	}
	if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("artifacts"), Key: aws.String("template.json"), Body: bytes.NewReader(bytes.Repeat([]byte("x"), 1<<20))}); err != nil {
		t.Fatal(err)
	}
	if _, err := ddb.CreateTable(ctx, &dynamodb.CreateTableInput{TableName: aws.String("ledger"), BillingMode: ddbtypes.BillingModePayPerRequest,
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: ddbtypes.KeyTypeHash}},
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: ddbtypes.ScalarAttributeTypeS}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := ddb.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("ledger"), Item: map[string]ddbtypes.AttributeValue{"pk": &ddbtypes.AttributeValueMemberS{Value: "deploy-1"}}}); err != nil {
		t.Fatal(err)
	}
	peak := measure(t, stateDir)
	t.Logf("state after the deploy: %s", peak)
	if peak.bytes < base.bytes+2<<20 {
		t.Fatalf("state after the deploy = %s, want it at least 2 MB above the start (%s): the scenario stored nothing to free", peak, base)
	}

	// --- what ship destroy does ---
	if _, err := ecsc.DeleteService(ctx, &ecsapi.DeleteServiceInput{Cluster: aws.String("c1"), Service: aws.String("app"), Force: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the task stops", 30*time.Second, func() bool {
		out, err := ecsc.DescribeTasks(ctx, &ecsapi.DescribeTasksInput{Cluster: aws.String("c1"), Tasks: []string{taskARN}})
		return err == nil && len(out.Tasks) == 1 && aws.ToString(out.Tasks[0].LastStatus) == "STOPPED"
	})
	// Right after the stop, not after the deletes below: the task is
	// forgotten 10.8 s after it stopped, which a loaded machine can spend
	// on them.
	if out, err := ecsc.DescribeTasks(ctx, &ecsapi.DescribeTasksInput{Cluster: aws.String("c1"), Tasks: []string{taskARN}}); err != nil || len(out.Tasks) != 1 {
		t.Errorf("DescribeTasks right after the stop = %+v, %v; want the STOPPED task", out, err)
	}
	if _, err := ecrc.DeleteRepository(ctx, &ecrapi.DeleteRepositoryInput{RepositoryName: aws.String("app"), Force: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := s3c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("artifacts"), Key: aws.String("template.json")}); err != nil {
		t.Fatal(err)
	}
	if _, err := s3c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("artifacts")}); err != nil {
		t.Fatal(err)
	}
	if _, err := ddb.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String("ledger")}); err != nil {
		t.Fatal(err)
	}
	if _, err := logc.DeleteLogGroup(ctx, &cloudwatchlogs.DeleteLogGroupInput{LogGroupName: aws.String("/ecs/app")}); err != nil {
		t.Fatal(err)
	}

	// At once: the registry's blobs, the unpacked image, the bucket's and
	// the table's files.
	check := func(what string, got []string) {
		t.Helper()
		if len(got) != 0 {
			t.Errorf("%s after the deletes = %v, want none", what, got)
		}
	}
	eventually(t, "the unpacked image goes once its task has exited", 10*time.Second, func() bool {
		return len(entries(t, filepath.Join(stateDir, "tasks", "images"))) == 0
	})
	check("registry blobs", entries(t, filepath.Join(stateDir, "ecr", "blobs", "sha256")))
	check("bucket files", entries(t, filepath.Join(stateDir, "s3")))
	docs, _ := filepath.Glob(filepath.Join(stateDir, "s3-bucket-*.json"))
	check("bucket documents", docs)
	docs, _ = filepath.Glob(filepath.Join(stateDir, "dynamodb-table-*.json"))
	check("table documents", docs)

	// The stopped task stays describable for an AWS hour (checked right
	// after the stop), and its directory with it; then both go.
	eventually(t, "the stopped task's directory goes when the task is forgotten", 40*time.Second, func() bool {
		return len(entries(t, filepath.Join(stateDir, "tasks", "tasks"))) == 0
	})
	if out, err := ecsc.DescribeTasks(ctx, &ecsapi.DescribeTasksInput{Cluster: aws.String("c1"), Tasks: []string{taskARN}}); err != nil || len(out.Tasks) != 0 {
		t.Errorf("DescribeTasks after the directory went = %d tasks, %v; want the task forgotten first", len(out.Tasks), err)
	}
	end := measure(t, stateDir)
	t.Logf("state after the deletes: %s", end)
	// What stays is JSON history: the INACTIVE service, the task
	// definition, stack-like records. A few tens of kilobytes, not megabytes.
	if end.bytes > base.bytes+64<<10 {
		t.Errorf("state after the deletes = %s, want within 64 KB of the start (%s)", end, base)
	}
}

// eventually polls cond until it holds or within passes.
func eventually(t *testing.T, what string, within time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, within)
		}
		time.Sleep(20 * time.Millisecond) // polling interval
	}
}
