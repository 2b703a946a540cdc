package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/shipyard-ecs/shipyard/platform"
	"github.com/shipyard-ecs/shipyard/platform/cfn"
	"github.com/shipyard-ecs/shipyard/platform/manifest"
	"github.com/shipyard-ecs/shipyard/platform/stack"
)

var repoManifest = filepath.Join("..", "..", "ship.yaml")

// ship runs the CLI with args and returns stdout, stderr and the exit code.
func ship(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), args, &stdout, &stderr)
	return stdout.String(), stderr.String(), exitCode(err)
}

func writeManifest(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ship.yaml")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestExitCodes(t *testing.T) {
	bad := writeManifest(t, "name: web\nenvironments:\n  dev:\n    account: \"111122223333\"\n    task: {cpu: 300}\n")
	tests := []struct {
		name string
		args []string
		want int
	}{
		{"help", []string{"--help"}, exitOK},
		{"bare", []string{}, exitOK},
		{"validate", []string{"validate", "--manifest", repoManifest}, exitOK},
		{"template", []string{"template", "--manifest", repoManifest}, exitOK},
		{"unknown command", []string{"deploy-everything"}, exitUsage},
		{"unknown flag", []string{"template", "--hue"}, exitUsage},
		{"stray argument", []string{"template", "production", "--manifest", repoManifest}, exitUsage},
		{"bad stack", []string{"template", "--stack", "network", "--manifest", repoManifest}, exitUsage},
		{"live bootstrap", []string{"template", "--stack", "bootstrap", "--live", "--manifest", repoManifest}, exitUsage},
		{"unknown environment", []string{"template", "--env", "staging", "--manifest", repoManifest}, exitUsage},
		{"missing manifest", []string{"validate", "--manifest", filepath.Join(t.TempDir(), "none.yaml")}, exitUsage},
		{"invalid manifest", []string{"validate", "--manifest", bad}, exitUsage},
		{"template of an invalid environment", []string{"template", "--env", "dev", "--manifest", bad}, exitUsage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, stderr, code := ship(t, tt.args...); code != tt.want {
				t.Errorf("ship %v exit code = %d, want %d (stderr %q)", tt.args, code, tt.want, stderr)
			}
		})
	}
}

func TestCompletion(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"__complete", "template", "--manifest", repoManifest, "--env", ""}, "local\nproduction\n"},
		{[]string{"__complete", "template", "--stack", ""}, "bootstrap\nenvironment\n"},
	}
	for _, tt := range tests {
		stdout, stderr, code := ship(t, tt.args...)
		if code != exitOK || !strings.HasPrefix(stdout, tt.want) {
			t.Errorf("ship %v = %q (exit %d, %s), want completions %q", tt.args, stdout, code, stderr, tt.want)
		}
	}
	if stdout, _, _ := ship(t, "completion", "bash"); !strings.Contains(stdout, "bash completion") {
		t.Errorf("ship completion bash printed no bash completion script")
	}
}

// TestHelpAndCompletionEverywhere: every command of ship's own has
// examples in its --help, and every command that takes --env completes the
// manifest's environment names.
func TestHelpAndCompletionEverywhere(t *testing.T) {
	a := &app{stdout: io.Discard, stderr: io.Discard, getenv: func(string) string { return "" }}
	var walk func(*cobra.Command)
	walk = func(cmd *cobra.Command) {
		for _, c := range cmd.Commands() {
			walk(c)
		}
		if cmd.Name() == "help" || cmd.Name() == "completion" || cmd.Parent() != nil && cmd.Parent().Name() == "completion" || !cmd.Runnable() {
			return // cobra's own
		}
		path := strings.Fields(cmd.CommandPath())[1:]
		stdout, _, code := ship(t, append(path, "--help")...)
		if code != exitOK || !strings.Contains(stdout, "Examples:\n  ship "+strings.Join(path, " ")) {
			t.Errorf("ship %s --help: exit %d, want examples of it:\n%s", strings.Join(path, " "), code, stdout)
		}
		if cmd.Flags().Lookup("env") == nil {
			return
		}
		args := append(append([]string{"__complete"}, path...), "--manifest", repoManifest, "--env", "")
		if stdout, stderr, code := ship(t, args...); code != exitOK || !strings.HasPrefix(stdout, "local\nproduction\n") {
			t.Errorf("ship %v = %q (exit %d, %s), want the environments local and production", args, stdout, code, stderr)
		}
	}
	walk(a.rootCommand())
}

