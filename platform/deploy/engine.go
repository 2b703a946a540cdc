package deploy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/shipyard-ecs/shipyard/platform/ledger"
)

// Service names the ECS service and the resources a watch reads, all from
// the environment stack's outputs.
type Service struct {
	Cluster, Name string
	// ProductionRule and TestRule are the listener rule ARNs ECS shifts
	// (TestRule is empty without a test listener).
	ProductionRule, TestRule string
	// BlueTargetGroup and GreenTargetGroup are the two target group ARNs.
	BlueTargetGroup, GreenTargetGroup string
	// Alarms are the deployment alarms' names.
	Alarms []string
}

// deployments is the part of the ECS client that starts and stops
// deployments.
type deployments interface {
	RegisterTaskDefinition(ctx context.Context, in *ecs.RegisterTaskDefinitionInput, optFns ...func(*ecs.Options)) (*ecs.RegisterTaskDefinitionOutput, error)
	UpdateService(ctx context.Context, in *ecs.UpdateServiceInput, optFns ...func(*ecs.Options)) (*ecs.UpdateServiceOutput, error)
	StopServiceDeployment(ctx context.Context, in *ecs.StopServiceDeploymentInput, optFns ...func(*ecs.Options)) (*ecs.StopServiceDeploymentOutput, error)
}

// deploymentReader is the part of the ECS client that reads deployments.
type deploymentReader interface {
	ListServiceDeployments(ctx context.Context, in *ecs.ListServiceDeploymentsInput, optFns ...func(*ecs.Options)) (*ecs.ListServiceDeploymentsOutput, error)
	DescribeServiceDeployments(ctx context.Context, in *ecs.DescribeServiceDeploymentsInput, optFns ...func(*ecs.Options)) (*ecs.DescribeServiceDeploymentsOutput, error)
	DescribeServiceRevisions(ctx context.Context, in *ecs.DescribeServiceRevisionsInput, optFns ...func(*ecs.Options)) (*ecs.DescribeServiceRevisionsOutput, error)
	DescribeServices(ctx context.Context, in *ecs.DescribeServicesInput, optFns ...func(*ecs.Options)) (*ecs.DescribeServicesOutput, error)
}

// Engine runs deployments of one service. Its fields are the SDK clients
// (an *ecs.Client serves ECS, Deployments and Tasks alike).
type Engine struct {
	Service Service
	ECS     deployments
	Reader  deploymentReader
	Tasks   tasks
	ELB     loadBalancer
	Alarms  alarms
	Logs    logs
	// Ledger records deployment requests and outcomes; nil skips it.
	Ledger recorder
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Poll is the time between two looks at a deployment.
	Poll time.Duration
	// TimeScale is the wall-clock time one unit of the deployment
	// configuration's time takes: 0 or 1 on AWS; the command layer sets
	// another for a cloud it knows runs time faster, so that the bake
	// countdown shows the time really left.
	TimeScale float64

	// bakeStart is when a watch first saw bakeArn in BAKE_TIME: an Engine
	// watches one deployment at a time.
	bakeStart time.Time
	bakeArn   string
}

func (e *Engine) now() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

func (e *Engine) log() *slog.Logger {
	if e.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return e.Logger
}

// InFlightStatuses are the statuses of a deployment that has not ended.
var InFlightStatuses = []types.ServiceDeploymentStatus{
	types.ServiceDeploymentStatusPending,
	types.ServiceDeploymentStatusInProgress,
	types.ServiceDeploymentStatusStopRequested,
	types.ServiceDeploymentStatusRollbackRequested,
	types.ServiceDeploymentStatusRollbackInProgress,
}

// ErrServiceNotFound means the service does not exist yet.
var ErrServiceNotFound = errors.New("service not found")

// InFlightError refuses a deployment while another one runs.
type InFlightError struct {
	Arn, Status string
}

func (e *InFlightError) Error() string {
	return fmt.Sprintf("refuse to deploy: deployment %s is %s; watch it with ship status --watch, or roll it back with ship rollback", e.Arn, e.Status)
}

// InFlight returns the deployment of the service that has not ended, or
// nil.
func (e *Engine) InFlight(ctx context.Context) (*types.ServiceDeploymentBrief, error) {
	out, err := e.Reader.ListServiceDeployments(ctx, &ecs.ListServiceDeploymentsInput{
		Cluster: aws.String(e.Service.Cluster), Service: aws.String(e.Service.Name), Status: InFlightStatuses,
	})
	if err != nil {
		return nil, e.wrapNotFound(fmt.Errorf("list in-flight deployments of %s: %w", e.Service.Name, err), err)
	}
	if len(out.ServiceDeployments) == 0 {
		return nil, nil
	}
	d := newest(out.ServiceDeployments)
	return &d, nil
}

func (e *Engine) wrapNotFound(wrapped, err error) error {
	var nf *types.ServiceNotFoundException
	var cnf *types.ClusterNotFoundException
	if errors.As(err, &nf) || errors.As(err, &cnf) {
		return fmt.Errorf("%w: %w", ErrServiceNotFound, wrapped)
	}
	return wrapped
}

