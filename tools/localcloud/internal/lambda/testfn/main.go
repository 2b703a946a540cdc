// Command testfn is the Lambda function localcloud's tests deploy: a real
// aws-lambda-go program run behind the emulator's Runtime API. What it does
// depends on the event and its environment:
//
//   - RECORD_FILE set: every event is appended to that file, one JSON line.
//   - FAIL=1: every invocation returns an error (after recording).
//   - HOOK_STATUS set and the event is an ECS lifecycle hook: answers with
//     that hookStatus. HOOK_SEQUENCE (comma-separated statuses) answers the
//     process's n-th hook invocation with the n-th status (the last one
//     repeats), IN_PROGRESS with a callBackDelay of 1 s.
//   - {"action":"fail"} returns an error; {"action":"exit"} exits with
//     status 3; {"action":"sleep","ms":N} sleeps; {"action":"print",
//     "text":T} writes T to stdout; {"action":"get","url":U} GETs U with
//     net/http's default client (which honours HTTP_PROXY) and answers
//     {"status":N,"body":B}.
//   - Anything else is echoed back with the function's name and the
//     environment variables the emulator must set.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

type command struct {
	Action         string `json:"action"`
	MS             int    `json:"ms"`
	Text           string `json:"text"`
	LifecycleStage string `json:"lifecycleStage"`
	URL            string `json:"url"`
}

func record(raw json.RawMessage) error {
	path := os.Getenv("RECORD_FILE")
	if path == "" {
		return nil
	}
	//nolint:gosec // G703: the test that deploys this function names the file.
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("open record file: %w", err)
	}
	defer f.Close()
	_, err = f.Write(append(append([]byte{}, raw...), '\n'))
	return err
}

// hookCalls counts this process's hook invocations (one at a time: Lambda
// never overlaps invocations in one instance).
var hookCalls int

func handle(ctx context.Context, raw json.RawMessage) (any, error) {
	if err := record(raw); err != nil {
		return nil, err
	}
	if os.Getenv("FAIL") == "1" {
		return nil, errors.New("configured to fail")
	}
	var c command
	_ = json.Unmarshal(raw, &c)
	if c.LifecycleStage != "" {
		if seq := os.Getenv("HOOK_SEQUENCE"); seq != "" {
			statuses := strings.Split(seq, ",")
			status := statuses[min(hookCalls, len(statuses)-1)]
			hookCalls++
			if status == "IN_PROGRESS" {
				return map[string]any{"hookStatus": status, "callBackDelay": 1}, nil
			}
			return map[string]any{"hookStatus": status}, nil
		}
		if st := os.Getenv("HOOK_STATUS"); st != "" {
			return map[string]any{"hookStatus": st}, nil
		}
	}
	switch c.Action {
	case "fail":
		return nil, errors.New("asked to fail")
	case "exit":
		os.Exit(3)
	case "sleep":
		time.Sleep(time.Duration(c.MS) * time.Millisecond)
	case "print":
		fmt.Println(c.Text)
	case "get":
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.URL, nil)
		if err != nil {
			return nil, err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		if err != nil {
			return nil, err
		}
		return map[string]any{"status": resp.StatusCode, "body": string(body)}, nil
	}
	lc, _ := lambdacontext.FromContext(ctx)
	env := map[string]string{}
	for _, k := range []string{"AWS_ENDPOINT_URL", "AWS_REGION", "AWS_LAMBDA_FUNCTION_NAME", "_HANDLER", "GREETING", "AWS_ACCESS_KEY_ID", "HOME_LEAK", "HTTP_PROXY", "NO_PROXY"} {
		if v, ok := os.LookupEnv(k); ok {
			env[k] = v
		}
	}
	out := map[string]any{"received": raw, "functionName": lambdacontext.FunctionName, "env": env, "pid": os.Getpid()}
	if lc != nil {
		out["requestId"] = lc.AwsRequestID
		out["functionArn"] = lc.InvokedFunctionArn
	}
	return out, nil
}

func main() {
	lambda.Start(handle)
}
