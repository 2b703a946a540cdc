package lambda_test

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/lambda"
)

// scriptZip is a function whose bootstrap only publishes its Runtime API
// address, so the test can play the runtime over raw HTTP.
func scriptZip(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	h := &zip.FileHeader{Name: "bootstrap", Method: zip.Store}
	h.SetMode(0o755)
	w, err := zw.CreateHeader(h)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(w, "#!/bin/sh\nprintf '%s' \"$AWS_LAMBDA_RUNTIME_API\" > \"$API_FILE.tmp\" && mv \"$API_FILE.tmp\" \"$API_FILE\"\nexec sleep 120\n"); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

type invokeResult struct {
	out []byte
	err error
}

// TestRuntimeAPIConformance drives the Runtime API as a runtime would, and
// checks the answers against the shapes the AWS Lambda Runtime Interface
// Emulator (github.com/aws/aws-lambda-runtime-interface-emulator,
// internal/lambda/rapi) renders: routes under /2018-06-01/runtime, 200 with
// the Lambda-Runtime-* headers for next, 202 {"status":"OK"} for answers,
// 400 InvalidRequestID for an unknown id, 403 InvalidStateTransition for an
// invocation answered twice.
func TestRuntimeAPIConformance(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	apiFile := filepath.Join(t.TempDir(), "api")
	out, err := e.client.CreateFunction(ctx, &awslambda.CreateFunctionInput{
		FunctionName: aws.String("manual"), Runtime: types.RuntimeProvidedal2023, Role: aws.String(role),
		Code: &types.FunctionCode{ZipFile: scriptZip(t)}, Timeout: aws.Int32(30),
		Environment: &types.Environment{Variables: map[string]string{"API_FILE": apiFile}},
	})
	if err != nil {
		t.Fatalf("CreateFunction: %v", err)
	}
	arn := aws.ToString(out.FunctionArn)
	invoke := func(payload string) chan invokeResult {
		c := make(chan invokeResult, 1)
		go func() {
			out, err := e.b.Invoke(ctx, "manual", []byte(payload))
			c <- invokeResult{out, err}
		}()
		return c
	}
	first := invoke(`{"q":1}`)
	var api string
	waitFor(t, 10*time.Second, "the bootstrap to publish AWS_LAMBDA_RUNTIME_API", func() bool {
		b, _ := os.ReadFile(apiFile)
		api = string(b)
		return api != ""
	})
	base := "http://" + api + "/2018-06-01/runtime/"
	call := func(method, path, body string, header ...string) (int, http.Header, string) {
		t.Helper()
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatalf("%s %s: read body: %v", method, path, err)
		}
		return resp.StatusCode, resp.Header, string(b)
	}
	next := func() (string, http.Header) {
		t.Helper()
		status, h, body := call(http.MethodGet, "invocation/next", "")
		if status != http.StatusOK {
			t.Fatalf("GET invocation/next = %d %s, want 200", status, body)
		}
		return body, h
	}

	before := time.Now()
	body, h := next()
	id := h.Get("Lambda-Runtime-Aws-Request-Id")
	deadline, _ := strconv.ParseInt(h.Get("Lambda-Runtime-Deadline-Ms"), 10, 64)
	if body != `{"q":1}` || id == "" || h.Get("Lambda-Runtime-Invoked-Function-Arn") != arn || h.Get("Lambda-Runtime-Trace-Id") == "" || h.Get("Content-Type") != "application/json" {
		t.Errorf("next = %s with headers %v, want the payload, a request id, the function ARN, a trace id, application/json", body, h)
	}
	if d := time.UnixMilli(deadline).Sub(before); d <= 25*time.Second || d > 31*time.Second {
		t.Errorf("Lambda-Runtime-Deadline-Ms is %v after the invoke, want the 30 s timeout", d)
	}

	tests := []struct {
		name, path, body string
		wantStatus       int
		wantBody         string
	}{
		{"unknown request id", "invocation/not-" + id + "/response", `{}`, http.StatusBadRequest, `{"errorMessage":"Invalid request ID","errorType":"InvalidRequestID"}`},
		{"response", "invocation/" + id + "/response", `{"ok":true}`, http.StatusAccepted, `{"status":"OK"}`},
		{"second response", "invocation/" + id + "/response", `{"ok":false}`, http.StatusForbidden, `"errorType":"InvalidStateTransition"`},
	}
	for _, tt := range tests {
		status, _, got := call(http.MethodPost, tt.path, tt.body)
		if status != tt.wantStatus || !strings.Contains(got, tt.wantBody) {
			t.Errorf("%s: POST %s = %d %s, want %d %s", tt.name, tt.path, status, got, tt.wantStatus, tt.wantBody)
		}
	}
	if r := <-first; r.err != nil || string(r.out) != `{"ok":true}` {
		t.Errorf("Invoke = %s, %v; want the runtime's response", r.out, r.err)
	}

	second := invoke(`{"q":2}`)
	_, h = next()
	status, _, got := call(http.MethodPost, "invocation/"+h.Get("Lambda-Runtime-Aws-Request-Id")+"/error",
		`{"errorMessage":"boom","errorType":"Custom"}`, "Lambda-Runtime-Function-Error-Type", "Custom")
	if status != http.StatusAccepted || got != `{"status":"OK"}` {
		t.Errorf("POST error = %d %s, want 202 {\"status\":\"OK\"}", status, got)
	}
	r := <-second
	var fe *lambda.FunctionError
	if !errors.As(r.err, &fe) || !strings.Contains(string(fe.Payload), `"errorMessage":"boom"`) {
		t.Errorf("Invoke after /error = %s, %v; want a FunctionError with the runtime's error", r.out, r.err)
	}

	third := invoke(`{"q":3}`)
	next()
	status, _, got = call(http.MethodPost, "init/error", `{"errorMessage":"cannot init","errorType":"Runtime.Init"}`, "Lambda-Runtime-Function-Error-Type", "Runtime.Init")
	if status != http.StatusAccepted || got != `{"status":"OK"}` {
		t.Errorf("POST init/error = %d %s, want 202", status, got)
	}
	r = <-third
	if !errors.As(r.err, &fe) || !strings.Contains(string(fe.Payload), "cannot init") {
		t.Errorf("Invoke during an init error = %s, %v; want a FunctionError with the init error", r.out, r.err)
	}
	var p map[string]string
	if fe != nil && json.Unmarshal(fe.Payload, &p) != nil {
		t.Errorf("init error payload %s is not JSON", fe.Payload)
	}
}

