package main

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/spf13/cobra"

	"github.com/shipyard-ecs/shipyard/platform"
	"github.com/shipyard-ecs/shipyard/platform/deploy"
	"github.com/shipyard-ecs/shipyard/platform/ledger"
	"github.com/shipyard-ecs/shipyard/platform/stack"
)

// The faults a drill injects, as the app's APP_FAULT names them.
const (
	faultHealth  = "health"
	faultErrors  = "errors"
	faultLatency = "latency"
	faultCrash   = "crash"
)

var drillFaults = []string{faultHealth, faultErrors, faultLatency, faultCrash}

const (
	defaultDrillErrorRate = 0.5
	// maxFaultLatency is the app's bound on injected latency
	// (services/app/internal/fault.MaxLatency).
	maxFaultLatency = 10 * time.Second
	// drillSettle bounds the wait, once the deployment ended, for
	// production to answer from the good revision again.
	drillSettle = 30 * time.Second
)

type drillFlags struct {
	env, fault, url string
	rate            float64
	latency         time.Duration
	rps             int
	// rateSet and latencySet say whether --rate and --latency were given.
	rateSet, latencySet bool
	watchFlags
}

func (a *app) drillCommand() *cobra.Command {
	var f drillFlags
	cmd := &cobra.Command{
		Use:   "drill",
		Short: "Deploy the running revision with a fault injected, and check that the rollback machinery catches it",
		Long: `drill deploys the revision that runs now — the same image digest and the same
environment variables — with APP_FAULT set, as a blue/green deployment, and
checks that the rollback machinery catches it and production ends up on the
revision that ran before:

  health   /health fails: ECS and the load balancer's health checks (or the
           smoke-test hook) must keep the revision from production traffic
  errors   a share of requests (--rate, default 0.5) answer 500: the target
           5XX alarm must roll the deployment back during the bake
  latency  every request but /health waits (--latency, default twice the
           latency alarm's threshold, at most 10s): the latency alarm must
           roll it back
  crash    the app exits at start: the deployment circuit breaker must roll
           it back

While the drill runs, ship sends light, bounded traffic (--rps, default 5 a
second) to the service's URL — the one ship deploy prints — so the alarms
have requests to judge, and records which revision answered each one. It
reports what caught the fault (an alarm and whether ECS or deploywatch
enforced it, the smoke-test hook, the health checks), how long the rollback
took to start and production to be back on the good revision, and how many
of its requests the faulty revision answered.

Ctrl-C stops watching, never the deployment: ship status --watch follows it,
ship rollback rolls it back. While another deployment is in flight, drill
refuses and changes nothing.

Exit codes: 0 the fault was caught and production is back on the good
revision (for health and crash: the faulty revision never answered a
request); 1 it was not (the deployment succeeded, the faulty revision
answered where it must not, or production still answers from it) or the
drill could not run; 2 usage or configuration error; 5 timed out watching;
7 refused, another deployment is in flight; 130 interrupted watching.`,
		Example: `  ship drill --fault health                     # the local environment
  ship drill --fault errors --rate 0.2 --rps 20
  ship drill --env production --fault latency --latency 3s
  ship drill --fault errors --output json | jq 'select(.event == "drill")'
  make drill FAULT=errors`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			f.rateSet, f.latencySet = cmd.Flags().Changed("rate"), cmd.Flags().Changed("latency")
			return a.drill(cmd.Context(), f)
		},
	}
	a.envFlag(cmd, &f.env, localEnv)
	cmd.Flags().StringVar(&f.fault, "fault", "", "the fault to inject: "+strings.Join(drillFaults, ", "))
	cmd.Flags().Float64Var(&f.rate, "rate", defaultDrillErrorRate, "with --fault errors, the `share` of requests answered with 500, above 0 and at most 1")
	cmd.Flags().DurationVar(&f.latency, "latency", 0, "with --fault latency, the `duration` added to each request, at most 10s (default twice alarms.latencyThresholdMs)")
	cmd.Flags().IntVar(&f.rps, "rps", defaultDrillRPS, "requests a second the drill sends through the load balancer, 1 to "+strconv.Itoa(maxDrillRPS))
	cmd.Flags().StringVar(&f.url, "url", "", "send the drill's traffic to this `URL` (default: the service URL ship deploy prints)")
	a.addWatchFlags(cmd, &f.watchFlags)
	_ = cmd.RegisterFlagCompletionFunc("fault", cobra.FixedCompletions(drillFaults, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// check validates the flags on their own, before anything is read or
// changed.
func (f drillFlags) check() error {
	if err := f.watchFlags.check(); err != nil {
		return err
	}
	switch {
	case f.fault == "":
		return usagef("--fault is required: one of %s", strings.Join(drillFaults, ", "))
	case !slices.Contains(drillFaults, f.fault):
		return usagef("--fault %q: want one of %s", f.fault, strings.Join(drillFaults, ", "))
	case f.rateSet && f.fault != faultErrors:
		return usagef("--rate applies to --fault errors only")
	case f.latencySet && f.fault != faultLatency:
		return usagef("--latency applies to --fault latency only")
	case math.IsNaN(f.rate) || f.rate <= 0 || f.rate > 1:
		return usagef("--rate %v: want a share above 0 and at most 1, such as 0.5", f.rate)
	case f.latencySet && (f.latency <= 0 || f.latency > maxFaultLatency):
		return usagef("--latency %s: want a duration above 0 and at most %s, such as 2s", f.latency, maxFaultLatency)
	case f.rps < 1 || f.rps > maxDrillRPS:
		return usagef("--rps %d: want 1 to %d requests a second; a drill's traffic stays light", f.rps, maxDrillRPS)
	}
	if f.url != "" {
		u, err := url.Parse(f.url)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return usagef("--url %q: want an absolute http or https URL, such as http://127.0.0.1:8080/", f.url)
		}
	}
	return nil
}

// appFault is the APP_FAULT value of the drill. The latency it injects
// defaults to twice the latency alarm's threshold, which the alarm must
// see.
func (f drillFlags) appFault(spec platform.Spec) (string, error) {
	switch f.fault {
	case faultErrors:
		return faultErrors + "=" + strconv.FormatFloat(f.rate, 'g', -1, 64), nil
	case faultLatency:
		d := f.latency
		if !f.latencySet {
			threshold := time.Duration(spec.Alarms.LatencyThresholdMs) * time.Millisecond
			d = min(2*threshold, maxFaultLatency)
			if d <= threshold {
				return "", usagef("alarms.latencyThresholdMs is %d, and the app injects at most %s: no latency it can inject would trip the alarm; lower the threshold or pass --latency",
					spec.Alarms.LatencyThresholdMs, maxFaultLatency)
			}
		}
		return faultLatency + "=" + d.String(), nil
	default:
		return f.fault, nil
	}
}

// drillFaultFreeUntilProduction reports whether a fault must never reach
// production traffic: a revision that fails its health checks or crashes
// must be stopped before the weights move.
func drillFaultFreeUntilProduction(fault string) bool {
	return fault == faultHealth || fault == faultCrash
}

func (a *app) drill(ctx context.Context, f drillFlags) error {
	if err := f.check(); err != nil {
		return err
	}
	t, err := a.target(ctx, f.env)
	if err != nil {
		return err
	}
	value, err := f.appFault(t.spec)
	if err != nil {
		return err
	}
	target := f.url
	if target == "" {
		target = strings.TrimRight(t.serviceURL(), "/") + "/"
	}
	e := t.engine
	if d, err := e.InFlight(ctx); err != nil {
		return serviceNotFound(err)
	} else if d != nil {
		return inFlight(&deploy.InFlightError{Arn: aws.ToString(d.ServiceDeploymentArn), Status: string(d.Status)})
	}
	svcs, err := e.Reader.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(e.Service.Cluster), Services: []string{e.Service.Name}})
	if err != nil {
		return serviceNotFound(fmt.Errorf("describe service %s: %w", e.Service.Name, err))
	}
	i := slices.IndexFunc(svcs.Services, func(s ecstypes.Service) bool { return aws.ToString(s.Status) == "ACTIVE" })
	if i < 0 {
		return usagef("service %s does not exist in cluster %s; run ship up first", e.Service.Name, e.Service.Cluster)
	}
	goodArn := aws.ToString(svcs.Services[i].TaskDefinition)
	td, err := e.Tasks.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(goodArn), Include: []ecstypes.TaskDefinitionField{ecstypes.TaskDefinitionFieldTags}})
	if err != nil {
		return fmt.Errorf("describe the running task definition %s: %w", goodArn, err)
	}
	in, image, err := faultyCopy(td.TaskDefinition, td.Tags, value)
	if err != nil {
		return err
	}
	p := newPrinter(a.stdout, f.output)
	good := revisionOf(goodArn)

	// Traffic first: the good revision must answer it, or the drill would
	// see nothing and call silence a success.
	pr := newProbe(target, f.rps, good, revisionID{})
	p.event("traffic", fmt.Sprintf("traffic: %d requests a second to %s", f.rps, target), map[string]any{"url": target, "rps": f.rps})
	if err := pr.baseline(ctx, 10*time.Second+2*time.Second/time.Duration(f.rps)); err != nil {
		return err
	}
	badArn, err := e.Register(ctx, in)
	if err != nil {
		return err
	}
	bad := revisionOf(badArn)
	pctx, stopTraffic := context.WithCancel(ctx)
	pr = newProbe(target, f.rps, good, bad)
	trafficDone := make(chan struct{})
	go func() { defer close(trafficDone); pr.run(pctx) }()
	halt := func() { stopTraffic(); <-trafficDone }
	defer halt()

	before, err := e.LookService(ctx)
	if err != nil {
		return err
	}
	git := gitInfo(ctx, a.manifestDir())
	t0 := time.Now()
	started, err := e.Start(ctx, badArn)
	if err != nil {
		var inflight *deploy.InFlightError
		if errors.As(err, &inflight) {
			return inFlight(inflight)
		}
		return serviceNotFound(err)
	}
	// Drill marks the deployment in the ledger, so ship history and a
	// change failure rate can tell it from a real one, and ship rollback
	// never picks it as the last good revision: recorded even when Ctrl-C
	// came during the start, since the deployment goes on.
	req := deploy.Request{User: currentUser(a.getenv), GitCommit: git.commit, Dirty: git.dirty, Image: image, Version: version, Drill: value}
	if i := strings.LastIndex(image, "@"); i >= 0 {
		req.ImageDigest = image[i+1:]
	}
	if err := e.RecordRequest(context.WithoutCancel(ctx), started, req); err != nil {
		a.logger.Warn("the ledger did not take the drill's request; the drill goes on", "err", err)
	}
	p.event("started", fmt.Sprintf("drill deployment %s started: %s → %s with APP_FAULT=%s", started.Arn, good, bad, value),
		map[string]any{"deployment": started.Arn, "taskDefinition": badArn, "previous": goodArn, "fault": value, "image": image})

	wctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	var moved bool
	var stage string
	o, err := e.Watch(wctx, started.Arn, func(s deploy.Snapshot) {
		p.snapshot(s)
		if s.Production != nil && before.Production != nil && !maps.Equal(s.Production, before.Production) && !strings.HasPrefix(s.Status, "ROLLBACK") {
			moved = true
		}
		if s.Status == string(ecstypes.ServiceDeploymentStatusInProgress) && s.Stage != "" {
			stage = s.Stage
		}
	})
	if err != nil {
		return err
	}
	if o.Class == deploy.ClassTimeout || o.Class == deploy.ClassInterrupted {
		halt()
		st, _, _ := pr.snapshot()
		p.event("traffic", fmt.Sprintf("traffic so far: %d requests, %d answered by %s (the faulty revision)", st.Total, st.Bad, bad),
			map[string]any{"traffic": st})
		return exitError{code: o.Class.ExitCode(), msg: fmt.Sprintf("stopped watching drill deployment %s (%s); it goes on with APP_FAULT=%s: ship status --watch follows it, ship rollback rolls it back",
			started.Arn, o.Class, value)}
	}
	final, err := e.Look(ctx, started.Arn)
	if err != nil {
		return err
	}
	if err := e.RecordOutcome(ctx, final); err != nil {
		a.logger.Warn("the ledger did not take the outcome", "err", err)
	}
	r := drillReport{Event: "drill", Fault: value, Deployment: started.Arn, Good: good.String(), Bad: bad.String(), Status: final.Status,
		Stage: furthestStage(stage, final.Stage), Reason: firstNonEmpty(final.RollbackReason, final.Reason), TriggeredAlarms: final.TriggeredAlarms, ProductionMoved: moved}
	if ended := final.FinishedAt; !ended.IsZero() && !final.CreatedAt.IsZero() {
		r.DeploymentSeconds = seconds(ended.Sub(final.CreatedAt))
	}
	if rb := a.rollbackStart(ctx, t, started.Arn); !rb.IsZero() && !final.CreatedAt.IsZero() {
		r.RollbackStartedSeconds = seconds(rb.Sub(final.CreatedAt))
	}
	d, timeline := a.drillLedger(ctx, t, final)
	c := whatCaught(final, d, timeline)
	r.CaughtBy = &c
	if c.Mechanism == "" {
		r.CaughtBy = nil
	}

	// Production must answer from the good revision again: some answers in
	// a row, within drillSettle.
	settled := true
	if final.Status != string(ecstypes.ServiceDeploymentStatusSuccessful) {
		pr.restartRun()
		settled = waitFor(wctx, drillSettle, func() bool { return pr.goodInARow() >= max(5, f.rps) })
		if !settled && wctx.Err() != nil {
			// Ctrl-C or --timeout while production settled: no verdict
			// on production, which the watch's exit codes say.
			class := deploy.ClassInterrupted
			if errors.Is(wctx.Err(), context.DeadlineExceeded) {
				class = deploy.ClassTimeout
			}
			return exitError{code: class.ExitCode(), msg: fmt.Sprintf("drill deployment %s ended %s; stopped waiting for production to answer from %s again (%s): ship status shows where it is",
				started.Arn, final.Status, good, class)}
		}
	}
	halt()
	r.Traffic, _, _ = pr.snapshot()
	_, lastBad, backAt := pr.snapshot()
	if !lastBad.IsZero() && !backAt.IsZero() {
		r.ProductionBackSeconds = seconds(backAt.Sub(t0))
	}
	if svc, err := e.Reader.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(e.Service.Cluster), Services: []string{e.Service.Name}}); err == nil && len(svc.Services) > 0 {
		r.Production = family(aws.ToString(svc.Services[0].TaskDefinition))
	}
	r.judge(value, f.fault, settled)
	r.print(p)
	if r.ExitCode == exitOK {
		return nil
	}
	return exitError{code: r.ExitCode, msg: r.Verdict}
}

