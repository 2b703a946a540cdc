package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/shipyard-ecs/shipyard/platform/deploy"
)

// step is what a long command (ship up, ship destroy) is doing, and how
// to follow it when --timeout or Ctrl-C stops the command meanwhile.
type step struct {
	// doing says what was in progress, "the change set of stack X runs".
	doing string
	// next says what goes on without ship and how to follow it.
	next string
}

// stopped maps the error of a command that --timeout or Ctrl-C ended
// (the wait's context, or a call made with it) to exit 5 or 130, with a
// message saying what was in progress and how to follow it; any other
// error it returns as it is. Neither ends anything in AWS: a CloudFormation
// operation, a deletion or a deployment goes on.
func stopped(ctx context.Context, err error, timeout time.Duration, s step) error {
	var exit interface{ ExitCode() int }
	if err == nil || errors.As(err, &exit) {
		return err // a watch's outcome has its own exit and message
	}
	var code int
	var why string
	switch {
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded):
		code, why = deploy.ExitTimeout, fmt.Sprintf("not done within --timeout %s", timeout)
	case errors.Is(err, context.Canceled) || ctx.Err() != nil:
		code, why = deploy.ExitInterrupted, "interrupted"
	default:
		return err
	}
	return exitError{code: code, msg: fmt.Sprintf("%s while %s; %s", why, s.doing, s.next)}
}
