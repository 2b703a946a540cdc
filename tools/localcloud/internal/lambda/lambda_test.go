package lambda_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/smithy-go"

	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/awsproto/awsprototest"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/clock"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/ecs"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/lambda"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/lambda/lambdatest"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/state"
)

var (
	ctx = context.Background()
	// testZip deploys the test function as provided.al2023, goZip as go1.x.
	testZip, goZip []byte
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "lambda-testfn-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	exe, took, err := lambdatest.Build(dir)
	if err == nil {
		testZip, err = lambdatest.Zip(exe, "bootstrap")
	}
	if err == nil {
		goZip, err = lambdatest.Zip(exe, "handler")
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "built the test function in %v\n", took.Round(time.Millisecond))
	// Functions must not inherit localcloud's environment.
	os.Setenv("HOME_LEAK", "1")
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// logSink collects function output as the Logs backend would.
type logSink struct {
	mu    sync.Mutex
	lines map[string][]string // by group
}

func (s *logSink) Append(_ context.Context, group, stream string, _ time.Time, msg string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lines == nil {
		s.lines = map[string][]string{}
	}
	s.lines[group] = append(s.lines[group], msg)
	return nil
}

func (s *logSink) text(group string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Join(s.lines[group], "\n")
}

// objects stands in for the S3 backend: function code by bucket/key.
type objects map[string][]byte

func (o objects) GetObject(_ context.Context, bucket, key string) ([]byte, error) {
	b, ok := o[bucket+"/"+key]
	if !ok {
		return nil, fmt.Errorf("The specified key does not exist: %s/%s", bucket, key)
	}
	return b, nil
}

type env struct {
	b      *lambda.Backend
	client *awslambda.Client
	url    string
	logs   *logSink
	store  state.Store
}

// newEnv serves a Lambda backend to an SDK client over HTTP; configure
// changes the backend's Config before it is made.
func newEnv(t *testing.T, configure ...func(*lambda.Config)) *env {
	t.Helper()
	e := &env{logs: &logSink{}, store: state.Store{Dir: t.TempDir()}}
	cfg := lambda.Config{
		Clock: clock.New(0.01), Store: e.store, CodeDir: filepath.Join(e.store.Dir, "lambda"), Logs: e.logs,
		S3: objects{"code/bootstrap.zip": testZip, "code/handler.zip": goZip},
	}
	for _, c := range configure {
		c(&cfg)
	}
	b, err := lambda.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	ep := awsprototest.Serve(t, b.Register)
	b.SetEndpoint(ep)
	e.b, e.url = b, ep
	e.client = awslambda.NewFromConfig(awsprototest.Config(ep))
	return e
}

const role = "arn:aws:iam::000000000000:role/fn"

// s3Code points CreateFunction at the code in the fake S3: most tests take
// this path, because base64 for megabytes of inline zip costs seconds under
// the race detector. TestInvokeRunsTheFunctionAsAProcess uploads inline.
func s3Code(key string) *types.FunctionCode {
	return &types.FunctionCode{S3Bucket: aws.String("code"), S3Key: aws.String(key)}
}

func (e *env) create(t *testing.T, name string, vars map[string]string, mutate ...func(*awslambda.CreateFunctionInput)) *awslambda.CreateFunctionOutput {
	t.Helper()
	in := &awslambda.CreateFunctionInput{
		FunctionName: aws.String(name), Runtime: types.RuntimeProvidedal2023, Role: aws.String(role), Handler: aws.String("bootstrap"),
		Code: s3Code("bootstrap.zip"), Timeout: aws.Int32(10),
	}
	if vars != nil {
		in.Environment = &types.Environment{Variables: vars}
	}
	for _, m := range mutate {
		m(in)
	}
	start := time.Now()
	out, err := e.client.CreateFunction(ctx, in)
	if err != nil {
		t.Fatalf("CreateFunction(%s): %v", name, err)
	}
	t.Logf("CreateFunction(%s) took %v", name, time.Since(start).Round(time.Millisecond))
	return out
}

type echo struct {
	Received     json.RawMessage   `json:"received"`
	FunctionName string            `json:"functionName"`
	FunctionArn  string            `json:"functionArn"`
	RequestID    string            `json:"requestId"`
	Env          map[string]string `json:"env"`
	PID          int               `json:"pid"`
}

func (e *env) invoke(t *testing.T, name, payload string) (*awslambda.InvokeOutput, echo) {
	t.Helper()
	out, err := e.client.Invoke(ctx, &awslambda.InvokeInput{FunctionName: aws.String(name), Payload: []byte(payload)})
	if err != nil {
		t.Fatalf("Invoke(%s, %s): %v", name, payload, err)
	}
	var got echo
	if out.FunctionError == nil {
		if err := json.Unmarshal(out.Payload, &got); err != nil {
			t.Fatalf("Invoke(%s) payload %s: %v", name, out.Payload, err)
		}
	}
	return out, got
}

func TestInvokeRunsTheFunctionAsAProcess(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	created := e.create(t, "echo", map[string]string{"GREETING": "hello"}, func(in *awslambda.CreateFunctionInput) {
		in.Code = &types.FunctionCode{ZipFile: testZip}
	})
	if got, want := aws.ToString(created.FunctionArn), "arn:aws:lambda:us-east-1:000000000000:function:echo"; got != want {
		t.Errorf("CreateFunction FunctionArn = %s, want %s", got, want)
	}
	if created.State != types.StateActive || aws.ToInt32(created.MemorySize) != 128 || aws.ToString(created.CodeSha256) == "" {
		t.Errorf("CreateFunction = state %s memory %d sha %q, want Active, 128, a sha", created.State, aws.ToInt32(created.MemorySize), aws.ToString(created.CodeSha256))
	}
	start := time.Now()
	out, got := e.invoke(t, "echo", `{"hello":"world"}`)
	t.Logf("cold invoke took %v", time.Since(start).Round(time.Millisecond))
	if out.StatusCode != http.StatusOK || out.FunctionError != nil {
		t.Fatalf("Invoke = status %d error %v, want 200 and no function error", out.StatusCode, aws.ToString(out.FunctionError))
	}
	if string(got.Received) != `{"hello":"world"}` {
		t.Errorf("Invoke received %s, want the payload", got.Received)
	}
	wantEnv := map[string]string{
		"AWS_ENDPOINT_URL": e.url, "AWS_REGION": "us-east-1", "AWS_LAMBDA_FUNCTION_NAME": "echo",
		"_HANDLER": "bootstrap", "GREETING": "hello", "AWS_ACCESS_KEY_ID": "test",
	}
	for k, want := range wantEnv {
		if got.Env[k] != want {
			t.Errorf("function env %s = %q, want %q", k, got.Env[k], want)
		}
	}
	if _, leaked := got.Env["HOME_LEAK"]; leaked {
		t.Errorf("function env has HOME_LEAK from localcloud's own environment")
	}
	if got.FunctionArn != aws.ToString(created.FunctionArn) || got.RequestID == "" || got.FunctionName != "echo" {
		t.Errorf("function context = arn %q request %q name %q, want the function's ARN, a request id, echo", got.FunctionArn, got.RequestID, got.FunctionName)
	}
	_, again := e.invoke(t, "echo", `{}`)
	if again.PID != got.PID {
		t.Errorf("second invoke ran in pid %d, want the warm instance %d", again.PID, got.PID)
	}
	tail, err := e.client.Invoke(ctx, &awslambda.InvokeInput{FunctionName: aws.String("echo"), LogType: types.LogTypeTail, Payload: []byte(`{"action":"print","text":"hello from the function"}`)})
	if err != nil {
		t.Fatalf("Invoke(LogType Tail): %v", err)
	}
	logResult, err := base64.StdEncoding.DecodeString(aws.ToString(tail.LogResult))
	if err != nil {
		t.Fatalf("LogResult %q: %v", aws.ToString(tail.LogResult), err)
	}
	for _, want := range []string{"START RequestId:", "REPORT RequestId:"} {
		if !strings.Contains(string(logResult), want) {
			t.Errorf("Invoke(LogType Tail) LogResult = %q, want it to contain %q", logResult, want)
		}
	}
	waitFor(t, 5*time.Second, "the function's output in its log group", func() bool {
		return strings.Contains(e.logs.text("/aws/lambda/echo"), "hello from the function")
	})
	logs := e.logs.text("/aws/lambda/echo")
	for _, want := range []string{"START RequestId: " + got.RequestID, "END RequestId: " + got.RequestID, "REPORT RequestId: " + got.RequestID} {
		if !strings.Contains(logs, want) {
			t.Errorf("log group /aws/lambda/echo lacks %q:\n%s", want, logs)
		}
	}
}

func TestInvokeFailures(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.create(t, "failing", nil, func(in *awslambda.CreateFunctionInput) { in.Timeout = aws.Int32(1) })
	tests := []struct {
		name, payload, wantType, wantMessage string
	}{
		{"handler error", `{"action":"fail"}`, "errorString", "asked to fail"},
		{"process exits", `{"action":"exit"}`, "Runtime.ExitError", "exit status 3"},
		{"timeout", `{"action":"sleep","ms":5000}`, "Sandbox.Timedout", "Task timed out after 1.00 seconds"},
	}
	for _, tt := range tests {
		// Not parallel: one function, one instance, and each failure must be
		// followed by a working invoke.
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			out, _ := e.invoke(t, "failing", tt.payload)
			t.Logf("%s answered in %v", tt.name, time.Since(start).Round(time.Millisecond))
			if aws.ToString(out.FunctionError) != "Unhandled" || out.StatusCode != http.StatusOK {
				t.Fatalf("Invoke(%s) = status %d FunctionError %q, want 200 Unhandled", tt.payload, out.StatusCode, aws.ToString(out.FunctionError))
			}
			var p struct{ ErrorType, ErrorMessage string }
			if err := json.Unmarshal(out.Payload, &p); err != nil {
				t.Fatalf("error payload %s: %v", out.Payload, err)
			}
			if p.ErrorType != tt.wantType || !strings.Contains(p.ErrorMessage, tt.wantMessage) {
				t.Errorf("Invoke(%s) error = %s %q, want %s containing %q", tt.payload, p.ErrorType, p.ErrorMessage, tt.wantType, tt.wantMessage)
			}
			if out, _ := e.invoke(t, "failing", `{}`); out.FunctionError != nil {
				t.Errorf("Invoke after %s = %s, want a working function", tt.name, out.Payload)
			}
		})
	}
}