func newest(ds []types.ServiceDeploymentBrief) types.ServiceDeploymentBrief {
	return slices.MaxFunc(ds, func(a, b types.ServiceDeploymentBrief) int {
		return aws.ToTime(a.CreatedAt).Compare(aws.ToTime(b.CreatedAt))
	})
}

// Register registers a task definition and returns its ARN.
func (e *Engine) Register(ctx context.Context, in *ecs.RegisterTaskDefinitionInput) (string, error) {
	out, err := e.ECS.RegisterTaskDefinition(ctx, in)
	if err != nil {
		return "", fmt.Errorf("register task definition %s: %w", aws.ToString(in.Family), err)
	}
	arn := aws.ToString(out.TaskDefinition.TaskDefinitionArn)
	e.log().Info("registered task definition", "arn", arn)
	return arn, nil
}

// Started is a deployment the engine started.
type Started struct {
	Arn            string
	CreatedAt      time.Time
	TaskDefinition string
	// Previous is the task definition the service ran before.
	Previous string
}

// Start deploys taskDefinition: it refuses while a deployment is in
// flight, updates the service with the task definition only, and finds the
// service deployment the update started.
func (e *Engine) Start(ctx context.Context, taskDefinition string) (Started, error) {
	if d, err := e.InFlight(ctx); err != nil {
		return Started{}, err
	} else if d != nil {
		return Started{}, &InFlightError{Arn: aws.ToString(d.ServiceDeploymentArn), Status: string(d.Status)}
	}
	svc, err := e.describeService(ctx)
	if err != nil {
		return Started{}, err
	}
	previous := aws.ToString(svc.TaskDefinition)
	if previous == taskDefinition {
		return Started{}, fmt.Errorf("deploy %s: the service already runs it; change the code, the image or --env-var to deploy something new", taskDefinition)
	}
	before, err := e.deploymentArns(ctx)
	if err != nil {
		return Started{}, err
	}
	// The task definition only: ECS owns the load balancers and the
	// deployment configuration, auto scaling the desired count.
	if _, err := e.ECS.UpdateService(ctx, &ecs.UpdateServiceInput{
		Cluster:        aws.String(e.Service.Cluster),
		Service:        aws.String(e.Service.Name),
		TaskDefinition: aws.String(taskDefinition),
	}); err != nil {
		return Started{}, fmt.Errorf("update service %s: %w", e.Service.Name, err)
	}
	// The deployment exists now, whatever happens to ctx: an interrupt
	// (Ctrl-C) from here on stops the watch, never the finding, so the
	// caller can still say which deployment goes on without it.
	d, err := e.findNew(context.WithoutCancel(ctx), before)
	if err != nil {
		return Started{}, err
	}
	e.log().Info("deployment started", "arn", aws.ToString(d.ServiceDeploymentArn), "taskDefinition", taskDefinition)
	return Started{Arn: aws.ToString(d.ServiceDeploymentArn), CreatedAt: aws.ToTime(d.CreatedAt), TaskDefinition: taskDefinition, Previous: previous}, nil
}

func (e *Engine) describeService(ctx context.Context) (types.Service, error) {
	out, err := e.Reader.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(e.Service.Cluster), Services: []string{e.Service.Name}})
	if err != nil {
		return types.Service{}, e.wrapNotFound(fmt.Errorf("describe service %s: %w", e.Service.Name, err), err)
	}
	for _, s := range out.Services {
		if aws.ToString(s.Status) != "INACTIVE" {
			return s, nil
		}
	}
	return types.Service{}, fmt.Errorf("%w: describe service %s in cluster %s: it does not exist; run ship up to create it", ErrServiceNotFound, e.Service.Name, e.Service.Cluster)
}

// deploymentArns lists the service's deployments, any status.
func (e *Engine) deploymentArns(ctx context.Context) (map[string]bool, error) {
	seen := map[string]bool{}
	in := &ecs.ListServiceDeploymentsInput{Cluster: aws.String(e.Service.Cluster), Service: aws.String(e.Service.Name), MaxResults: aws.Int32(100)}
	for {
		out, err := e.Reader.ListServiceDeployments(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("list deployments of %s: %w", e.Service.Name, err)
		}
		for _, d := range out.ServiceDeployments {
			seen[aws.ToString(d.ServiceDeploymentArn)] = true
		}
		if out.NextToken == nil {
			return seen, nil
		}
		in.NextToken = out.NextToken
	}
}