func TestValidatePrintsEveryProblem(t *testing.T) {
	path := writeManifest(t, `name: web
task:
  cpus: 256
environments:
  dev:
    account: "1234"
  prod:
    account: "111122223333"
    deployment: {bakeTimeInMinutes: 5000}
`)
	stdout, _, code := ship(t, "validate", "--manifest", path)
	if code != exitUsage {
		t.Errorf("validate exit code = %d, want %d", code, exitUsage)
	}
	// The unknown key stops parsing before values are checked: one problem.
	if want := path + ":3:3: task.cpus: is not a known key"; !strings.HasPrefix(stdout, want) {
		t.Errorf("validate output = %q, want it to start with %q", stdout, want)
	}

	path = writeManifest(t, `name: web
environments:
  dev:
    account: "1234"
  prod:
    account: "111122223333"
    deployment: {bakeTimeInMinutes: 5000}
    healthCheck: {healthyThreshold: 1}
`)
	stdout, _, _ = ship(t, "validate", "--manifest", path)
	for _, want := range []string{
		":4:14: environments.dev.account:",
		":7:37: environments.prod.deployment.bakeTimeInMinutes: 5000 is out of range; want 0 to 1440",
		":8:37: environments.prod.healthCheck.healthyThreshold: 1 is out of range; want 2 to 10",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("validate output = %q, want it to contain %q", stdout, want)
		}
	}
	stdout, _, code = ship(t, "validate", "--env", "prod", "--manifest", path)
	if code != exitUsage || strings.Contains(stdout, "environments.dev") {
		t.Errorf("validate --env prod = %d, %q; want exit 2 and only prod's problems", code, stdout)
	}
}

// TestTemplateOffline checks the printed templates are the renderer's, and
// valid.
func TestTemplateOffline(t *testing.T) {
	m, err := manifest.Load(repoManifest)
	if err != nil {
		t.Fatal(err)
	}
	for _, env := range m.Environments() {
		spec, err := m.Spec(env)
		if err != nil {
			t.Fatal(err)
		}
		boot, _ := stack.Bootstrap(spec)
		envStack, _ := stack.Environment(spec, stack.Inputs{})
		for which, st := range map[string]*stack.Stack{"bootstrap": boot, "environment": envStack} {
			want, _ := st.JSON()
			got, stderr, code := ship(t, "template", "--env", env, "--stack", which, "--manifest", repoManifest)
			if code != exitOK {
				t.Fatalf("template --env %s --stack %s = exit %d, %s", env, which, code, stderr)
			}
			if got != string(want) {
				t.Errorf("template --env %s --stack %s printed something other than the rendered stack", env, which)
			}
			if err := cfn.Check([]byte(got)); err != nil {
				t.Errorf("template --env %s --stack %s: Check = %v", env, which, err)
			}
		}
	}
}

type fakeReader struct {
	live stack.Live
	err  error
}

func (f fakeReader) Read(context.Context, string) (stack.Live, error) { return f.live, f.err }

func TestTemplateLive(t *testing.T) {
	m, _ := manifest.Load(repoManifest)
	spec, _ := m.Spec("production")
	a := &app{stdout: io.Discard, stderr: io.Discard, logger: slog.New(slog.NewTextHandler(io.Discard, nil))}

	var out bytes.Buffer
	a.stdout = &out
	flipped := stack.Weights{Blue: 0, Green: 100}
	if err := a.template(context.Background(), spec, "environment", fakeReader{live: stack.Live{Production: &flipped}}); err != nil {
		t.Fatalf("template with live weights = %v", err)
	}
	if got := ruleWeights(t, out.Bytes(), stack.LogicalProductionRule); got != "0/100" {
		t.Errorf("template --live production rule weights = %s, want the live 0/100", got)
	}

	a.stdout = io.Discard
	err := a.template(context.Background(), spec, "environment", fakeReader{err: errors.New("AccessDenied")})
	if err == nil || exitCode(err) != exitFailed || !strings.Contains(err.Error(), "AccessDenied") {
		t.Errorf("template with a failing reader = %v (exit %d), want the error with exit 1", err, exitCode(err))
	}
}

