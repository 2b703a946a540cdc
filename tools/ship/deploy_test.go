package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shipyard-ecs/shipyard/platform/deploy"
)

// TestDeployBadInput: every mistake a person can make before anything
// changes is a usage or configuration error (exit 2) that says what to do.
func TestDeployBadInput(t *testing.T) {
	// A CloudFormation that has no stacks: the environment is not up yet.
	cfn := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`<ErrorResponse><Error><Type>Sender</Type><Code>ValidationError</Code><Message>Stack with id shipyard-local-environment does not exist</Message></Error><RequestId>1</RequestId></ErrorResponse>`))
	}))
	defer cfn.Close()
	t.Setenv("AWS_ENDPOINT_URL", cfn.URL)
	// No credentials anywhere for an AWS environment, and no instance
	// metadata to ask.
	empty := filepath.Join(t.TempDir(), "empty")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_SESSION_TOKEN": "", "AWS_PROFILE": "",
		"AWS_CONFIG_FILE": empty, "AWS_SHARED_CREDENTIALS_FILE": empty, "AWS_EC2_METADATA_DISABLED": "true", "AWS_CONTAINER_CREDENTIALS_FULL_URI": "",
		"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "", "AWS_WEB_IDENTITY_TOKEN_FILE": ""} {
		t.Setenv(k, v)
	}
	broken := writeManifest(t, "name: web\nenvironments:\n  local: {account: \"000000000000\", task: {cpu: 300}}\n")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"broken manifest", []string{"deploy", "--manifest", broken}, "cpu"},
		{"unknown environment", []string{"deploy", "--env", "staging", "--manifest", repoManifest}, "staging"},
		{"bad env var", []string{"deploy", "--env-var", "NOVALUE", "--manifest", repoManifest}, "KEY=VALUE"},
		{"bad output", []string{"deploy", "--output", "yaml", "--manifest", repoManifest}, "text or json"},
		{"bad timeout", []string{"status", "--timeout", "0s", "--manifest", repoManifest}, "positive"},
		{"bad rollback target", []string{"rollback", "--to", "yesterday", "--manifest", repoManifest}, "--to"},
		{"no lambda package there", []string{"up", "--lambda", "./nope", "--manifest", repoManifest}, "--lambda ./nope: no such directory"},
		{"no stack yet", []string{"deploy", "--manifest", repoManifest}, "run ship up first"},
		{"no stack for status", []string{"status", "--manifest", repoManifest}, "run ship up first"},
		{"no credentials", []string{"deploy", "--env", "production", "--manifest", repoManifest}, "--env local"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, stderr, code := shipIn(t.Context(), tt.args...)
			if code != exitUsage || !strings.Contains(stderr, tt.want) {
				t.Errorf("ship %v = exit %d, stderr %q; want exit %d saying %q", tt.args, code, stderr, exitUsage, tt.want)
			}
		})
	}
}

func TestPrinter(t *testing.T) {
	at := time.Date(2026, 11, 25, 18, 0, 0, 0, time.UTC)
	snap := func(stage string, bake time.Duration) deploy.Snapshot {
		return deploy.Snapshot{At: at, Status: "IN_PROGRESS", Stage: stage, BakeLeft: bake, Production: map[string]int{"blue": 0, "green": 100}}
	}
	seq := []deploy.Snapshot{
		snap("SCALE_UP", 0), snap("BAKE_TIME", 180*time.Second), snap("BAKE_TIME", 179*time.Second),
		snap("BAKE_TIME", 151*time.Second), snap("BAKE_TIME", 149*time.Second), snap("CLEAN_UP", 0),
	}
	var plain bytes.Buffer
	p := newPrinter(&plain, outputText)
	for _, s := range seq {
		p.snapshot(s)
	}
	got := strings.Split(strings.TrimSpace(plain.String()), "\n")
	want := []string{
		"18:00:00 IN_PROGRESS SCALE_UP | prod blue 0 green 100",
		"18:00:00 IN_PROGRESS BAKE_TIME | prod blue 0 green 100 | bake 3m0s left",
		"18:00:00 IN_PROGRESS BAKE_TIME | prod blue 0 green 100 | bake 2m59s left",
		"18:00:00 IN_PROGRESS BAKE_TIME | prod blue 0 green 100 | bake 2m29s left",
		"18:00:00 IN_PROGRESS CLEAN_UP | prod blue 0 green 100",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("plain progress =\n%s\nwant (the countdown every 30 s)\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	var js bytes.Buffer
	p = newPrinter(&js, outputJSON)
	p.snapshot(seq[1])
	p.outcome(deploy.Outcome{Arn: "arn:d", Status: "ROLLBACK_SUCCESSFUL", Class: deploy.ClassAlarm, TriggeredAlarms: []string{"web-5xx"}})
	lines := strings.Split(strings.TrimSpace(js.String()), "\n")
	var progress struct {
		Event, Stage string
		BakeLeft     time.Duration
	}
	var outcome struct {
		Event, Outcome  string
		TriggeredAlarms []string
		ExitCode        int
	}
	if len(lines) != 2 || json.Unmarshal([]byte(lines[0]), &progress) != nil || json.Unmarshal([]byte(lines[1]), &outcome) != nil {
		t.Fatalf("json progress = %q, want two JSON lines", js.String())
	}
	if progress.Event != "progress" || progress.Stage != "BAKE_TIME" || progress.BakeLeft != 180*time.Second {
		t.Errorf("json progress line = %+v, want the BAKE_TIME snapshot", progress)
	}
	if outcome.Event != "outcome" || outcome.Outcome != "rolled back by alarm" || outcome.ExitCode != deploy.ExitAlarm || len(outcome.TriggeredAlarms) != 1 {
		t.Errorf("json outcome line = %+v, want the alarm rollback with exit %d", outcome, deploy.ExitAlarm)
	}
}

func TestOnDockerHub(t *testing.T) {
	tests := []struct {
		ref  string
		want bool
	}{
		{"nope:1", true},
		{"library/nginx:1", true},
		{"docker.io/library/nginx:1", true},
		{"123456789012.dkr.ecr.us-east-1.amazonaws.com/shipyard-production:v1", false},
		{"127.0.0.1:4566/shipyard-local@sha256:aa", false},
		{"localhost/app:1", false},
		{"ghcr.io/acme/app:1", false},
	}
	for _, tt := range tests {
		if got := onDockerHub(tt.ref); got != tt.want {
			t.Errorf("onDockerHub(%q) = %v, want %v", tt.ref, got, tt.want)
		}
	}
}

func TestCheckMainPackage(t *testing.T) {
	root := filepath.Join("..", "..")
	tests := []struct {
		dir  string
		want string // "" for no error
	}{
		{"services/app", ""},
		{"lambdas/deploywatch", ""},
		{"nope", "--package nope: no such directory"},
		{"ship.yaml", "--package ship.yaml: no such directory"},
		{"platform", "--package platform: not a Go main package"},
		{"docs", "--package docs: not a Go main package"},
	}
	for _, tt := range tests {
		err := checkMainPackage("--package", tt.dir, filepath.Join(root, tt.dir))
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("checkMainPackage(%s) = %v, want nil", tt.dir, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want) || exitCode(err) != exitUsage):
			t.Errorf("checkMainPackage(%s) = %v (exit %d), want a usage error saying %q", tt.dir, err, exitCode(err), tt.want)
		}
	}
}
