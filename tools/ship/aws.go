package main

import (
	"context"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"

	"github.com/shipyard-ecs/shipyard/platform"
	"github.com/shipyard-ecs/shipyard/platform/deploy"
	"github.com/shipyard-ecs/shipyard/platform/ledger"
	"github.com/shipyard-ecs/shipyard/platform/stack"
)

// target is an environment ship acts on: its spec, its AWS configuration
// and its environment stack's outputs, with the deploy engine on them.
type target struct {
	spec    platform.Spec
	cfg     aws.Config
	outputs stack.Outputs
	engine  *deploy.Engine
	// local is the local cloud ship runs, when it runs it.
	local *localState
}

// connect resolves the AWS configuration of an environment. The local
// environment talks to the local cloud: AWS_ENDPOINT_URL when set, else
// the one ship runs, started if need be. Others use the default chain
// (environment, profile, SSO, instance role) in the environment's region.
func (a *app) connect(ctx context.Context, spec platform.Spec) (aws.Config, *localState, error) {
	endpoint := a.getenv("AWS_ENDPOINT_URL")
	if spec.Env == localEnv {
		var st *localState
		if endpoint == "" {
			s, _, err := a.localUp(ctx, defaultLocalOptions())
			if err != nil {
				return aws.Config{}, nil, err
			}
			st, endpoint = &s, "http://"+s.Addr
		}
		cfg := aws.Config{
			Region:       spec.Region,
			Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
			BaseEndpoint: aws.String(endpoint),
		}
		return cfg, st, nil
	}
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion(spec.Region))
	if err != nil {
		return aws.Config{}, nil, usagef("load the AWS configuration for %s: %w; fix AWS_PROFILE or ~/.aws/config, or use --env local", spec.Env, err)
	}
	// Before any call: without credentials the first AWS call would fail
	// after retries, and the default chain may wait for an instance
	// metadata service that is not there.
	cctx, cancel := context.WithTimeout(ctx, credentialsTimeout)
	defer cancel()
	if _, err := cfg.Credentials.Retrieve(cctx); err != nil {
		a.logger.Debug("retrieve AWS credentials", "env", spec.Env, "err", err)
		return aws.Config{}, nil, usagef("no AWS credentials for environment %s (region %s): configure them (aws configure, aws sso login, "+
			"AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), or use --env local; --verbose shows the SDK's reason", spec.Env, spec.Region)
	}
	return cfg, nil, nil
}

// credentialsTimeout bounds the search for credentials: the default chain
// ends at the instance metadata service, which off EC2 only times out.
const credentialsTimeout = 10 * time.Second

// target loads an environment: spec, connection, stack outputs, engine.
// A missing environment stack is a configuration error: run ship up.
func (a *app) target(ctx context.Context, env string) (*target, error) {
	spec, err := a.loadSpec(env)
	if err != nil {
		return nil, err
	}
	cfg, local, err := a.connect(ctx, spec)
	if err != nil {
		return nil, err
	}
	outputs, err := deploy.Outputs(ctx, cloudformation.NewFromConfig(cfg), stack.EnvironmentName(spec))
	if errors.Is(err, deploy.ErrStackNotFound) {
		return nil, usageError{err}
	}
	if err != nil {
		return nil, err
	}
	ecsc := ecs.NewFromConfig(cfg)
	e := &deploy.Engine{
		Service: deploy.ServiceOf(stack.ServiceName(spec), outputs),
		ECS:     ecsc, Reader: ecsc, Tasks: ecsc,
		ELB:    elb.NewFromConfig(cfg),
		Alarms: cloudwatch.NewFromConfig(cfg),
		Logs:   cloudwatchlogs.NewFromConfig(cfg),
		Logger: a.logger.With("subsystem", "deploy"),
		Poll:   a.poll,
	}
	if local != nil {
		// The local cloud ship runs compresses time: count the bake down
		// in the time really left.
		e.TimeScale = local.TimeScale
	}
	if e.Poll <= 0 {
		e.Poll = 5 * time.Second
		if local != nil {
			// The local cloud compresses time; look as often, relatively.
			e.Poll = max(200*time.Millisecond, time.Duration(float64(e.Poll)*local.TimeScale))
		}
	}
	if table := outputs[stack.OutputLedgerTable]; table != "" {
		e.Ledger = ledger.New(dynamodb.NewFromConfig(cfg), table)
	} else {
		a.logger.Debug("no ledger table in the environment stack; deployments are not recorded")
	}
	return &target{spec: spec, cfg: cfg, outputs: outputs, engine: e, local: local}, nil
}

// ecr is the registry client of the environment.
func (t *target) ecr() *ecr.Client { return ecr.NewFromConfig(t.cfg) }

// serviceURL is where the service answers: on the local cloud ship runs,
// the loopback port the production listener is served on; elsewhere the
// stack's URL.
func (t *target) serviceURL() string {
	u := t.outputs[stack.OutputServiceURL]
	if t.local == nil || t.local.PortOffset < 0 {
		return u
	}
	port := t.spec.LoadBalancer.ListenerPort
	if parsed, err := url.Parse(u); err == nil && parsed.Port() != "" {
		if p, err := strconv.Atoi(parsed.Port()); err == nil {
			port = p
		}
	}
	return "http://127.0.0.1:" + strconv.Itoa(port+t.local.PortOffset)
}

// urlNote says how to reach serviceURL when it is a load balancer DNS name
// in a local cloud ship does not run (AWS_ENDPOINT_URL): such names resolve
// nowhere, and ship knows neither the listener's loopback port nor the
// local cloud's VPC proxy. "" otherwise.
func (t *target) urlNote() string {
	if t.spec.Env != localEnv || t.local != nil {
		return ""
	}
	return "a load balancer DNS name: reach it through the local cloud's VPC proxy, HTTP_PROXY=… as localcloud prints at start (curl reads only http_proxy), or at the listener's loopback port"
}

// serviceNotFound turns a missing service into the next step.
func serviceNotFound(err error) error {
	if errors.Is(err, deploy.ErrServiceNotFound) {
		msg := err.Error()
		if !strings.Contains(msg, "ship up") {
			msg += "; run ship up first"
		}
		return usagef("%s", msg)
	}
	return err
}