func TestInvalidEntrypoint(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	zipOf := func(name string, mode os.FileMode, content string) []byte {
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		h := &zip.FileHeader{Name: name, Method: zip.Store}
		h.SetMode(mode)
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(w, content); err != nil {
			t.Fatal(err)
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	tests := []struct {
		name     string
		zip      []byte
		wantText string
	}{
		{"no bootstrap", zipOf("main", 0o755, "#!/bin/sh\n"), "no such file"},
		{"not executable", zipOf("bootstrap", 0o644, "#!/bin/sh\nexit 0\n"), "permission denied"},
		{"not a program for this machine", zipOf("bootstrap", 0o755, "\x7fELF garbage"), "exec format error"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := fmt.Sprintf("entry%d", i)
			if _, err := e.client.CreateFunction(ctx, &awslambda.CreateFunctionInput{FunctionName: aws.String(name), Runtime: types.RuntimeProvidedal2023, Role: aws.String(role), Code: &types.FunctionCode{ZipFile: tt.zip}}); err != nil {
				t.Fatalf("CreateFunction: %v", err)
			}
			out, err := e.client.Invoke(ctx, &awslambda.InvokeInput{FunctionName: aws.String(name)})
			if err != nil {
				t.Fatalf("Invoke: %v", err)
			}
			var p struct{ ErrorType, ErrorMessage string }
			if err := json.Unmarshal(out.Payload, &p); err != nil {
				t.Fatalf("Invoke payload %s: %v", out.Payload, err)
			}
			if aws.ToString(out.FunctionError) != "Unhandled" || p.ErrorType != "Runtime.InvalidEntrypoint" || !strings.Contains(p.ErrorMessage, tt.wantText) {
				t.Errorf("Invoke = %s %s, want Unhandled Runtime.InvalidEntrypoint mentioning %q", aws.ToString(out.FunctionError), out.Payload, tt.wantText)
			}
		})
	}
}
