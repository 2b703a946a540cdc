// Command localcloud is an AWS-compatible local cloud: the real AWS SDKs and
// the aws CLI talk to it through AWS_ENDPOINT_URL, and it does for real what
// AWS would do — ALB listeners are reverse proxies with health checks and
// draining, CloudWatch alarms are evaluated, ECS tasks are processes. It binds
// to loopback only. See docs/localcloud.md.
//
//	localcloud --addr 127.0.0.1:4566 --state .localcloud --time-scale 0.05
//
// Load balancer DNS names resolve nowhere outside AWS; the functions and
// tasks localcloud runs reach them through its VPC proxy (HTTP_PROXY).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/autoscaling"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/clock"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/cloudformation"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/ecr"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/ecs"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/elbv2"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/server"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/state"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/taskrun"
)

// Set by the build (-ldflags -X).
var (
	version = "dev"
	commit  = "unknown"
)

// errUsage marks a bad command line: exit code 2.
var errUsage = errors.New("usage")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	switch {
	case err == nil:
	case errors.Is(err, errUsage):
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "localcloud:", err)
		os.Exit(1)
	}
}

type options struct {
	addr       string
	stateDir   string
	timeScale  float64
	logLevel   slog.Level
	portOffset int
	// strictPorts: a taken listener port fails instead of moving. Default:
	// on when --listener-port-offset is given explicitly (see parseFlags).
	strictPorts bool
	schemas     string
	vpcProxy    string
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("localcloud", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.addr, "addr", "127.0.0.1:4566", "loopback `host:port` for the AWS APIs (AWS_ENDPOINT_URL=http://host:port)")
	fs.StringVar(&o.stateDir, "state", ".localcloud", "`dir`ectory where state is kept across restarts")
	fs.Float64Var(&o.timeScale, "time-scale", 1, "compress every AWS duration (health-check interval, bake, drain, alarm period) by this `factor`")
	level := fs.String("log-level", "info", "log `level`: debug, info, warn or error")
	fs.IntVar(&o.portOffset, "listener-port-offset", 8000, "ALB listener port N is served on loopback port N+`offset` (80 becomes 8080); -1 picks free ports")
	fs.StringVar(&o.schemas, "schemas", "", "`dir`ectory of CloudFormation registry schemas (AWS_*.json) to validate stack resource properties against")
	fs.StringVar(&o.vpcProxy, "vpc-proxy", "127.0.0.1:0", "loopback `host:port` of the VPC proxy that functions and tasks get as HTTP_PROXY, so load balancer DNS names reach their listeners (port 0: a free one)")
	strict := fs.Bool("strict-ports", false, "fail a listener whose port + offset is taken instead of serving it on a free port (default: on when --listener-port-offset is given)")
	showVersion := fs.Bool("version", false, "print the version and exit")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return o, err
		}
		return o, errUsage
	}
	usage := func(format string, a ...any) (options, error) {
		fmt.Fprintf(stderr, "localcloud: "+format+"\n", a...)
		fs.Usage()
		return o, errUsage
	}
	if *showVersion {
		fmt.Fprintf(stderr, "localcloud %s (%s)\n", version, commit)
		return o, flag.ErrHelp
	}
	if fs.NArg() > 0 {
		return usage("unexpected argument %q", fs.Arg(0))
	}
	if o.stateDir == "" {
		return usage("--state must name a directory")
	}
	// Tasks run with their own working directory, so every path handed to
	// them (the unpacked image, the entrypoint) must not depend on ours.
	abs, err := filepath.Abs(o.stateDir)
	if err != nil {
		return usage("--state %q: %v", o.stateDir, err)
	}
	o.stateDir = abs
	if err := o.logLevel.UnmarshalText([]byte(*level)); err != nil {
		return usage("--log-level %q: want debug, info, warn or error", *level)
	}
	if o.timeScale <= 0 {
		return usage("--time-scale %g: want a positive factor such as 0.05", o.timeScale)
	}
	if o.portOffset < -1 || o.portOffset > 65535 {
		return usage("--listener-port-offset %d: want -1 or 0..65535", o.portOffset)
	}
	// Whoever names an offset expects the listeners on it: a listener that
	// silently moved elsewhere answers nowhere they look. So an explicit
	// offset makes ports strict unless --strict-ports=false says otherwise.
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	o.strictPorts = *strict || (!set["strict-ports"] && set["listener-port-offset"] && o.portOffset >= 0)
	if o.strictPorts && o.portOffset < 0 {
		return usage("--strict-ports with --listener-port-offset -1: free ports are never taken; drop one of them")
	}
	for _, a := range []struct{ flag, value, example string }{{"--addr", o.addr, "127.0.0.1:4566"}, {"--vpc-proxy", o.vpcProxy, "127.0.0.1:0"}} {
		host, _, err := net.SplitHostPort(a.value)
		if err != nil {
			return usage("%s %q: want host:port, e.g. %s", a.flag, a.value, a.example)
		}
		if !isLoopback(host) {
			return usage("%s %q: localcloud binds to loopback only; use 127.0.0.1 or localhost", a.flag, a.value)
		}
	}
	return o, nil
}