func TestInvokeGoHandlerRuntime(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.create(t, "gofn", nil, func(in *awslambda.CreateFunctionInput) {
		in.Runtime, in.Handler, in.Code = types.RuntimeGo1x, aws.String("handler"), s3Code("handler.zip")
	})
	out, got := e.invoke(t, "gofn", `{"x":1}`)
	if out.FunctionError != nil || string(got.Received) != `{"x":1}` || got.Env["_HANDLER"] != "handler" {
		t.Errorf("Invoke(go1.x) = %s, want the echo with _HANDLER=handler", out.Payload)
	}
}

func TestInvokeEventRunsInBackground(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	record := filepath.Join(t.TempDir(), "events.jsonl")
	e.create(t, "async", map[string]string{"RECORD_FILE": record})
	out, err := e.client.Invoke(ctx, &awslambda.InvokeInput{FunctionName: aws.String("async"), InvocationType: types.InvocationTypeEvent, Payload: []byte(`{"n":1}`)})
	if err != nil || out.StatusCode != http.StatusAccepted {
		t.Fatalf("Invoke(Event) = %v, %v; want 202", out, err)
	}
	waitFor(t, 20*time.Second, "the event invocation to run", func() bool {
		b, _ := os.ReadFile(record)
		return strings.Contains(string(b), `{"n":1}`)
	})
	out, err = e.client.Invoke(ctx, &awslambda.InvokeInput{FunctionName: aws.String("async"), InvocationType: types.InvocationTypeDryRun})
	if err != nil || out.StatusCode != http.StatusNoContent {
		t.Errorf("Invoke(DryRun) = %v, %v; want 204", out, err)
	}
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestUpdatesRestartTheInstance(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.create(t, "upd", map[string]string{"GREETING": "one"})
	_, first := e.invoke(t, "upd", `{}`)
	cfg, err := e.client.UpdateFunctionConfiguration(ctx, &awslambda.UpdateFunctionConfigurationInput{
		FunctionName: aws.String("upd"), Environment: &types.Environment{Variables: map[string]string{"GREETING": "two"}}, Timeout: aws.Int32(5),
	})
	if err != nil {
		t.Fatalf("UpdateFunctionConfiguration: %v", err)
	}
	if aws.ToInt32(cfg.Timeout) != 5 || cfg.Environment.Variables["GREETING"] != "two" {
		t.Errorf("UpdateFunctionConfiguration = timeout %d env %v, want 5 and GREETING=two", aws.ToInt32(cfg.Timeout), cfg.Environment.Variables)
	}
	_, second := e.invoke(t, "upd", `{}`)
	if second.Env["GREETING"] != "two" || second.PID == first.PID {
		t.Errorf("after the update the function saw GREETING=%q in pid %d, want two in a new process (was %d)", second.Env["GREETING"], second.PID, first.PID)
	}
	code, err := e.client.UpdateFunctionCode(ctx, &awslambda.UpdateFunctionCodeInput{FunctionName: aws.String("upd"), S3Bucket: aws.String("code"), S3Key: aws.String("bootstrap.zip")})
	if err != nil {
		t.Fatalf("UpdateFunctionCode: %v", err)
	}
	if aws.ToString(code.RevisionId) == aws.ToString(cfg.RevisionId) {
		t.Errorf("UpdateFunctionCode kept RevisionId %s, want a new one", aws.ToString(code.RevisionId))
	}
	got, err := e.client.GetFunction(ctx, &awslambda.GetFunctionInput{FunctionName: aws.String("arn:aws:lambda:us-east-1:000000000000:function:upd")})
	if err != nil {
		t.Fatalf("GetFunction by ARN: %v", err)
	}
	if aws.ToString(got.Configuration.CodeSha256) != aws.ToString(code.CodeSha256) || aws.ToString(got.Code.RepositoryType) != "S3" {
		t.Errorf("GetFunction = sha %s repo %s, want %s and S3", aws.ToString(got.Configuration.CodeSha256), aws.ToString(got.Code.RepositoryType), aws.ToString(code.CodeSha256))
	}
	resp, err := http.Get(aws.ToString(got.Code.Location))
	if err != nil {
		t.Fatalf("GET code location: %v", err)
	}
	defer resp.Body.Close()
	var body bytes.Buffer
	if _, err := body.ReadFrom(resp.Body); err != nil {
		t.Fatalf("read code location: %v", err)
	}
	if resp.StatusCode != http.StatusOK || !bytes.Equal(body.Bytes(), testZip) {
		t.Errorf("GET Code.Location = %d, %d bytes; want 200 and the zip (%d bytes)", resp.StatusCode, body.Len(), len(testZip))
	}
}

func TestAPIErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.create(t, "exists", nil)
	tests := []struct {
		name     string
		call     func() error
		wantCode string
		wantAs   any
	}{
		{"get missing", func() error {
			_, err := e.client.GetFunction(ctx, &awslambda.GetFunctionInput{FunctionName: aws.String("nope")})
			return err
		}, "ResourceNotFoundException", new(*types.ResourceNotFoundException)},
		{"invoke missing", func() error {
			_, err := e.client.Invoke(ctx, &awslambda.InvokeInput{FunctionName: aws.String("nope")})
			return err
		}, "ResourceNotFoundException", new(*types.ResourceNotFoundException)},
		{"create duplicate", func() error {
			_, err := e.client.CreateFunction(ctx, &awslambda.CreateFunctionInput{FunctionName: aws.String("exists"), Runtime: types.RuntimeProvidedal2023, Role: aws.String(role), Code: s3Code("bootstrap.zip")})
			return err
		}, "ResourceConflictException", new(*types.ResourceConflictException)},
		{"create bad zip", func() error {
			_, err := e.client.CreateFunction(ctx, &awslambda.CreateFunctionInput{FunctionName: aws.String("badzip"), Runtime: types.RuntimeProvidedal2023, Role: aws.String(role), Code: &types.FunctionCode{ZipFile: []byte("not a zip")}})
			return err
		}, "InvalidParameterValueException", new(*types.InvalidParameterValueException)},
		{"create unsupported runtime", func() error {
			_, err := e.client.CreateFunction(ctx, &awslambda.CreateFunctionInput{FunctionName: aws.String("py"), Runtime: types.RuntimePython312, Handler: aws.String("app.handler"), Role: aws.String(role), Code: s3Code("bootstrap.zip")})
			return err
		}, "InvalidParameterValueException", new(*types.InvalidParameterValueException)},
		{"create bad role", func() error {
			_, err := e.client.CreateFunction(ctx, &awslambda.CreateFunctionInput{FunctionName: aws.String("badrole"), Runtime: types.RuntimeProvidedal2023, Role: aws.String("admin"), Code: s3Code("bootstrap.zip")})
			return err
		}, "ValidationException", nil},
		{"create timeout too long", func() error {
			_, err := e.client.CreateFunction(ctx, &awslambda.CreateFunctionInput{FunctionName: aws.String("slow"), Runtime: types.RuntimeProvidedal2023, Role: aws.String(role), Timeout: aws.Int32(901), Code: s3Code("bootstrap.zip")})
			return err
		}, "ValidationException", nil},
		{"create from a missing S3 object", func() error {
			_, err := e.client.CreateFunction(ctx, &awslambda.CreateFunctionInput{FunctionName: aws.String("s3fn"), Runtime: types.RuntimeProvidedal2023, Role: aws.String(role), Code: s3Code("missing.zip")})
			return err
		}, "InvalidParameterValueException", new(*types.InvalidParameterValueException)},
		{"handler outside the package", func() error {
			_, err := e.client.CreateFunction(ctx, &awslambda.CreateFunctionInput{FunctionName: aws.String("escape"), Runtime: types.RuntimeGo1x, Handler: aws.String("../../bin/sh"), Role: aws.String(role), Code: s3Code("handler.zip")})
			return err
		}, "InvalidParameterValueException", new(*types.InvalidParameterValueException)},
		{"remove missing permission", func() error {
			_, err := e.client.RemovePermission(ctx, &awslambda.RemovePermissionInput{FunctionName: aws.String("exists"), StatementId: aws.String("nope")})
			return err
		}, "ResourceNotFoundException", new(*types.ResourceNotFoundException)},
		{"policy of a function without one", func() error {
			_, err := e.client.GetPolicy(ctx, &awslambda.GetPolicyInput{FunctionName: aws.String("exists")})
			return err
		}, "ResourceNotFoundException", new(*types.ResourceNotFoundException)},
		{"update stale revision", func() error {
			_, err := e.client.UpdateFunctionConfiguration(ctx, &awslambda.UpdateFunctionConfigurationInput{FunctionName: aws.String("exists"), RevisionId: aws.String("stale"), Description: aws.String("x")})
			return err
		}, "PreconditionFailedException", new(*types.PreconditionFailedException)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.call()
			var api smithy.APIError
			if !errors.As(err, &api) || api.ErrorCode() != tt.wantCode {
				t.Fatalf("%s = %v, want %s", tt.name, err, tt.wantCode)
			}
			if tt.wantAs != nil && !errors.As(err, tt.wantAs) {
				t.Errorf("%s = %T, want errors.As %T", tt.name, err, tt.wantAs)
			}
		})
	}
	// Nothing the failures touched was created.
	list, err := e.client.ListFunctions(ctx, &awslambda.ListFunctionsInput{})
	if err != nil || len(list.Functions) != 1 {
		t.Errorf("ListFunctions after the bad requests = %d functions, %v; want only 'exists'", len(list.Functions), err)
	}
}

