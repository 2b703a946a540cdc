// Command localcloud is an AWS-compatible local cloud: the real AWS SDKs and
// the aws CLI talk to it through AWS_ENDPOINT_URL, and it does for real what
// AWS would do — ALB listeners are reverse proxies with health checks and
// draining, CloudWatch alarms are evaluated, ECS tasks are processes. It binds
// to loopback only. See docs/localcloud.md.
//
//	localcloud --addr 127.0.0.1:4566 --state .localcloud --time-scale 0.05
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
	"strings"
	"syscall"

	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/clock"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/server"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/state"
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
	if err := o.logLevel.UnmarshalText([]byte(*level)); err != nil {
		return usage("--log-level %q: want debug, info, warn or error", *level)
	}
	if o.timeScale <= 0 {
		return usage("--time-scale %g: want a positive factor such as 0.05", o.timeScale)
	}
	if o.portOffset < -1 || o.portOffset > 65535 {
		return usage("--listener-port-offset %d: want -1 or 0..65535", o.portOffset)
	}
	host, _, err := net.SplitHostPort(o.addr)
	if err != nil {
		return usage("--addr %q: want host:port, e.g. 127.0.0.1:4566", o.addr)
	}
	if !isLoopback(host) {
		return usage("--addr %q: localcloud binds to loopback only; use 127.0.0.1 or localhost", o.addr)
	}
	return o, nil
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
	srv, err := server.New(ctx, server.Config{
		Logger:     log,
		Clock:      clock.New(o.timeScale),
		Store:      state.Store{Dir: o.stateDir},
		PortOffset: o.portOffset,
	})
	if err != nil {
		return err
	}
	defer func() {
		if err := srv.Close(); err != nil {
			log.Error("stop backends", "err", err)
		}
	}()
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w (is another localcloud running?)", o.addr, err)
	}
	fmt.Fprintf(stdout, "localcloud %s listening on http://%s (state %s, time scale %g)\n", version, ln.Addr(), o.stateDir, o.timeScale)
	fmt.Fprintf(stdout, "point clients at it: AWS_ENDPOINT_URL=http://%s AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test\n", ln.Addr())
	return srv.Serve(ctx, ln)
}
