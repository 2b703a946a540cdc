package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	aas "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	aastypes "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	cwltypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/spf13/cobra"

	"github.com/shipyard-ecs/shipyard/platform"
	"github.com/shipyard-ecs/shipyard/platform/provision"
	"github.com/shipyard-ecs/shipyard/platform/stack"
)

type destroyFlags struct {
	env string
	yes bool
	watchFlags
}

func (a *app) destroyCommand() *cobra.Command {
	var f destroyFlags
	cmd := &cobra.Command{
		Use:   "destroy",
		Short: "Delete the environment: the service, its task definitions, both stacks, and what they held",
		Long: `destroy deletes everything ship up and ship deploy made in an environment, in
order: the service's auto scaling and the service (forced to zero tasks, waited
until it is gone), its task definitions, the environment stack, the images in
the ECR repository and the objects in the artifact bucket (CloudFormation
cannot delete them while they hold anything), then the bootstrap stack; last,
any named resource a stack kept (a log group, the ledger table, the repository,
the bucket) is deleted too, so that nothing is left behind.

The deployment ledger, the environment's deployment history, goes with it:
ship history --output json keeps a copy.

destroy lists what it will delete and, on a terminal, asks for the
environment's name; --yes skips the question, and without a terminal it is
required (with nothing to delete, nothing is asked). An environment with loadBalancer.deletionProtection is refused:
turn it off in ship.yaml and run ship up first. For the local environment,
destroy does not start the local cloud: when it is not running there is
nothing to destroy.

--timeout bounds the whole of destroy (exit 5) and Ctrl-C stops it (exit
130); neither stops a deletion under way, which goes on: ship destroy again
waits for it and deletes the rest.`,
		Example: `  ship destroy                     # the local environment, asks first
  ship destroy --env staging --yes`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.destroy(cmd.Context(), f)
		},
	}
	a.envFlag(cmd, &f.env, localEnv)
	cmd.Flags().BoolVarP(&f.yes, "yes", "y", false, "destroy without asking (required without a terminal)")
	a.addWatchFlags(cmd, &f.watchFlags)
	cmd.Flags().Lookup("timeout").Usage = "stop after this long, exit 5 (a deletion under way goes on)"
	return cmd
}

// Kinds of named resources destroy looks for beyond the stacks.
const (
	kindLogGroup   = "log group"
	kindTable      = "table"
	kindRepository = "repository"
	kindBucket     = "bucket"
)

// namedResource is a resource of the environment known by its name.
type namedResource struct {
	Kind string `json:"kind"`
	Name string `json:"name"`
}

// stackRef is a stack that exists.
type stackRef struct {
	Name   string `json:"name"`
	Status string `json:"status"`
}

// estate is what an environment has in the cloud.
type estate struct {
	Stacks   []stackRef      `json:"stacks"` // the environment stack first
	Service  string          `json:"service,omitempty"`
	Running  int32           `json:"running"`
	TaskDefs []string        `json:"taskDefinitions"`
	Named    []namedResource `json:"resources"`
}

func (e estate) empty() bool {
	return len(e.Stacks) == 0 && e.Service == "" && len(e.TaskDefs) == 0 && len(e.Named) == 0
}

// destroyer holds the clients destroy uses.
type destroyer struct {
	a       *app
	spec    platform.Spec
	cf      *cloudformation.Client
	ecs     *ecs.Client
	scaling *aas.Client
	logs    *cloudwatchlogs.Client
	ddb     *dynamodb.Client
	ecr     *ecr.Client
	s3      *s3.Client
	prov    *provision.Provisioner
	poll    time.Duration
	p       *printer
	// step is what run does, for a message when --timeout or Ctrl-C
	// stops it.
	step step
}