func TestMalformedRequests(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tests := []struct {
		name, method, path, body string
		wantStatus               int
		wantType                 string
	}{
		{"malformed json", "POST", "/2015-03-31/functions", `{"FunctionName":`, 400, "InvalidRequestContentException"},
		{"wrong type", "POST", "/2015-03-31/functions", `{"FunctionName":5}`, 400, "InvalidRequestContentException"},
		{"missing role", "POST", "/2015-03-31/functions", `{"FunctionName":"f","Runtime":"provided.al2023","Code":{"ZipFile":""}}`, 400, "ValidationException"},
		{"unknown route", "PATCH", "/2015-03-31/functions/f", ``, 404, "UnknownOperationException"},
		{"invoke payload not json", "POST", "/2015-03-31/functions/f/invocations", `not json`, 400, "InvalidRequestContentException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req, _ := http.NewRequest(tt.method, e.url+tt.path, strings.NewReader(tt.body))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.wantStatus || resp.Header.Get("X-Amzn-ErrorType") != tt.wantType {
				t.Errorf("%s %s = %d %s, want %d %s", tt.method, tt.path, resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType"), tt.wantStatus, tt.wantType)
			}
		})
	}
}

func TestPermissions(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.create(t, "target", nil)
	const rule = "arn:aws:events:us-east-1:000000000000:rule/deploys"
	if _, err := e.b.InvokeAs(ctx, "events.amazonaws.com", rule, "target", []byte(`{}`)); err == nil {
		t.Errorf("InvokeAs without a permission succeeded, want it refused")
	}
	out, err := e.client.AddPermission(ctx, &awslambda.AddPermissionInput{
		FunctionName: aws.String("target"), StatementId: aws.String("events"), Action: aws.String("lambda:InvokeFunction"),
		Principal: aws.String("events.amazonaws.com"), SourceArn: aws.String(rule),
	})
	if err != nil {
		t.Fatalf("AddPermission: %v", err)
	}
	if !strings.Contains(aws.ToString(out.Statement), `"AWS:SourceArn":"`+rule+`"`) {
		t.Errorf("AddPermission statement = %s, want the source ARN condition", aws.ToString(out.Statement))
	}
	_, err = e.client.AddPermission(ctx, &awslambda.AddPermissionInput{FunctionName: aws.String("target"), StatementId: aws.String("events"), Action: aws.String("lambda:InvokeFunction"), Principal: aws.String("events.amazonaws.com")})
	var conflict *types.ResourceConflictException
	if !errors.As(err, &conflict) {
		t.Errorf("AddPermission with a used sid = %v, want ResourceConflictException", err)
	}
	pol, err := e.client.GetPolicy(ctx, &awslambda.GetPolicyInput{FunctionName: aws.String("target")})
	if err != nil || !strings.Contains(aws.ToString(pol.Policy), `"Sid":"events"`) {
		t.Errorf("GetPolicy = %v, %v; want the events statement", pol, err)
	}
	tests := []struct {
		principal, source string
		allowed           bool
	}{
		{"events.amazonaws.com", rule, true},
		{"events.amazonaws.com", "arn:aws:events:us-east-1:000000000000:rule/other", false},
		{"sns.amazonaws.com", rule, false},
	}
	for _, tt := range tests {
		_, err := e.b.InvokeAs(ctx, tt.principal, tt.source, "arn:aws:lambda:us-east-1:000000000000:function:target", []byte(`{}`))
		if (err == nil) != tt.allowed {
			t.Errorf("InvokeAs(%s, %s) = %v, want allowed %v", tt.principal, tt.source, err, tt.allowed)
		}
	}
	if _, err := e.client.RemovePermission(ctx, &awslambda.RemovePermissionInput{FunctionName: aws.String("target"), StatementId: aws.String("events")}); err != nil {
		t.Fatalf("RemovePermission: %v", err)
	}
	if _, err := e.b.InvokeAs(ctx, "events.amazonaws.com", rule, "target", []byte(`{}`)); err == nil {
		t.Errorf("InvokeAs after RemovePermission succeeded, want it refused")
	}
}