// findNew waits for the deployment UpdateService started, which the
// update's answer does not name: the one not listed before it.
func (e *Engine) findNew(ctx context.Context, before map[string]bool) (types.ServiceDeploymentBrief, error) {
	deadline := e.now().Add(time.Minute)
	for {
		out, err := e.Reader.ListServiceDeployments(ctx, &ecs.ListServiceDeploymentsInput{
			Cluster: aws.String(e.Service.Cluster), Service: aws.String(e.Service.Name), MaxResults: aws.Int32(20),
		})
		if err != nil {
			return types.ServiceDeploymentBrief{}, fmt.Errorf("find the new deployment of %s: %w", e.Service.Name, err)
		}
		var fresh []types.ServiceDeploymentBrief
		for _, d := range out.ServiceDeployments {
			if !before[aws.ToString(d.ServiceDeploymentArn)] {
				fresh = append(fresh, d)
			}
		}
		if len(fresh) > 0 {
			return newest(fresh), nil
		}
		if e.now().After(deadline) {
			return types.ServiceDeploymentBrief{}, fmt.Errorf("find the new deployment of %s: none appeared within a minute of UpdateService; check ship status", e.Service.Name)
		}
		if err := e.sleep(ctx, e.poll()); err != nil {
			return types.ServiceDeploymentBrief{}, err
		}
	}
}

func (e *Engine) poll() time.Duration {
	if e.Poll <= 0 {
		return 5 * time.Second
	}
	return e.Poll
}

func (e *Engine) sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Stop asks ECS to roll the deployment back (StopServiceDeployment with
// ROLLBACK).
func (e *Engine) Stop(ctx context.Context, arn string) error {
	if _, err := e.ECS.StopServiceDeployment(ctx, &ecs.StopServiceDeploymentInput{
		ServiceDeploymentArn: aws.String(arn), StopType: types.StopServiceDeploymentStopTypeRollback,
	}); err != nil {
		return fmt.Errorf("roll back deployment %s: %w", arn, err)
	}
	return nil
}

// Revision is a service revision and the task definition it runs.
type Revision struct {
	Arn, TaskDefinition string
}

// LastGood is the task definition to roll back to after a finished
// deployment: the target of the newest successful deployment that does not
// run the service's current task definition and that the ledger does not
// mark as a drill (a drill nothing caught succeeds with its fault).
func (e *Engine) LastGood(ctx context.Context) (current string, good Revision, err error) {
	svc, err := e.describeService(ctx)
	if err != nil {
		return "", Revision{}, err
	}
	current = aws.ToString(svc.TaskDefinition)
	in := &ecs.ListServiceDeploymentsInput{Cluster: aws.String(e.Service.Cluster), Service: aws.String(e.Service.Name),
		Status: []types.ServiceDeploymentStatus{types.ServiceDeploymentStatusSuccessful}, MaxResults: aws.Int32(100)}
	var all []types.ServiceDeploymentBrief
	for {
		out, err := e.Reader.ListServiceDeployments(ctx, in)
		if err != nil {
			return current, Revision{}, fmt.Errorf("list successful deployments of %s: %w", e.Service.Name, err)
		}
		all = append(all, out.ServiceDeployments...)
		if out.NextToken == nil {
			break
		}
		in.NextToken = out.NextToken
	}
	slices.SortFunc(all, func(a, b types.ServiceDeploymentBrief) int {
		return aws.ToTime(b.CreatedAt).Compare(aws.ToTime(a.CreatedAt))
	})
	for _, d := range all {
		if e.drill(ctx, d) {
			continue
		}
		rev, err := e.revision(ctx, aws.ToString(d.TargetServiceRevisionArn))
		if err != nil {
			return current, Revision{}, err
		}
		if rev.TaskDefinition != current {
			return current, rev, nil
		}
	}
	return current, Revision{}, fmt.Errorf("find the last good revision of %s: no successful deployment ran anything but %s; name one with --to", e.Service.Name, current)
}

// drill reports whether the ledger marks a deployment as a drill's; without
// a ledger or a record, it is not.
func (e *Engine) drill(ctx context.Context, d types.ServiceDeploymentBrief) bool {
	if e.Ledger == nil {
		return false
	}
	rec, err := e.Ledger.Get(ctx, ledger.Key{Cluster: e.Service.Cluster, Service: e.Service.Name,
		Arn: aws.ToString(d.ServiceDeploymentArn), CreatedAt: aws.ToTime(d.CreatedAt)})
	if err != nil {
		e.log().Debug("read a deployment's record from the ledger", "arn", aws.ToString(d.ServiceDeploymentArn), "err", err)
		return false
	}
	return rec.Initiator.Drill != ""
}

func (e *Engine) revision(ctx context.Context, arn string) (Revision, error) {
	out, err := e.Reader.DescribeServiceRevisions(ctx, &ecs.DescribeServiceRevisionsInput{ServiceRevisionArns: []string{arn}})
	if err != nil {
		return Revision{}, fmt.Errorf("describe service revision %s: %w", arn, err)
	}
	if len(out.ServiceRevisions) == 0 {
		return Revision{}, fmt.Errorf("describe service revision %s: not found", arn)
	}
	return Revision{Arn: arn, TaskDefinition: aws.ToString(out.ServiceRevisions[0].TaskDefinition)}, nil
}

// family is the family:revision of a task definition ARN.
func family(arn string) string {
	return arn[strings.LastIndex(arn, "/")+1:]
}