// listenError says which address could not be bound and what to do.
func listenError(flagName, addr string, err error) error {
	if errors.Is(err, syscall.EADDRINUSE) {
		who := ""
		if flagName == "--addr" {
			who = fmt.Sprintf(" (curl http://%s/_localcloud/info tells whose)", addr)
		}
		return fmt.Errorf("%s is already in use, perhaps by another checkout's local cloud%s; "+
			"stop it, or start this one elsewhere with %s 127.0.0.1:PORT: %w", addr, who, flagName, err)
	}
	return fmt.Errorf("listen on %s (%s): %w", addr, flagName, err)
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: o.logLevel}))
	// Listen first: the registry's repository URIs name the real address.
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return listenError("--addr", o.addr, err)
	}
	defer ln.Close()
	clk := clock.New(o.timeScale)
	store := state.Store{Dir: o.stateDir}
	var schemas *cloudformation.Schemas
	if o.schemas != "" {
		if schemas, err = cloudformation.LoadSchemas(o.schemas); err != nil {
			return fmt.Errorf("--schemas: %w", err)
		}
	}
	srv, err := server.New(ctx, server.Config{Logger: log, Clock: clk, Store: store, PortOffset: o.portOffset, StrictPorts: o.strictPorts,
		Version: version, Commit: commit, TimeScale: o.timeScale, Schemas: schemas, VPCProxyAddr: o.vpcProxy})
	if errors.Is(err, syscall.EADDRINUSE) && errors.Is(err, elbv2.ErrVPCProxyListen) {
		return listenError("--vpc-proxy", o.vpcProxy, err)
	}
	if err != nil {
		return err
	}
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	stopECS, err := addECS(runCtx, srv, ln.Addr().String(), o.stateDir, clk, store, log)
	defer func() {
		// Backends first (ECS drains its tasks through the runner), then the runner.
		if err := srv.Close(); err != nil {
			log.Error("stop backends", "err", err)
		}
		if stopECS != nil {
			if err := stopECS(); err != nil {
				log.Error("stop task runner", "err", err)
			}
		}
	}()
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "localcloud %s listening on http://%s (state %s, time scale %g)\n", version, ln.Addr(), o.stateDir, o.timeScale)
	fmt.Fprintf(stdout, "point clients at it: AWS_ENDPOINT_URL=http://%s AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test\n", ln.Addr())
	fmt.Fprintf(stdout, "load balancer DNS names resolve through the VPC proxy: HTTP_PROXY=%s\n", srv.VPC.URL())
	return srv.Serve(runCtx, ln)
}

// addECS joins ECR (the OCI registry at host), the task runner, ECS and
// Application Auto Scaling to the server and starts their schedulers. The
// returned function stops the task runner once the backends are closed.
func addECS(ctx context.Context, srv *server.Server, host, dir string, clk clock.Clock, store state.Store, log *slog.Logger) (func() error, error) {
	registry, err := ecr.New(ecr.Config{Dir: filepath.Join(dir, "ecr"), Store: store, Host: host, Clock: clk, Logger: log.With("subsystem", "ecr")})
	if err != nil {
		return nil, fmt.Errorf("start ecr: %w", err)
	}
	srv.Add(registry)
	runner, err := taskrun.New(taskrun.Config{Dir: filepath.Join(dir, "tasks"), Images: registry, Logs: srv.Logs, Clock: clk, Logger: log.With("subsystem", "taskrun"),
		ProxyEnv: srv.VPC.Env()})
	if err != nil {
		return nil, fmt.Errorf("start task runner: %w", err)
	}
	// An image the registry lets go of takes its unpacked copy with it.
	registry.OnDelete(runner.DropImages)
	ecsb, err := ecs.New(ecs.Config{Clock: clk, Store: store, Runner: runner, Images: registry, ELB: ecs.ELBv2(srv.ELBv2), Alarms: srv.CloudWatch, Metrics: srv.CloudWatch,
		// AWS_LAMBDA lifecycle hooks invoke real functions; deployment, task,
		// service and hook state changes become EventBridge events.
		Hooks: srv.Lambda, OnEvent: srv.Events.EmitECS,
		Logger: log.With("subsystem", "ecs")})
	if err != nil {
		return runner.Close, fmt.Errorf("start ecs: %w", err)
	}
	srv.Add(ecsb)
	scaler, err := autoscaling.New(autoscaling.Config{Clock: clk, Store: store, ECS: ecsb, Logger: log.With("subsystem", "autoscaling")})
	if err != nil {
		return runner.Close, fmt.Errorf("start application auto scaling: %w", err)
	}
	srv.Add(scaler)
	ecsb.Start(ctx)
	scaler.Start(ctx)
	return runner.Close, nil
}