func TestDeleteAndRestart(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.create(t, "keep", map[string]string{"GREETING": "persisted"})
	e.create(t, "gone", nil)
	e.invoke(t, "gone", `{}`)
	if _, err := e.client.DeleteFunction(ctx, &awslambda.DeleteFunctionInput{FunctionName: aws.String("gone")}); err != nil {
		t.Fatalf("DeleteFunction: %v", err)
	}
	if _, err := e.client.GetFunction(ctx, &awslambda.GetFunctionInput{FunctionName: aws.String("gone")}); err == nil {
		t.Errorf("GetFunction after DeleteFunction succeeded")
	}
	// A second backend on the same state serves the kept function.
	e.b.Close()
	b2, err := lambda.New(lambda.Config{Store: e.store, CodeDir: filepath.Join(e.store.Dir, "lambda")})
	if err != nil {
		t.Fatalf("restart: %v", err)
	}
	defer b2.Close()
	out, err := b2.Invoke(ctx, "keep", []byte(`{}`))
	if err != nil {
		t.Fatalf("Invoke after restart: %v", err)
	}
	var got echo
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("Invoke after restart = %s: %v", out, err)
	}
	if got.Env["GREETING"] != "persisted" {
		t.Errorf("after restart GREETING = %q, want persisted", got.Env["GREETING"])
	}
	if _, err := b2.Invoke(ctx, "gone", []byte(`{}`)); err == nil {
		t.Errorf("Invoke of the deleted function after restart succeeded")
	}
}