// faultyCopy is the register input of task definition td again, with
// APP_FAULT=value on the app's container: the same image digest, the same
// environment otherwise. It returns the container's image too.
func faultyCopy(td *ecstypes.TaskDefinition, tags []ecstypes.Tag, value string) (*ecs.RegisterTaskDefinitionInput, string, error) {
	if td == nil || len(td.ContainerDefinitions) == 0 {
		return nil, "", errors.New("the running task definition has no container to inject a fault into")
	}
	in := deploy.RegisterInput(td, tags)
	containers := slices.Clone(in.ContainerDefinitions)
	i := slices.IndexFunc(containers, func(c ecstypes.ContainerDefinition) bool { return aws.ToString(c.Name) == stack.ContainerName })
	if i < 0 {
		i = 0
	}
	c := containers[i]
	env := slices.Clone(c.Environment)
	j := slices.IndexFunc(env, func(kv ecstypes.KeyValuePair) bool { return aws.ToString(kv.Name) == "APP_FAULT" })
	if j >= 0 {
		if v := aws.ToString(env[j].Value); v != "" {
			return nil, "", usagef("the running revision %s already sets APP_FAULT=%s: deploy a healthy revision (ship deploy, ship rollback) before a drill", family(aws.ToString(td.TaskDefinitionArn)), v)
		}
		env[j].Value = aws.String(value)
	} else {
		env = append(env, ecstypes.KeyValuePair{Name: aws.String("APP_FAULT"), Value: aws.String(value)})
	}
	c.Environment = env
	containers[i] = c
	in.ContainerDefinitions = containers
	return in, aws.ToString(c.Image), nil
}