func (a *app) destroy(ctx context.Context, f destroyFlags) (err error) {
	if err := f.check(); err != nil {
		return err
	}
	spec, err := a.loadSpec(f.env)
	if err != nil {
		return err
	}
	if spec.LoadBalancer.DeletionProtection {
		return usagef("environment %s has loadBalancer.deletionProtection, which keeps its load balancer, ledger, images and artifacts; "+
			"set it to false in %s, run ship up --env %s, then ship destroy again", spec.Env, a.manifestPath, spec.Env)
	}
	if spec.Env == localEnv && a.getenv("AWS_ENDPOINT_URL") == "" {
		if _, ok := a.localRunning(ctx); !ok {
			fmt.Fprintf(a.stdout, "the local cloud is not running: nothing to destroy (it keeps its state in %s; "+
				"ship local up and ship destroy delete the environment in it, or delete that directory)\n", a.localDir())
			return nil
		}
	}
	cfg, local, err := a.connect(ctx, spec)
	if err != nil {
		return err
	}
	// --timeout bounds all of destroy. It and Ctrl-C stop ship, never a
	// deletion ship started: stopped says what goes on and how to follow it.
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	d := &destroyer{step: step{doing: "looking at what environment " + spec.Env + " has", next: "nothing was deleted: run ship destroy again"},
		a: a, spec: spec,
		cf: cloudformation.NewFromConfig(cfg), ecs: ecs.NewFromConfig(cfg), scaling: aas.NewFromConfig(cfg),
		logs: cloudwatchlogs.NewFromConfig(cfg), ddb: dynamodb.NewFromConfig(cfg), ecr: ecr.NewFromConfig(cfg),
		s3:   s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = local != nil || spec.Env == localEnv }),
		poll: a.poll, p: newPrinter(a.stdout, f.output),
	}
	if d.poll <= 0 {
		d.poll = 2 * time.Second
		if local != nil {
			d.poll = max(100*time.Millisecond, time.Duration(float64(d.poll)*local.TimeScale))
		}
	}
	d.prov = &provision.Provisioner{CF: d.cf, Events: d.cf, Logger: a.logger.With("subsystem", "provision"), Poll: d.poll}
	defer func() { err = stopped(ctx, err, f.timeout, d.step) }()

	est, err := d.survey(ctx)
	if err != nil {
		return err
	}
	if est.empty() {
		d.p.event("destroyed", fmt.Sprintf("environment %s: nothing to destroy", spec.Env), map[string]any{"env": spec.Env, "nothing": true})
		return nil
	}
	d.show(est)
	// Asked after the survey: with nothing to destroy there is nothing to
	// confirm, and the list above says what --yes would delete.
	interactive := isTerminal(a.stdout) && a.stdin != nil && isTerminalReader(a.stdin)
	if !f.yes && !interactive {
		return usagef("ship destroy deletes environment %s and everything in it, its deployment history too; "+
			"without a terminal to confirm on, pass --yes", spec.Env)
	}
	if !f.yes {
		fmt.Fprintf(a.stdout, "type the environment's name (%s) to destroy it: ", spec.Env)
		line, _ := bufio.NewReader(a.stdin).ReadString('\n')
		if strings.TrimSpace(line) != spec.Env {
			return usagef("environment %s left as it was: the answer was not its name", spec.Env)
		}
	}
	start := time.Now()
	if err := d.run(ctx, est); err != nil {
		return err
	}
	d.p.event("destroyed", fmt.Sprintf("environment %s destroyed in %s; ship up creates it again", spec.Env, time.Since(start).Round(time.Second)),
		map[string]any{"env": spec.Env, "seconds": time.Since(start).Seconds()})
	return nil
}

// show lists what destroy will delete, and warns that the ledger goes.
func (d *destroyer) show(est estate) {
	p := d.p
	if p.json {
		p.writeJSON(map[string]any{"event": "plan", "at": p.now().UTC(), "env": d.spec.Env, "estate": est})
		return
	}
	w := d.a.stdout
	fmt.Fprintf(w, "ship destroy deletes environment %s (region %s) and everything in it:\n", d.spec.Env, d.spec.Region)
	if est.Service != "" {
		fmt.Fprintf(w, "  service %s (%s, %d running)\n", stack.ServiceName(d.spec), est.Service, est.Running)
	}
	if n := len(est.TaskDefs); n > 0 {
		fmt.Fprintf(w, "  %d task definition revision(s) of %s\n", n, d.spec.Prefix())
	}
	for _, s := range est.Stacks {
		fmt.Fprintf(w, "  stack %s (%s)\n", s.Name, s.Status)
	}
	ledger := false
	for _, r := range est.Named {
		what := ""
		switch r.Kind {
		case kindTable:
			what, ledger = ": the deployment ledger", true
		case kindRepository:
			what = " and its images"
		case kindBucket:
			what = " and its objects"
		}
		fmt.Fprintf(w, "  %s %s%s\n", r.Kind, r.Name, what)
	}
	if ledger {
		fmt.Fprintf(w, "the deployment ledger, the environment's deployment history, goes too; ship history --env %s --output json -n 0 keeps a copy\n", d.spec.Env)
	}
}