func TestLifecycleHook(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	record := filepath.Join(t.TempDir(), "hooks.jsonl")
	e.create(t, "hook", map[string]string{"RECORD_FILE": record, "HOOK_STATUS": "SUCCEEDED"})
	in := ecs.HookInvocation{
		ExecutionID: "f4fcae0f-9bec-41c6-ba87-0eaa0cef8af5", LifecycleStage: "PRODUCTION_TRAFFIC_SHIFT",
		ResourceArn:              "arn:aws:ecs:us-east-1:000000000000:service-deployment/c/s/EZe5RNVLH6PPzHXINuP28",
		ServiceArn:               "arn:aws:ecs:us-east-1:000000000000:service/c/s",
		TargetServiceRevisionArn: "arn:aws:ecs:us-east-1:000000000000:service-revision/c/s/2",
		ProductionTrafficWeights: map[string]float64{"arn:aws:ecs:us-east-1:000000000000:service-revision/c/s/2": 100, "arn:aws:ecs:us-east-1:000000000000:service-revision/c/s/1": 0},
		HookTargetArn:            "arn:aws:lambda:us-east-1:000000000000:function:hook",
		HookDetails:              json.RawMessage(`{"S3_BUCKET_NAME":"b"}`),
	}
	res, err := e.b.InvokeHook(ctx, in)
	if err != nil || res.HookStatus != "SUCCEEDED" {
		t.Fatalf("InvokeHook = %+v, %v; want SUCCEEDED", res, err)
	}
	b, _ := os.ReadFile(record)
	var got map[string]any
	if err := json.Unmarshal(bytes.TrimSpace(b), &got); err != nil {
		t.Fatalf("recorded hook payload %s: %v", b, err)
	}
	want := map[string]any{
		"executionId": in.ExecutionID, "lifecycleStage": "PRODUCTION_TRAFFIC_SHIFT", "resourceArn": in.ResourceArn,
		"executionDetails": map[string]any{
			"serviceArn": in.ServiceArn, "targetServiceRevisionArn": in.TargetServiceRevisionArn, "testTrafficWeights": map[string]any{},
			"productionTrafficWeights": map[string]any{"arn:aws:ecs:us-east-1:000000000000:service-revision/c/s/2": 100.0, "arn:aws:ecs:us-east-1:000000000000:service-revision/c/s/1": 0.0},
		},
		"hookDetails": map[string]any{"S3_BUCKET_NAME": "b"},
	}
	gotJSON, _ := json.Marshal(got)
	wantJSON, _ := json.Marshal(want)
	if !bytes.Equal(gotJSON, wantJSON) {
		t.Errorf("hook payload = %s, want %s", gotJSON, wantJSON)
	}
}

