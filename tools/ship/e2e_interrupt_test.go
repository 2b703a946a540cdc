package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/shipyard-ecs/shipyard/platform/deploy"
	"github.com/shipyard-ecs/shipyard/platform/stack"
)

// interruptDeploy continues TestEnvironmentLifecycle (issue #7, test 6,
// through a real signal): SIGINT to a ship deploy process in flight ends it
// with exit 130 saying how to re-attach, and the deployment goes on:
// ship status shows it in flight, a second deploy meanwhile refuses with 7,
// and ship status --watch follows it to SUCCESSFUL.
func interruptDeploy(t *testing.T, e environment) {
	t.Helper()
	ctx, cfg, spec, mpath, env := e.ctx, e.cfg, e.spec, e.manifest, e.environ()
	stdout, stderr, code := shipIn(ctx, "status", "--manifest", mpath, "--output", "json")
	var status serviceStatus
	if err := json.Unmarshal([]byte(stdout), &status); code != exitOK || err != nil || status.Image == "" {
		t.Fatalf("ship status --output json: exit %d, %v\nstdout:\n%s\nstderr:\n%s", code, err, stdout, stderr)
	}
	// Killed when the test ends early: a failed check must not leave the
	// process running (it ends on its own after the SIGINT below).
	pctx, kill := context.WithCancel(context.Background())
	defer kill()
	cmd := exec.CommandContext(pctx, shipBinary(t), "deploy", "--manifest", mpath, "--image", status.Image, "--env-var", "INTERRUPTED=1", "--poll", "100ms", "--timeout", "2m")
	cmd.Env = env
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	ecsc := ecs.NewFromConfig(cfg)
	eventually(t, "the deploy to interrupt is in flight", 60*time.Second, func() bool {
		o, err := ecsc.ListServiceDeployments(ctx, &ecs.ListServiceDeploymentsInput{Cluster: aws.String(stack.ClusterName(spec)), Service: aws.String(stack.ServiceName(spec)),
			Status: []ecstypes.ServiceDeploymentStatus{ecstypes.ServiceDeploymentStatusInProgress}})
		return err == nil && len(o.ServiceDeployments) > 0
	})
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	var err error
	select {
	case err = <-exited:
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("ship deploy still runs 30s after SIGINT\nstdout:\n%s\nstderr:\n%s", out.String(), errOut.String())
	}
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != deploy.ExitInterrupted || !strings.Contains(errOut.String(), "ship status --watch") {
		t.Errorf("ship deploy after SIGINT: %v, want exit 130 saying ship status --watch re-attaches\nstdout:\n%s\nstderr:\n%s", err, out.String(), errOut.String())
	}
	stdout, stderr, code = shipIn(ctx, "status", "--manifest", mpath)
	if code != exitOK || !strings.Contains(stdout, "deploying arn:") {
		t.Errorf("ship status after SIGINT: exit %d, want the deployment still in flight\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	if _, stderr, code := shipExec(t, env, "deploy", "--manifest", mpath, "--image", status.Image, "--env-var", "SECOND=1"); code != deploy.ExitInFlight || !strings.Contains(stderr, "ship rollback") {
		t.Errorf("a second ship deploy meanwhile: exit %d, stderr %q; want 7 saying how to watch or roll back the other", code, stderr)
	}
	stdout, stderr, code = shipIn(ctx, "status", "--watch", "--poll", "100ms", "--manifest", mpath)
	if code != exitOK || !strings.Contains(stdout, "SUCCEEDED: SUCCESSFUL") {
		t.Errorf("ship status --watch after SIGINT: exit %d, want the deployment followed to SUCCESSFUL\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
}
