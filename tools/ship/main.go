// Command ship is the deploy CLI app developers use. It reads ship.yaml,
// renders the environment's CloudFormation stacks, and deploys and watches
// the service with native ECS blue/green (README.md):
//
//	ship up       [--env NAME] [--yes]
//	ship plan     [--env NAME]
//	ship deploy   [--env NAME] [--image REF] [--env-var K=V ...] [--output json]
//	ship status   [--env NAME] [--watch]
//	ship rollback [--env NAME] [--to REVISION]
//	ship history  [--env NAME] [-n N]
//	ship logs     [--env NAME] [-f] [--revision R] [--since DUR]
//	ship drill    [--env NAME] --fault health|errors|latency|crash [--url URL]
//	ship destroy  [--env NAME] [--yes]
//	ship local    up|down|status
//	ship template [--env NAME] [--stack bootstrap|environment] [--live]
//	ship validate [--env NAME]
//	ship completion bash|zsh|fish|powershell
//
// Exit codes: 0 success, 1 failure, 2 usage or configuration error; the
// deployment outcomes 3–7 and 130 are platform/deploy's.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

// Set by the Makefile through -ldflags.
var (
	version = "dev"
	commit  = "unknown"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "ship:", err)
	}
	os.Exit(exitCode(err))
}

// Exit codes.
const (
	exitOK     = 0
	exitFailed = 1
	exitUsage  = 2 // usage or configuration error (DESIGN §8)
)

// usageError is a mistake in the command line or the manifest: exit 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

func exitCode(err error) int {
	var u usageError
	var c interface{ ExitCode() int }
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &u):
		return exitUsage
	case errors.As(err, &c): // deploy outcomes (platform/deploy)
		return c.ExitCode()
	default:
		return exitFailed
	}
}
