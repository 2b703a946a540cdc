package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cftypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/shipyard-ecs/shipyard/platform/deploy"
	"github.com/shipyard-ecs/shipyard/platform/stack"
)

// TestUpDestroyStopped runs ship up and ship destroy processes that
// --timeout or SIGINT stops: --timeout exits 5 and SIGINT 130, each saying
// what was in progress, and what they started in AWS goes on to its end.
func TestUpDestroyStopped(t *testing.T) {
	t.Parallel()
	e := startEnvironment(t, "starts localcloud and stops ship up and ship destroy", e2eManifest)
	env, mpath := e.environ(), e.manifest
	boot := stack.BootstrapName(e.spec)
	up := []string{"up", "--yes", "--manifest", mpath, "--package", e.appDir, "--lambda", e.lambdaDir, "--poll", "100ms"}

	_, stderr, code := shipExec(t, env, append(up, "--timeout", "1ms")...)
	if want := "not done within --timeout 1ms while the change set of stack " + boot + " was being made; the stack has not changed: run ship up again"; code != deploy.ExitTimeout || !strings.Contains(stderr, want) {
		t.Errorf("ship up --timeout 1ms: exit %d, stderr %q; want %d saying %q", code, stderr, deploy.ExitTimeout, want)
	}
	_, stderr, code = shipExec(t, env, "destroy", "--yes", "--manifest", mpath, "--poll", "100ms", "--timeout", "1ms")
	if want := "not done within --timeout 1ms while looking at what environment local has; nothing was deleted"; code != deploy.ExitTimeout || !strings.Contains(stderr, want) {
		t.Errorf("ship destroy --timeout 1ms: exit %d, stderr %q; want %d saying %q", code, stderr, deploy.ExitTimeout, want)
	}

	// SIGINT once the bootstrap stack's change set runs: up stops, and
	// the stack's creation goes on to CREATE_COMPLETE.
	pctx, kill := context.WithCancel(context.Background())
	defer kill() // a failed check must not leave the process running
	cmd := exec.CommandContext(pctx, shipBinary(t), append(up, "--timeout", "2m")...)
	cmd.Env = env
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	cf := cloudformation.NewFromConfig(e.cfg)
	status := func() cftypes.StackStatus {
		o, err := cf.DescribeStacks(e.ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(boot)})
		if err != nil || len(o.Stacks) == 0 {
			return ""
		}
		return o.Stacks[0].StackStatus
	}
	eventually(t, "the bootstrap stack's change set runs", 60*time.Second, func() bool {
		s := status()
		return s != "" && s != cftypes.StackStatusReviewInProgress
	})
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	var err error
	select {
	case err = <-exited:
	case <-time.After(30 * time.Second):
		t.Fatalf("ship up still runs 30s after SIGINT\nstdout:\n%s\nstderr:\n%s", out.String(), errOut.String())
	}
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != deploy.ExitInterrupted || !strings.Contains(errOut.String(), "ship: interrupted while ") {
		t.Errorf("ship up after SIGINT: %v, want exit 130 saying what it was doing\nstdout:\n%s\nstderr:\n%s", err, out.String(), errOut.String())
	}
	t.Logf("ship up after SIGINT: %s", strings.TrimSpace(errOut.String()))
	eventually(t, "the bootstrap stack's creation goes on to its end", 60*time.Second, func() bool { return !strings.HasSuffix(string(status()), "_IN_PROGRESS") })
	if s := status(); s != cftypes.StackStatusCreateComplete {
		t.Errorf("bootstrap stack after ship up's SIGINT: %s, want CREATE_COMPLETE", s)
	}

	if _, stderr, code := shipExec(t, env, append(up, "--timeout", "2m")...); code != exitOK {
		t.Fatalf("ship up after its SIGINT: exit %d, want 0\nstderr:\n%s", code, stderr)
	}
	interruptDestroy(t, e)
}

// interruptDestroy sends SIGINT to a ship destroy process while it waits
// for the service's deletion (its tasks drain first): it exits 130 saying
// that ECS goes on, the service goes INACTIVE without it, and ship destroy
// again finishes the rest.
func interruptDestroy(t *testing.T, e environment) {
	t.Helper()
	pctx, kill := context.WithCancel(context.Background())
	defer kill() // a failed check must not leave the process running
	// A poll of an hour: after its first look, destroy only waits.
	cmd := exec.CommandContext(pctx, shipBinary(t), "destroy", "--yes", "--manifest", e.manifest, "--poll", "1h", "--timeout", "2h")
	cmd.Env = e.environ()
	var errOut bytes.Buffer
	cmd.Stderr = &errOut
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	svc := stack.ServiceName(e.spec)
	draining := make(chan struct{})
	var out bytes.Buffer
	read := make(chan struct{})
	go func() {
		defer close(read)
		lines := bufio.NewScanner(stdout)
		seen := false
		for lines.Scan() {
			out.WriteString(lines.Text() + "\n")
			if !seen && strings.Contains(lines.Text(), "service "+svc+": DRAINING") {
				seen = true
				close(draining)
			}
		}
	}()
	exited := make(chan error, 1)
	go func() { <-read; exited <- cmd.Wait() }()
	select {
	case <-draining:
	case err := <-exited:
		t.Fatalf("ship destroy ended (%v) before it waited for service %s to drain\nstdout:\n%s\nstderr:\n%s", err, svc, out.String(), errOut.String())
	case <-time.After(60 * time.Second):
		t.Fatalf("ship destroy did not delete service %s within 60s\nstderr:\n%s", svc, errOut.String())
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case err = <-exited:
	case <-time.After(30 * time.Second):
		t.Fatalf("ship destroy still runs 30s after SIGINT\nstderr:\n%s", errOut.String())
	}
	var exit *exec.ExitError
	want := "ship: interrupted while service " + svc + " was being deleted; ECS goes on deleting it"
	if !errors.As(err, &exit) || exit.ExitCode() != deploy.ExitInterrupted || !strings.Contains(errOut.String(), want) {
		t.Errorf("ship destroy after SIGINT: %v, want exit 130 saying %q\nstdout:\n%s\nstderr:\n%s", err, want, out.String(), errOut.String())
	}
	ecsc := ecs.NewFromConfig(e.cfg)
	eventually(t, "service "+svc+" goes INACTIVE after destroy's SIGINT", 60*time.Second, func() bool {
		o, err := ecsc.DescribeServices(e.ctx, &ecs.DescribeServicesInput{Cluster: aws.String(stack.ClusterName(e.spec)), Services: []string{svc}})
		return err == nil && len(o.Services) == 1 && aws.ToString(o.Services[0].Status) == "INACTIVE"
	})
	if stdout, stderr, code := shipExec(t, e.environ(), "destroy", "--yes", "--manifest", e.manifest, "--poll", "100ms", "--timeout", "2m"); code != exitOK || !strings.Contains(stdout, "environment local destroyed") {
		t.Errorf("ship destroy after its SIGINT: exit %d, want 0 with the environment destroyed\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
}
