package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/shipyard-ecs/shipyard/platform/deploy"
	"github.com/shipyard-ecs/shipyard/platform/provision"
)

// TestStopped maps the errors of a command that --timeout or Ctrl-C ended
// to 5 and 130, and leaves every other error as it was.
func TestStopped(t *testing.T) {
	live := context.Background()
	timedOut, cancel := context.WithDeadline(context.Background(), time.Unix(0, 0))
	defer cancel()
	interrupted, interrupt := context.WithCancel(context.Background())
	interrupt()
	s := step{doing: "stack env's change set ran", next: "CloudFormation goes on with it"}
	watch := exitError{code: deploy.ExitInterrupted, msg: "deployment arn interrupted watching"}
	for _, c := range []struct {
		name string
		ctx  context.Context
		err  error
		code int
		msg  string // in the message, "" for the error as it was
	}{
		{"success", live, nil, exitOK, ""},
		{"failure", live, errors.New("stack env ended UPDATE_ROLLBACK_COMPLETE"), exitFailed, ""},
		{"wait timed out", timedOut, &provision.StoppedError{Stack: "env", Err: context.DeadlineExceeded}, deploy.ExitTimeout,
			"not done within --timeout 1ms while stack env's change set ran; CloudFormation goes on with it"},
		{"call timed out", timedOut, fmt.Errorf("describe stack env: %w", context.DeadlineExceeded), deploy.ExitTimeout, "not done within --timeout 1ms"},
		{"wait interrupted", interrupted, &provision.StoppedError{Stack: "env", Err: context.Canceled}, deploy.ExitInterrupted,
			"interrupted while stack env's change set ran; CloudFormation goes on with it"},
		// A build killed by Ctrl-C says "signal: killed", not the
		// context's error.
		{"process interrupted", interrupted, errors.New("build deploywatch: signal: killed"), deploy.ExitInterrupted, "interrupted while"},
		{"watch outcome", interrupted, watch, deploy.ExitInterrupted, watch.msg},
		{"watch outcome on timeout", timedOut, exitError{code: deploy.ExitTimeout, msg: "timed out watching"}, deploy.ExitTimeout, "timed out watching"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := stopped(c.ctx, c.err, time.Millisecond, s)
			if code := exitCode(got); code != c.code {
				t.Errorf("exitCode(stopped(%v)) = %d, want %d", c.err, code, c.code)
			}
			if c.msg == "" && !errors.Is(got, c.err) {
				t.Errorf("stopped(%v) = %v, want the error as it was", c.err, got)
			}
			if c.msg != "" && (got == nil || !strings.Contains(got.Error(), c.msg)) {
				t.Errorf("stopped(%v) = %v, want it to say %q", c.err, got, c.msg)
			}
		})
	}
}