// survey finds what the environment has: its stacks, the service, the
// task definitions, and the named resources the stacks hold or once held.
func (d *destroyer) survey(ctx context.Context) (estate, error) {
	var est estate
	names := map[namedResource]bool{}
	for _, name := range []string{stack.EnvironmentName(d.spec), stack.BootstrapName(d.spec)} {
		out, err := d.cf.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(name)})
		if err != nil && !strings.Contains(err.Error(), "does not exist") {
			return est, fmt.Errorf("describe stack %s: %w", name, err)
		}
		if err != nil || len(out.Stacks) == 0 || out.Stacks[0].StackStatus == "DELETE_COMPLETE" {
			continue
		}
		est.Stacks = append(est.Stacks, stackRef{Name: name, Status: string(out.Stacks[0].StackStatus)})
		pages := cloudformation.NewListStackResourcesPaginator(d.cf, &cloudformation.ListStackResourcesInput{StackName: aws.String(name)})
		for pages.HasMorePages() {
			page, err := pages.NextPage(ctx)
			if err != nil {
				return est, fmt.Errorf("list the resources of stack %s: %w", name, err)
			}
			for _, r := range page.StackResourceSummaries {
				if k := kindOf(aws.ToString(r.ResourceType)); k != "" && aws.ToString(r.PhysicalResourceId) != "" {
					names[namedResource{k, aws.ToString(r.PhysicalResourceId)}] = true
				}
			}
		}
	}
	// The names the templates give, for what a stack kept or a failed
	// destroy left behind.
	rendered, err := d.renderedNames()
	if err != nil {
		return est, err
	}
	for _, r := range rendered {
		names[r] = true
	}
	for _, r := range slices.SortedFunc(func(yield func(namedResource) bool) {
		for r := range names {
			if !yield(r) {
				return
			}
		}
	}, func(a, b namedResource) int { return strings.Compare(a.Kind+" "+a.Name, b.Kind+" "+b.Name) }) {
		ok, err := d.exists(ctx, r)
		if err != nil {
			return est, err
		}
		if ok {
			est.Named = append(est.Named, r)
		}
	}

	cluster, svc := stack.ClusterName(d.spec), stack.ServiceName(d.spec)
	out, err := d.ecs.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(cluster), Services: []string{svc}})
	var cnf *ecstypes.ClusterNotFoundException
	switch {
	case errors.As(err, &cnf):
	case err != nil:
		return est, fmt.Errorf("describe service %s: %w", svc, err)
	default:
		for _, s := range out.Services {
			if st := aws.ToString(s.Status); st != "INACTIVE" {
				est.Service, est.Running = st, s.RunningCount
			}
		}
	}
	tds := ecs.NewListTaskDefinitionsPaginator(d.ecs, &ecs.ListTaskDefinitionsInput{FamilyPrefix: aws.String(d.spec.Prefix()), Status: ecstypes.TaskDefinitionStatusActive})
	for tds.HasMorePages() {
		page, err := tds.NextPage(ctx)
		if err != nil {
			return est, fmt.Errorf("list the task definitions of %s: %w", d.spec.Prefix(), err)
		}
		for _, arn := range page.TaskDefinitionArns {
			if strings.HasPrefix(family(arn), d.spec.Prefix()+":") {
				est.TaskDefs = append(est.TaskDefs, arn)
			}
		}
	}
	return est, nil
}

// kindOf is the kind of a CloudFormation resource type destroy checks
// after the stacks are gone.
func kindOf(resourceType string) string {
	switch resourceType {
	case "AWS::Logs::LogGroup":
		return kindLogGroup
	case "AWS::DynamoDB::Table":
		return kindTable
	case "AWS::ECR::Repository":
		return kindRepository
	case "AWS::S3::Bucket":
		return kindBucket
	}
	return ""
}