// stageOrder is the order of a blue/green deployment's lifecycle stages.
var stageOrder = []string{
	"RECONCILE_SERVICE", "PRE_SCALE_UP", "SCALE_UP", "POST_SCALE_UP", "TEST_TRAFFIC_SHIFT", "POST_TEST_TRAFFIC_SHIFT",
	"PRE_PRODUCTION_TRAFFIC_SHIFT", "PRODUCTION_TRAFFIC_SHIFT", "POST_PRODUCTION_TRAFFIC_SHIFT", "BAKE_TIME", "CLEAN_UP",
}

// furthestStage is the later of two stages: the last one a watch saw in
// progress, which polling may have seen late, and the one the deployment
// ended in, which a rollback's hook re-invocations may have moved back.
func furthestStage(a, b string) string {
	if slices.Index(stageOrder, b) > slices.Index(stageOrder, a) {
		return b
	}
	return a
}

// revisionOf is a task definition ARN's family and revision.
func revisionOf(arn string) revisionID {
	f, r, _ := strings.Cut(family(arn), ":")
	return revisionID{family: f, revision: r}
}

// baseline waits, for at most limit, until the good revision answers one
// request through the URL: a drill whose traffic reaches nothing could
// not tell a caught fault from an unseen one.
func (p *probe) baseline(ctx context.Context, limit time.Duration) error {
	bctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); p.run(bctx) }()
	ok := waitFor(ctx, limit, func() bool { st, _, _ := p.snapshot(); return st.Good > 0 })
	cancel()
	<-done
	if ok {
		return nil
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	st, _, _ := p.snapshot()
	why, next := st.LastFailure, "pass --url with the service's production URL"
	switch {
	case why == "":
		why = fmt.Sprintf("answers came from %v, not %s", st.ByRevision, p.good)
	case strings.Contains(why, "without a revision"):
		next = "the drill tells revisions apart by the JSON of GET /, whose ecs.family and ecs.revision the sample app sets from the ECS task metadata; pass --url with a path that answers so"
	case st.Failed == st.Total && isNamedHost(p.url):
		// A load balancer's DNS name that does not resolve here: a local
		// cloud of one's own (AWS_ENDPOINT_URL), or an internal ALB.
		next += ", or set HTTP_PROXY to a proxy that reaches the load balancer by its DNS name (a localcloud prints its VPC proxy's HTTP_PROXY=… when it starts)"
	}
	return fmt.Errorf("send the drill's traffic to %s: %d requests in %s and none answered by the running revision %s (%s); nothing was deployed: %s",
		p.url, st.Total, limit.Round(time.Second), p.good, why, next)
}