func TestParseHookResponse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in        string
		want      ecs.HookResult
		wantError bool
	}{
		{`{"hookStatus":"SUCCEEDED"}`, ecs.HookResult{HookStatus: "SUCCEEDED"}, false},
		{`{"hookStatus":"FAILED"}`, ecs.HookResult{HookStatus: "FAILED"}, false},
		{`{"hookStatus":"IN_PROGRESS","callBackDelay":60}`, ecs.HookResult{HookStatus: "IN_PROGRESS", CallBackDelay: time.Minute}, false},
		{`{"hookStatus":"IN_PROGRESS"}`, ecs.HookResult{HookStatus: "IN_PROGRESS"}, false},
		{`{}`, ecs.HookResult{}, true},
		{`{"hookStatus":"MAYBE"}`, ecs.HookResult{}, true},
		{`"SUCCEEDED"`, ecs.HookResult{}, true},
		{`null`, ecs.HookResult{}, true},
	}
	for _, tt := range tests {
		got, err := lambda.ParseHookResponse([]byte(tt.in))
		if (err != nil) != tt.wantError || got.HookStatus != tt.want.HookStatus || got.CallBackDelay != tt.want.CallBackDelay {
			t.Errorf("ParseHookResponse(%s) = %+v, %v; want %+v, error %v", tt.in, got, err, tt.want, tt.wantError)
		}
	}
}