// renderedNames are the names the rendered templates give their log
// groups, tables, repositories and buckets.
func (d *destroyer) renderedNames() ([]namedResource, error) {
	boot, err := stack.Bootstrap(d.spec)
	if err != nil {
		return nil, err
	}
	env, err := stack.Environment(d.spec, stack.Inputs{})
	if err != nil {
		return nil, err
	}
	var out []namedResource
	for _, s := range []*stack.Stack{env, boot} {
		body, err := s.JSON()
		if err != nil {
			return nil, err
		}
		var t struct {
			Resources map[string]struct {
				Type       string
				Properties map[string]any
			}
		}
		if err := json.Unmarshal(body, &t); err != nil {
			return nil, fmt.Errorf("read the template of %s: %w", s.Name, err)
		}
		for _, r := range t.Resources {
			k := kindOf(r.Type)
			for _, prop := range []string{"LogGroupName", "TableName", "RepositoryName", "BucketName"} {
				if name, ok := r.Properties[prop].(string); ok && k != "" && name != "" {
					out = append(out, namedResource{k, name})
				}
			}
		}
	}
	return out, nil
}

// exists reports whether a named resource exists.
func (d *destroyer) exists(ctx context.Context, r namedResource) (bool, error) {
	var err error
	switch r.Kind {
	case kindLogGroup:
		var out *cloudwatchlogs.DescribeLogGroupsOutput
		out, err = d.logs.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String(r.Name)})
		if err == nil {
			return slices.ContainsFunc(out.LogGroups, func(g cwltypes.LogGroup) bool { return aws.ToString(g.LogGroupName) == r.Name }), nil
		}
	case kindTable:
		_, err = d.ddb.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(r.Name)})
		var nf *ddbtypes.ResourceNotFoundException
		if errors.As(err, &nf) {
			return false, nil
		}
	case kindRepository:
		_, err = d.ecr.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{RepositoryNames: []string{r.Name}})
		var nf *ecrtypes.RepositoryNotFoundException
		if errors.As(err, &nf) {
			return false, nil
		}
	case kindBucket:
		_, err = d.s3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(r.Name)})
		var nf *s3types.NotFound
		var nb *s3types.NoSuchBucket
		if errors.As(err, &nf) || errors.As(err, &nb) {
			return false, nil
		}
	}
	if err != nil {
		return false, fmt.Errorf("look for %s %s: %w", r.Kind, r.Name, err)
	}
	return true, nil
}

// run deletes what survey found, in dependency order.
func (d *destroyer) run(ctx context.Context, est estate) error {
	if est.Service != "" {
		if err := d.deleteService(ctx); err != nil {
			return err
		}
	}
	d.at("deregistering the task definitions")
	if err := d.deregister(ctx, est.TaskDefs); err != nil {
		return err
	}
	stackEvent := func(name string) func(provision.Event) {
		return func(e provision.Event) {
			d.p.event("stackEvent", fmt.Sprintf("%s: %s", name, e), map[string]any{"stack": name, "logicalId": e.LogicalID, "status": e.Status, "reason": e.Reason})
		}
	}
	for _, s := range est.Stacks {
		if s.Name == stack.BootstrapName(d.spec) {
			// What CloudFormation cannot delete while it holds anything.
			d.at("emptying the repository and the bucket")
			for _, r := range est.Named {
				if err := d.emptyOut(ctx, r); err != nil {
					return err
				}
			}
		}
		d.p.event("stack", fmt.Sprintf("stack %s: deleting", s.Name), map[string]any{"stack": s.Name})
		d.step = step{doing: fmt.Sprintf("stack %s was being deleted", s.Name),
			next: fmt.Sprintf("CloudFormation goes on deleting it (ship stops nothing there): follow the stack's events with aws cloudformation describe-stack-events --stack-name %s, "+
				"and run ship destroy again, which waits for it and deletes the rest", s.Name)}
		if _, err := d.prov.Delete(ctx, s.Name, stackEvent(s.Name)); err != nil {
			return err
		}
	}
	// What the stacks kept (DeletionPolicy Retain), or what outlived them.
	d.at("deleting what the stacks kept")
	for _, r := range est.Named {
		ok, err := d.exists(ctx, r)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		if err := d.deleteNamed(ctx, r); err != nil {
			return err
		}
		d.p.event("deleted", fmt.Sprintf("%s %s: deleted (the stack had kept it)", r.Kind, r.Name), map[string]any{"kind": r.Kind, "name": r.Name})
	}
	return nil
}