// isNamedHost reports whether a URL's host is a name, not an IP address.
func isNamedHost(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && u.Hostname() != "" && net.ParseIP(u.Hostname()) == nil
}

// waitFor polls ok until it holds, limit passes or ctx ends.
func waitFor(ctx context.Context, limit time.Duration, ok func() bool) bool {
	deadline := time.NewTimer(limit)
	defer deadline.Stop()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for !ok() {
		select {
		case <-ctx.Done():
			return false
		case <-deadline.C:
			return ok()
		case <-tick.C:
		}
	}
	return true
}

// rollbackStart is when ECS started rolling the deployment back, or zero.
func (a *app) rollbackStart(ctx context.Context, t *target, arn string) time.Time {
	out, err := t.engine.Reader.DescribeServiceDeployments(ctx, &ecs.DescribeServiceDeploymentsInput{ServiceDeploymentArns: []string{arn}})
	if err != nil || len(out.ServiceDeployments) == 0 || out.ServiceDeployments[0].Rollback == nil {
		if err != nil {
			a.logger.Debug("read the rollback's start", "err", err)
		}
		return time.Time{}
	}
	return aws.ToTime(out.ServiceDeployments[0].Rollback.StartedAt)
}

// drillLedger reads the deployment's record and timeline, for what
// deploywatch did: an enforced rollback, a hook's answer. Without a ledger
// both are empty.
func (a *app) drillLedger(ctx context.Context, t *target, s deploy.Snapshot) (*ledger.Deployment, []ledger.Entry) {
	table := t.outputs[stack.OutputLedgerTable]
	if table == "" || s.CreatedAt.IsZero() {
		return nil, nil
	}
	l := ledger.New(dynamodb.NewFromConfig(t.cfg), table)
	d, err := l.Get(ctx, ledger.Key{Cluster: t.engine.Service.Cluster, Service: t.engine.Service.Name, Arn: s.Arn, CreatedAt: s.CreatedAt})
	if err != nil {
		a.logger.Debug("read the drill's deployment from the ledger", "err", err)
		return nil, nil
	}
	timeline, err := l.Timeline(ctx, s.Arn)
	if err != nil {
		a.logger.Debug("read the drill's timeline from the ledger", "err", err)
	}
	return &d, timeline
}