// TestTemplateLiveThroughAWS drives --live end to end: the real SDK
// configuration, reached through AWS_ENDPOINT_URL as with the local cloud.
func TestTemplateLiveThroughAWS(t *testing.T) {
	const (
		blue  = "arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup/b/1"
		green = "arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup/g/2"
		rule  = "arn:aws:elasticloadbalancing:us-east-1:000000000000:listener-rule/app/x/y/z/1"
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		w.Header().Set("Content-Type", "text/xml")
		switch r.Form.Get("Action") {
		case "DescribeStackResources":
			fmt.Fprintf(w, `<DescribeStackResourcesResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><DescribeStackResourcesResult><StackResources>
<member><LogicalResourceId>BlueTargetGroup</LogicalResourceId><PhysicalResourceId>%s</PhysicalResourceId><ResourceType>t</ResourceType><ResourceStatus>CREATE_COMPLETE</ResourceStatus><Timestamp>2026-11-25T10:00:00Z</Timestamp></member>
<member><LogicalResourceId>GreenTargetGroup</LogicalResourceId><PhysicalResourceId>%s</PhysicalResourceId><ResourceType>t</ResourceType><ResourceStatus>CREATE_COMPLETE</ResourceStatus><Timestamp>2026-11-25T10:00:00Z</Timestamp></member>
<member><LogicalResourceId>ProductionListenerRule</LogicalResourceId><PhysicalResourceId>%s</PhysicalResourceId><ResourceType>t</ResourceType><ResourceStatus>CREATE_COMPLETE</ResourceStatus><Timestamp>2026-11-25T10:00:00Z</Timestamp></member>
</StackResources></DescribeStackResourcesResult></DescribeStackResourcesResponse>`, blue, green, rule)
		case "DescribeRules":
			fmt.Fprintf(w, `<DescribeRulesResponse xmlns="http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/"><DescribeRulesResult><Rules><member><RuleArn>%s</RuleArn><Actions><member><Type>forward</Type><ForwardConfig><TargetGroups>
<member><TargetGroupArn>%s</TargetGroupArn><Weight>0</Weight></member><member><TargetGroupArn>%s</TargetGroupArn><Weight>100</Weight></member>
</TargetGroups></ForwardConfig></member></Actions></member></Rules></DescribeRulesResult></DescribeRulesResponse>`, rule, blue, green)
		default:
			http.Error(w, "unexpected "+r.Form.Get("Action"), http.StatusBadRequest)
		}
	}))
	defer srv.Close()
	t.Setenv("AWS_ENDPOINT_URL", srv.URL)
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")

	// production: the environment with a test listener (local has none).
	stdout, stderr, code := ship(t, "template", "--live", "--env", "production", "--manifest", repoManifest)
	if code != exitOK {
		t.Fatalf("template --live = exit %d: %s", code, stderr)
	}
	if got := ruleWeights(t, []byte(stdout), stack.LogicalProductionRule); got != "0/100" {
		t.Errorf("template --live production rule weights = %s, want the live 0/100", got)
	}
	// The test rule does not exist in this stack yet: it starts at 100/0.
	if got := ruleWeights(t, []byte(stdout), stack.LogicalTestRule); got != "100/0" {
		t.Errorf("template --live test rule weights = %s, want the initial 100/0", got)
	}
}

// ruleWeights reads "blue/green" weights of a rule from a template.
func ruleWeights(t *testing.T, doc []byte, rule string) string {
	t.Helper()
	var tmpl struct {
		Resources map[string]struct {
			Properties struct {
				Actions []struct {
					ForwardConfig struct {
						TargetGroups []struct {
							TargetGroupArn map[string]string
							Weight         int
						}
					}
				}
			}
		}
	}
	if err := json.Unmarshal(doc, &tmpl); err != nil {
		t.Fatalf("parse template: %v", err)
	}
	r, ok := tmpl.Resources[rule]
	if !ok || len(r.Properties.Actions) == 0 {
		t.Fatalf("template has no rule %s with actions", rule)
	}
	w := map[string]int{}
	for _, tg := range r.Properties.Actions[0].ForwardConfig.TargetGroups {
		w[tg.TargetGroupArn["Ref"]] = tg.Weight
	}
	return fmt.Sprintf("%d/%d", w[stack.LogicalBlueTargetGroup], w[stack.LogicalGreenTargetGroup])
}

// TestServiceURL: on a local cloud ship runs, the URL is the listener's
// loopback port; on a local cloud of one's own (AWS_ENDPOINT_URL) it is the
// stack's DNS name, with a note on how to reach it; elsewhere the stack's.
func TestServiceURL(t *testing.T) {
	const dns = "http://shipyard-local-1.us-east-1.elb.amazonaws.com:80"
	outs := stack.Outputs{stack.OutputServiceURL: dns}
	local, prod := platform.Spec{Env: localEnv}, platform.Spec{Env: "production"}
	local.LoadBalancer.ListenerPort, prod.LoadBalancer.ListenerPort = 80, 80
	tests := []struct {
		name     string
		t        target
		url      string
		withNote bool
	}{
		{"local cloud ship runs", target{spec: local, outputs: outs, local: &localState{PortOffset: 8000}}, "http://127.0.0.1:8080", false},
		{"own local cloud", target{spec: local, outputs: outs}, dns, true},
		{"AWS", target{spec: prod, outputs: outs}, dns, false},
	}
	for _, tt := range tests {
		url, note := tt.t.serviceURL(), tt.t.urlNote()
		if url != tt.url || (note != "") != tt.withNote || tt.withNote && !strings.Contains(note, "VPC proxy") {
			t.Errorf("%s: serviceURL() = %q, urlNote() = %q; want %q with a note %v", tt.name, url, note, tt.url, tt.withNote)
		}
	}
}