func TestConcurrentInvocationsQueue(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.create(t, "queued", nil)
	e.invoke(t, "queued", `{}`) // warm
	const n, sleep = 3, 200 * time.Millisecond
	type res struct {
		pid      int
		took     time.Duration
		fnErr    string
		received string
	}
	results := make(chan res, n)
	start := time.Now()
	for i := range n {
		go func() {
			out, err := e.client.Invoke(ctx, &awslambda.InvokeInput{FunctionName: aws.String("queued"), Payload: []byte(fmt.Sprintf(`{"action":"sleep","ms":%d,"i":%d}`, sleep.Milliseconds(), i))})
			if err != nil {
				results <- res{fnErr: err.Error()}
				return
			}
			var got echo
			if err := json.Unmarshal(out.Payload, &got); err != nil {
				results <- res{fnErr: fmt.Sprintf("payload %s: %v", out.Payload, err)}
				return
			}
			results <- res{pid: got.PID, took: time.Since(start), fnErr: aws.ToString(out.FunctionError), received: string(got.Received)}
		}()
	}
	pids := map[int]bool{}
	var last time.Duration
	for range n {
		r := <-results
		if r.fnErr != "" || r.received == "" {
			t.Fatalf("concurrent Invoke = %+v, want a response", r)
		}
		pids[r.pid] = true
		last = max(last, r.took)
	}
	if len(pids) != 1 {
		t.Errorf("concurrent invocations ran in %d processes, want the one warm instance", len(pids))
	}
	if last < n*sleep {
		t.Errorf("%d invocations of %v each finished after %v, want them served one at a time (>= %v)", n, sleep, last, n*sleep)
	}
}

// TestRelativeCodeDir runs a function whose code lives under a relative
// --state directory, as localcloud's default (.localcloud) is. Not parallel:
// it changes the working directory.
func TestRelativeCodeDir(t *testing.T) {
	t.Chdir(t.TempDir())
	b, err := lambda.New(lambda.Config{Store: state.Store{Dir: ".localcloud"}, CodeDir: filepath.Join(".localcloud", "lambda"), S3: objects{"code/bootstrap.zip": testZip}})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	client := awslambda.NewFromConfig(awsprototest.Config(awsprototest.Serve(t, b.Register)))
	if _, err := client.CreateFunction(ctx, &awslambda.CreateFunctionInput{FunctionName: aws.String("rel"), Runtime: types.RuntimeProvidedal2023, Role: aws.String(role), Code: s3Code("bootstrap.zip")}); err != nil {
		t.Fatalf("CreateFunction: %v", err)
	}
	out, err := b.Invoke(ctx, "rel", []byte(`{"x":1}`))
	if err != nil {
		t.Fatalf("Invoke with code under a relative state directory: %v", err)
	}
	if !strings.Contains(string(out), `"received":{"x":1}`) {
		t.Errorf("Invoke = %s, want the echo", out)
	}
}