// Mechanisms that catch a faulty revision.
const (
	caughtByAlarm       = "alarm"        // ECS's deployment alarms
	caughtByDeploywatch = "deploywatch"  // deploywatch enforced an alarm
	caughtByHook        = "hook"         // the smoke-test lifecycle hook
	caughtByHealth      = "health-check" // health checks, tasks that would not start
	caughtByECS         = "ecs"          // another reason ECS gave
	caughtByRequest     = "request"      // StopServiceDeployment by someone: not the machinery
)

// catch is what rolled the drill's deployment back.
type catch struct {
	Mechanism string `json:"mechanism"`
	Alarm     string `json:"alarm,omitempty"`
	Detail    string `json:"detail,omitempty"`
}

func (c catch) String() string {
	switch c.Mechanism {
	case caughtByAlarm:
		return "alarm " + c.Alarm + " (ECS rolled back on its deployment alarm)"
	case caughtByDeploywatch:
		return "alarm " + c.Alarm + " (deploywatch enforced it with StopServiceDeployment)"
	case caughtByHook:
		return "the smoke-test lifecycle hook"
	case caughtByHealth:
		return "health checks (the load balancer's target health, ECS's task health and start)"
	case caughtByECS:
		return "ECS"
	case caughtByRequest:
		return "a rollback request (StopServiceDeployment), not the rollback machinery"
	}
	return "nothing"
}