// deleteService removes the service's auto scaling, so that nothing scales
// it up again, then deletes it with its tasks and waits until it is gone.
func (d *destroyer) deleteService(ctx context.Context) error {
	cluster, svc := stack.ClusterName(d.spec), stack.ServiceName(d.spec)
	d.at("removing the auto scaling of service " + svc)
	_, err := d.scaling.DeregisterScalableTarget(ctx, &aas.DeregisterScalableTargetInput{
		ServiceNamespace: aastypes.ServiceNamespaceEcs, ScalableDimension: aastypes.ScalableDimensionECSServiceDesiredCount,
		ResourceId: aws.String("service/" + cluster + "/" + svc),
	})
	var nf *aastypes.ObjectNotFoundException
	if err != nil && !errors.As(err, &nf) {
		return fmt.Errorf("remove the auto scaling of service %s: %w", svc, err)
	}
	// Force: scale to zero and delete in one call, whatever runs.
	d.step = step{doing: fmt.Sprintf("service %s was being deleted", svc),
		next: "ECS goes on deleting it (ship stops nothing there): run ship destroy again, which waits for it and deletes the rest"}
	if _, err := d.ecs.DeleteService(ctx, &ecs.DeleteServiceInput{Cluster: aws.String(cluster), Service: aws.String(svc), Force: aws.Bool(true)}); err != nil {
		// Gone, or already draining from an earlier destroy: wait for it.
		var snf *ecstypes.ServiceNotFoundException
		var sna *ecstypes.ServiceNotActiveException
		if !errors.As(err, &snf) && !errors.As(err, &sna) {
			return fmt.Errorf("delete service %s: %w", svc, err)
		}
	}
	last := ""
	for {
		out, err := d.ecs.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(cluster), Services: []string{svc}})
		if err != nil {
			return fmt.Errorf("describe service %s: %w", svc, err)
		}
		status, running := "INACTIVE", int32(0)
		for _, s := range out.Services {
			status, running = aws.ToString(s.Status), s.RunningCount
		}
		if line := fmt.Sprintf("service %s: %s, %d running", svc, status, running); line != last {
			d.p.event("service", line, map[string]any{"service": svc, "status": status, "running": running})
			last = line
		}
		if status == "INACTIVE" {
			return nil
		}
		if err := d.sleep(ctx); err != nil {
			return fmt.Errorf("wait for service %s to be deleted: %w", svc, err)
		}
	}
}

// at says run is doing something that nothing in AWS goes on with when
// ship stops.
func (d *destroyer) at(doing string) {
	d.step = step{doing: doing, next: "nothing of it goes on in AWS: run ship destroy again to finish"}
}