var alarmInReason = regexp.MustCompile(`alarm (\S+) went into`)

// whatCaught reads what rolled a deployment back from its last snapshot,
// its ledger record and timeline.
func whatCaught(s deploy.Snapshot, d *ledger.Deployment, timeline []ledger.Entry) catch {
	reason := firstNonEmpty(s.RollbackReason, s.Reason)
	lower := strings.ToLower(reason)
	if !strings.HasPrefix(s.Status, "ROLLBACK") && s.Status != string(ecstypes.ServiceDeploymentStatusStopped) {
		return catch{}
	}
	switch {
	case len(s.TriggeredAlarms) > 0:
		return catch{Mechanism: caughtByAlarm, Alarm: strings.Join(s.TriggeredAlarms, ", "), Detail: reason}
	case d != nil && d.Enforcement != nil && !d.Enforcement.DryRun && d.Enforcement.Kind == ledger.ActionStopRollback && d.Enforcement.Alarm != "":
		return catch{Mechanism: caughtByDeploywatch, Alarm: d.Enforcement.Alarm, Detail: firstNonEmpty(d.Enforcement.Reason, reason)}
	case strings.Contains(lower, "lifecycle hook"):
		detail := reason
		for _, en := range timeline {
			if en.Kind == "lifecycle hook" && en.Detail["hookStatus"] == "FAILED" {
				detail = en.Summary
				if ev := en.Detail["checks"]; ev != "" {
					detail += ": " + ev
				}
			}
		}
		return catch{Mechanism: caughtByHook, Detail: detail}
	case strings.Contains(lower, "health check") || strings.Contains(lower, "failed to start") || strings.Contains(lower, "circuit breaker"):
		return catch{Mechanism: caughtByHealth, Detail: reason}
	case alarmInReason.MatchString(reason):
		return catch{Mechanism: caughtByAlarm, Alarm: alarmInReason.FindStringSubmatch(reason)[1], Detail: reason}
	case strings.Contains(reason, "StopServiceDeployment") || s.Status == string(ecstypes.ServiceDeploymentStatusStopped):
		return catch{Mechanism: caughtByRequest, Detail: reason}
	}
	return catch{Mechanism: caughtByECS, Detail: reason}
}

// drillReport is the drill's result: the last line of --output json.
type drillReport struct {
	Event      string `json:"event"`
	Fault      string `json:"fault"`
	Deployment string `json:"deployment"`
	Good       string `json:"goodRevision"`
	Bad        string `json:"badRevision"`
	Status     string `json:"status"`
	// Stage is the last lifecycle stage the deployment reached before it
	// ended.
	Stage           string   `json:"stage,omitempty"`
	Caught          bool     `json:"caught"`
	CaughtBy        *catch   `json:"caughtBy,omitempty"`
	Reason          string   `json:"reason,omitempty"`
	TriggeredAlarms []string `json:"triggeredAlarms,omitempty"`
	// ProductionMoved is set when the production listener's weights moved
	// to the faulty revision.
	ProductionMoved bool `json:"productionMoved"`
	// The times, in seconds from the drill's deployment: the rollback's
	// start and the deployment's end (ECS's clock), and the first answer
	// of the good revision after the faulty one's last (the drill's).
	RollbackStartedSeconds *float64 `json:"rollbackStartedSeconds,omitempty"`
	DeploymentSeconds      *float64 `json:"deploymentSeconds,omitempty"`
	ProductionBackSeconds  *float64 `json:"productionBackSeconds,omitempty"`
	// Production is the revision the service runs at the end.
	Production string       `json:"production"`
	Traffic    trafficStats `json:"traffic"`
	Verdict    string       `json:"verdict"`
	ExitCode   int          `json:"exitCode"`
}

func seconds(d time.Duration) *float64 {
	s := d.Round(time.Millisecond).Seconds()
	return &s
}

// judge decides whether the machinery caught the fault: the deployment
// rolled back by the machinery, production back on the good revision, and,
// for a fault that must never reach production, no answer from it.
func (r *drillReport) judge(value, fault string, settled bool) {
	back := "ship rollback --to " + r.Good + " puts it back"
	r.ExitCode = exitFailed
	switch {
	case r.Status == string(ecstypes.ServiceDeploymentStatusSuccessful):
		r.Verdict = fmt.Sprintf("the rollback machinery did not catch APP_FAULT=%s: the deployment succeeded and the faulty revision %s serves production; %s", value, r.Bad, back)
	case r.CaughtBy == nil || r.CaughtBy.Mechanism == caughtByRequest:
		r.Verdict = fmt.Sprintf("the drill's deployment ended %s, stopped by a request (ship rollback, StopServiceDeployment), not by the rollback machinery: %s", r.Status, r.Reason)
	case r.Status != "ROLLBACK_SUCCESSFUL":
		r.Verdict = fmt.Sprintf("%s caught APP_FAULT=%s, but the rollback ended %s (%s); check ship status, and %s", r.CaughtBy, value, r.Status, r.Reason, back)
	case !settled || r.Production != r.Good:
		r.Verdict = fmt.Sprintf("%s rolled the drill back, but production does not answer from %s again (the service runs %s, last answers %v); check ship status", r.CaughtBy, r.Good, r.Production, r.Traffic.ByRevision)
	case drillFaultFreeUntilProduction(fault) && r.Traffic.Bad > 0:
		r.Verdict = fmt.Sprintf("%s rolled the drill back, but only after the faulty revision %s answered %d production requests: a revision with APP_FAULT=%s must never get production traffic", r.CaughtBy, r.Bad, r.Traffic.Bad, value)
	default:
		r.Caught, r.ExitCode = true, exitOK
		r.Verdict = fmt.Sprintf("the rollback machinery caught APP_FAULT=%s: %s; production is on %s", value, r.CaughtBy, r.Good)
	}
}