func (d *destroyer) sleep(ctx context.Context) error {
	t := time.NewTimer(d.poll)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// deregister deregisters the app's task definitions, then asks ECS to
// delete them (DeleteTaskDefinitions); where that call does not exist, they
// stay INACTIVE, which is all deregistering can do.
func (d *destroyer) deregister(ctx context.Context, arns []string) error {
	for _, arn := range arns {
		if _, err := d.ecs.DeregisterTaskDefinition(ctx, &ecs.DeregisterTaskDefinitionInput{TaskDefinition: aws.String(arn)}); err != nil {
			return fmt.Errorf("deregister task definition %s: %w", family(arn), err)
		}
	}
	if len(arns) == 0 {
		return nil
	}
	deleted := true
	for batch := range slices.Chunk(arns, 10) {
		if _, err := d.ecs.DeleteTaskDefinitions(ctx, &ecs.DeleteTaskDefinitionsInput{TaskDefinitions: batch}); err != nil {
			d.a.logger.Debug("delete task definitions; they stay INACTIVE", "err", err)
			deleted = false
			break
		}
	}
	verb := "deregistered and deleted"
	if !deleted {
		verb = "deregistered (INACTIVE)"
	}
	d.p.event("taskDefinitions", fmt.Sprintf("%d task definition revision(s) of %s %s", len(arns), d.spec.Prefix(), verb), map[string]any{"count": len(arns), "deleted": deleted})
	return nil
}

// emptyOut deletes what a repository or a bucket holds.
func (d *destroyer) emptyOut(ctx context.Context, r namedResource) error {
	switch r.Kind {
	case kindRepository:
		n := 0
		pages := ecr.NewListImagesPaginator(d.ecr, &ecr.ListImagesInput{RepositoryName: aws.String(r.Name)})
		for pages.HasMorePages() {
			page, err := pages.NextPage(ctx)
			var nf *ecrtypes.RepositoryNotFoundException
			if errors.As(err, &nf) {
				return nil
			}
			if err != nil {
				return fmt.Errorf("list the images of repository %s: %w", r.Name, err)
			}
			for batch := range slices.Chunk(page.ImageIds, 100) {
				out, err := d.ecr.BatchDeleteImage(ctx, &ecr.BatchDeleteImageInput{RepositoryName: aws.String(r.Name), ImageIds: batch})
				if err != nil {
					return fmt.Errorf("delete the images of repository %s: %w", r.Name, err)
				}
				n += len(out.ImageIds)
			}
		}
		if n > 0 {
			d.p.event("emptied", fmt.Sprintf("repository %s: %d image(s) deleted", r.Name, n), map[string]any{"kind": r.Kind, "name": r.Name, "count": n})
		}
	case kindBucket:
		n, err := d.emptyBucket(ctx, r.Name)
		if err != nil {
			return err
		}
		if n > 0 {
			d.p.event("emptied", fmt.Sprintf("bucket %s: %d object(s) deleted", r.Name, n), map[string]any{"kind": r.Kind, "name": r.Name, "count": n})
		}
	}
	return nil
}

// emptyBucket deletes every object of a bucket, then, the bucket being
// versioned, every version and delete marker. A store that keeps no
// versions answers ListObjectVersions with NotImplemented: nothing more to
// delete there.
func (d *destroyer) emptyBucket(ctx context.Context, bucket string) (int, error) {
	n := 0
	del := func(ids []s3types.ObjectIdentifier) error {
		for batch := range slices.Chunk(ids, 1000) {
			out, err := d.s3.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String(bucket), Delete: &s3types.Delete{Objects: batch, Quiet: aws.Bool(true)}})
			if err != nil {
				return fmt.Errorf("empty bucket %s: %w", bucket, err)
			}
			if len(out.Errors) > 0 {
				e := out.Errors[0]
				return fmt.Errorf("empty bucket %s: delete %s: %s", bucket, aws.ToString(e.Key), aws.ToString(e.Message))
			}
			n += len(batch)
		}
		return nil
	}
	objects := s3.NewListObjectsV2Paginator(d.s3, &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
	for objects.HasMorePages() {
		page, err := objects.NextPage(ctx)
		if err != nil {
			return n, fmt.Errorf("list the objects of bucket %s: %w", bucket, err)
		}
		var ids []s3types.ObjectIdentifier
		for _, o := range page.Contents {
			ids = append(ids, s3types.ObjectIdentifier{Key: o.Key})
		}
		if err := del(ids); err != nil {
			return n, err
		}
	}
	versions := s3.NewListObjectVersionsPaginator(d.s3, &s3.ListObjectVersionsInput{Bucket: aws.String(bucket)})
	for versions.HasMorePages() {
		page, err := versions.NextPage(ctx)
		if apiCode(err) == "NotImplemented" {
			d.a.logger.Debug("the object store keeps no versions", "bucket", bucket)
			break
		}
		if err != nil {
			return n, fmt.Errorf("list the object versions of bucket %s: %w", bucket, err)
		}
		var ids []s3types.ObjectIdentifier
		for _, v := range page.Versions {
			ids = append(ids, s3types.ObjectIdentifier{Key: v.Key, VersionId: v.VersionId})
		}
		for _, m := range page.DeleteMarkers {
			ids = append(ids, s3types.ObjectIdentifier{Key: m.Key, VersionId: m.VersionId})
		}
		if err := del(ids); err != nil {
			return n, err
		}
	}
	return n, nil
}

// deleteNamed deletes a named resource a stack left.
func (d *destroyer) deleteNamed(ctx context.Context, r namedResource) error {
	var err error
	switch r.Kind {
	case kindLogGroup:
		_, err = d.logs.DeleteLogGroup(ctx, &cloudwatchlogs.DeleteLogGroupInput{LogGroupName: aws.String(r.Name)})
	case kindTable:
		_, err = d.ddb.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(r.Name)})
	case kindRepository:
		_, err = d.ecr.DeleteRepository(ctx, &ecr.DeleteRepositoryInput{RepositoryName: aws.String(r.Name), Force: true})
	case kindBucket:
		if _, err = d.emptyBucket(ctx, r.Name); err == nil {
			_, err = d.s3.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(r.Name)})
		}
	}
	if err != nil {
		return fmt.Errorf("delete %s %s: %w", r.Kind, r.Name, err)
	}
	return nil
}

// apiCode is an AWS error's code, "" for none.
func apiCode(err error) string {
	var c interface{ ErrorCode() string }
	if errors.As(err, &c) {
		return c.ErrorCode()
	}
	return ""
}