func (r drillReport) print(p *printer) {
	if p.json {
		p.writeJSON(r)
		return
	}
	p.closeLine()
	w := p.w
	fmt.Fprintf(w, "%s drill deployment %s\n", p.now().Format("15:04:05"), r.Status)
	if r.CaughtBy != nil {
		stage := ""
		if r.Stage != "" {
			stage = " during " + r.Stage
		}
		fmt.Fprintf(w, "  caught by:   %s%s\n", r.CaughtBy, stage)
	}
	if r.Reason != "" {
		fmt.Fprintf(w, "  reason:      %s\n", r.Reason)
	}
	if r.CaughtBy != nil && r.CaughtBy.Detail != "" && r.CaughtBy.Detail != r.Reason {
		fmt.Fprintf(w, "  evidence:    %s\n", r.CaughtBy.Detail)
	}
	if len(r.TriggeredAlarms) > 0 {
		fmt.Fprintf(w, "  triggered alarms: %s\n", strings.Join(r.TriggeredAlarms, ", "))
	}
	if r.RollbackStartedSeconds != nil {
		fmt.Fprintf(w, "  rollback:    started %.1fs after the drill's deploy", *r.RollbackStartedSeconds)
		if r.DeploymentSeconds != nil {
			fmt.Fprintf(w, ", done at %.1fs", *r.DeploymentSeconds)
		}
		fmt.Fprintln(w)
	}
	switch {
	case r.ProductionBackSeconds != nil:
		fmt.Fprintf(w, "  production:  back on %s %.1fs after the drill's deploy\n", r.Good, *r.ProductionBackSeconds)
	case r.Traffic.Bad == 0 && !r.ProductionMoved:
		fmt.Fprintf(w, "  production:  never left %s\n", r.Good)
	}
	fmt.Fprintf(w, "  traffic:     %s\n", r.Traffic.summary(r.Bad))
	if r.Traffic.Failed > 0 && r.Traffic.LastFailure != "" {
		fmt.Fprintf(w, "  last other failure: %s\n", r.Traffic.LastFailure)
	}
	verdict := "FAILED"
	if r.Caught {
		verdict = "CAUGHT"
	}
	fmt.Fprintf(w, "%s %s: %s\n", p.now().Format("15:04:05"), verdict, r.Verdict)
}

// summary says what the drill's requests met: which revision answered,
// which failed because of the fault (the faulty revision's injected 500s:
// users of a real fault would get them) and which failed otherwise.
func (st trafficStats) summary(bad string) string {
	return fmt.Sprintf("%d requests, %d answered by the faulty revision %s; %d answered 500 by the drill's fault, %d other failures (no answer, or a 5XX of the load balancer's); by revision %s",
		st.Total, st.Bad, bad, st.BadErrors, st.Failed, byRevision(st.ByRevision))
}

func byRevision(m map[string]int) string {
	if len(m) == 0 {
		return "(none)"
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s=%d", k, m[k]))
	}
	return strings.Join(parts, " ")
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
