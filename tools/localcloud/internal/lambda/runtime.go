package lambda

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The Runtime API, as a function's runtime client calls it
// (https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html).
const (
	runtimePrefix = "/2018-06-01/runtime/"
	maxResponse   = 6 << 20
)

// invocation is one request to a function.
type invocation struct {
	id      string
	payload []byte
	arn     string
	timeout time.Duration

	once sync.Once
	done chan result

	tailMu sync.Mutex
	tail   []byte // the last maxTail bytes of its log lines
}

// maxTail is how much of an invocation's log Invoke returns with LogType
// Tail, as AWS does.
const maxTail = 4096

// logged keeps a log line for LogType Tail.
func (inv *invocation) logged(line string) {
	inv.tailMu.Lock()
	defer inv.tailMu.Unlock()
	inv.tail = append(inv.tail, line...)
	inv.tail = append(inv.tail, '\n')
	if n := len(inv.tail); n > maxTail {
		inv.tail = append(inv.tail[:0:0], inv.tail[n-maxTail:]...)
	}
}

// result is what an invocation ended with: the response, or a function
// error (the error JSON).
type result struct {
	payload []byte
	fnError bool
	// logTail is the end of the invocation's log.
	logTail []byte
}

func newInvocation(arn string, payload []byte, timeout time.Duration) *invocation {
	return &invocation{id: newUUID(), payload: payload, arn: arn, timeout: timeout, done: make(chan result, 1)}
}

func (inv *invocation) complete(r result) {
	inv.once.Do(func() {
		inv.tailMu.Lock()
		r.logTail = append([]byte(nil), inv.tail...)
		inv.tailMu.Unlock()
		inv.done <- r
	})
}

// errorPayload is the error JSON Lambda answers with when the runtime fails.
func errorPayload(errType, msg string) []byte {
	b, _ := json.Marshal(map[string]string{"errorType": errType, "errorMessage": msg})
	return b
}

// instance is one running process of a function and its Runtime API.
type instance struct {
	b      *Backend
	fn     *function
	id     string
	stream string
	// name, group and memory are copied from the configuration at start:
	// an update may change it while this instance winds down.
	name, group string
	memory      int32
	srv         *http.Server
	cmd         *exec.Cmd
	// work hands invocations to this instance's /next, one at a time: a
	// retired instance cannot take work meant for its successor.
	work chan *invocation

	mu       sync.Mutex
	current  *invocation
	invStart time.Time
	answered string // the last invocation answered
	initErr  []byte
	killWhy  string
	timedOut *invocation
	exited   chan struct{}
}

// startInstance starts a process for f, serving its Runtime API on a fresh
// loopback port. Call with b.mu held.
func (b *Backend) startInstanceLocked(f *function) (*instance, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen for runtime api: %w", err)
	}
	in := &instance{
		b: b, fn: f, id: randomHex(32), name: f.Config.FunctionName, group: f.logGroup(), memory: f.Config.MemorySize,
		work: make(chan *invocation), exited: make(chan struct{}),
	}
	now := b.clock.Now().UTC()
	in.stream = now.Format("2006/01/02") + "/[$LATEST]" + in.id
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+runtimePrefix+"invocation/next", in.next)
	mux.HandleFunc("POST "+runtimePrefix+"invocation/{id}/response", in.response)
	mux.HandleFunc("POST "+runtimePrefix+"invocation/{id}/error", in.invocationError)
	mux.HandleFunc("POST "+runtimePrefix+"init/error", in.initError)
	in.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}

	cfg := f.Config
	env := []string{"PATH=" + os.Getenv("PATH"), "TZ=:UTC", "LANG=en_US.UTF-8"}
	// Before the function's variables, which may name a proxy of their own.
	env = append(env, b.cfg.ProxyEnv...)
	for k, v := range envVars(cfg.Environment) {
		env = append(env, k+"="+v)
	}
	env = append(env,
		"AWS_LAMBDA_RUNTIME_API="+ln.Addr().String(),
		"AWS_LAMBDA_FUNCTION_NAME="+cfg.FunctionName,
		"AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE="+strconv.Itoa(int(cfg.MemorySize)),
		"AWS_LAMBDA_LOG_GROUP_NAME="+f.logGroup(),
		"AWS_LAMBDA_LOG_STREAM_NAME="+in.stream,
		"AWS_LAMBDA_INITIALIZATION_TYPE=on-demand",
		"AWS_EXECUTION_ENV=AWS_Lambda_"+cfg.Runtime,
		"_HANDLER="+cfg.Handler,
		"LAMBDA_TASK_ROOT="+f.CodeDir,
		"LAMBDA_RUNTIME_DIR="+f.CodeDir,
		"AWS_REGION="+Region,
		"AWS_DEFAULT_REGION="+Region,
		"AWS_ACCESS_KEY_ID=test",
		"AWS_SECRET_ACCESS_KEY=test",
		"AWS_SESSION_TOKEN=test",
	)
	if b.endpoint != "" {
		env = append(env, "AWS_ENDPOINT_URL="+b.endpoint)
	}
	//nolint:gosec // G702: running the function's own code is what Lambda does; validHandler keeps the path inside its package.
	cmd := exec.Command(f.entrypoint())
	cmd.Dir = f.CodeDir
	cmd.Env = env
	cmd.SysProcAttr = sysProcAttr()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		ln.Close()
		return nil, err
	}
	cmd.Stderr = cmd.Stdout
	go func() { _ = in.srv.Serve(ln) }() // ends with ErrServerClosed when the process exits
	if err := cmd.Start(); err != nil {
		in.srv.Close()
		return nil, err
	}
	in.cmd = cmd
	b.log.Info("lambda instance started", "function", cfg.FunctionName, "pid", cmd.Process.Pid, "runtimeApi", ln.Addr().String())
	logs := b.logs
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		in.copyLogs(logs, stdout)
	}()
	go func() {
		<-copied
		err := cmd.Wait()
		in.srv.Close()
		in.exit(err)
	}()
	return in, nil
}

func envVars(e *Environment) map[string]string {
	if e == nil {
		return nil
	}
	return e.Variables
}

// logLine writes one line to the instance's log stream (and the debug log),
// and keeps it for inv's LogType Tail (inv may be nil).
func (in *instance) logLine(sink LogSink, inv *invocation, line string) {
	if inv != nil {
		inv.logged(line)
	}
	in.b.log.Debug("lambda output", "function", in.name, "line", line)
	if sink == nil {
		return
	}
	if err := sink.Append(context.Background(), in.group, in.stream, in.b.clock.Now(), line); err != nil {
		in.b.log.Warn("append lambda log", "function", in.name, "err", err)
	}
}

func (in *instance) copyLogs(sink LogSink, r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 256<<10)
	for sc.Scan() {
		in.mu.Lock()
		cur := in.current
		in.mu.Unlock()
		in.logLine(sink, cur, sc.Text())
	}
	_, _ = io.Copy(io.Discard, r) // drain a line too long for the scanner
}

// exit handles the process's end: the invocation in flight, if any, fails.
func (in *instance) exit(waitErr error) {
	b := in.b
	b.mu.Lock()
	if in.fn.inst == in {
		in.fn.inst = nil
	}
	sink := b.logs
	b.mu.Unlock()
	in.mu.Lock()
	cur, why, timedOut, initErr := in.current, in.killWhy, in.timedOut, in.initErr
	in.current = nil
	in.mu.Unlock()
	if timedOut != nil {
		msg := fmt.Sprintf("RequestId: %s Error: Task timed out after %.2f seconds", timedOut.id, timedOut.timeout.Seconds())
		in.logLine(sink, timedOut, time.Now().UTC().Format("2006-01-02T15:04:05.000Z")+" "+timedOut.id+" Task timed out after "+fmt.Sprintf("%.2f", timedOut.timeout.Seconds())+" seconds")
		in.logLine(sink, timedOut, fmt.Sprintf("END RequestId: %s", timedOut.id))
		in.logLine(sink, timedOut, fmt.Sprintf("REPORT RequestId: %s\tDuration: %.2f ms\tBilled Duration: %d ms\tMemory Size: %d MB\tMax Memory Used: 0 MB\tStatus: timeout", timedOut.id, float64(timedOut.timeout.Microseconds())/1000, timedOut.timeout.Milliseconds(), in.memory))
		timedOut.complete(result{payload: errorPayload("Sandbox.Timedout", msg), fnError: true})
	}
	if cur != nil && cur != timedOut {
		var p []byte
		switch {
		case initErr != nil:
			p = initErr
		case why != "":
			p = errorPayload("Runtime.ExitError", fmt.Sprintf("RequestId: %s Error: %s", cur.id, why))
		default:
			p = errorPayload("Runtime.ExitError", fmt.Sprintf("RequestId: %s Error: Runtime exited with error: %v", cur.id, exitText(waitErr)))
		}
		cur.complete(result{payload: p, fnError: true})
	}
	b.log.Info("lambda instance stopped", "function", in.name, "status", exitText(waitErr))
	close(in.exited)
}

func exitText(err error) string {
	if err == nil {
		return "exit status 0"
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ProcessState.String()
	}
	return err.Error()
}

// kill stops the process (and its children).
func (in *instance) kill(why string) {
	in.mu.Lock()
	if in.killWhy == "" {
		in.killWhy = why
	}
	in.mu.Unlock()
	killGroup(in.cmd)
}

// ---- Runtime API handlers ----

func writeRuntimeError(w http.ResponseWriter, status int, errType, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(errorPayload(errType, msg))
}

func accepted(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	_, _ = io.WriteString(w, `{"status":"OK"}`)
}

// next hands the runtime the next invocation, waiting for one.
func (in *instance) next(w http.ResponseWriter, r *http.Request) {
	in.mu.Lock()
	if in.current != nil {
		// The runtime asked for more work without answering: AWS treats the
		// previous invocation as answered with nothing.
		in.current.complete(result{payload: []byte("null")})
		in.current = nil
	}
	in.mu.Unlock()
	var inv *invocation
	select {
	case inv = <-in.work:
	case <-r.Context().Done():
		return
	case <-in.b.ctx.Done():
		return
	}
	in.mu.Lock()
	in.current, in.invStart = inv, time.Now()
	in.mu.Unlock()
	deadline := time.Now().Add(inv.timeout)
	in.logLine(in.sink(), inv, fmt.Sprintf("START RequestId: %s Version: $LATEST", inv.id))
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Lambda-Runtime-Aws-Request-Id", inv.id)
	h.Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(deadline.UnixMilli(), 10))
	h.Set("Lambda-Runtime-Invoked-Function-Arn", inv.arn)
	h.Set("Lambda-Runtime-Trace-Id", "Root=1-"+strconv.FormatInt(time.Now().Unix(), 16)+"-"+randomHex(24)+";Parent="+randomHex(16)+";Sampled=0")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(inv.payload)
}

func (in *instance) sink() LogSink {
	in.b.mu.Lock()
	defer in.b.mu.Unlock()
	return in.b.logs
}

// take ends the current invocation if id names it, reporting when it
// started. Otherwise it writes the error the Runtime API answers, as the
// Runtime Interface Emulator renders it: 403 InvalidStateTransition for an
// invocation already answered, 400 InvalidRequestID for any other id.
func (in *instance) take(w http.ResponseWriter, id string) (*invocation, time.Time, bool) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.current == nil || in.current.id != id {
		if in.current == nil && id != "" && id == in.answered {
			writeRuntimeError(w, http.StatusForbidden, "InvalidStateTransition", "State transition from Ready to InvocationResponse failed for runtime. Error: the invocation was already answered")
		} else {
			writeRuntimeError(w, http.StatusBadRequest, "InvalidRequestID", "Invalid request ID")
		}
		return nil, time.Time{}, false
	}
	inv := in.current
	in.current, in.answered = nil, id
	return inv, in.invStart, true
}

func (in *instance) finish(inv *invocation, started time.Time) {
	d := time.Since(started)
	sink := in.sink()
	in.logLine(sink, inv, fmt.Sprintf("END RequestId: %s", inv.id))
	in.logLine(sink, inv, fmt.Sprintf("REPORT RequestId: %s\tDuration: %.2f ms\tBilled Duration: %d ms\tMemory Size: %d MB\tMax Memory Used: 0 MB",
		inv.id, float64(d.Microseconds())/1000, d.Milliseconds()+1, in.memory))
}

func readLimited(r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r.Body, maxResponse+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxResponse {
		return nil, errors.New("payload too large")
	}
	return b, nil
}

func (in *instance) response(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	body, err := readLimited(r)
	inv, started, ok := in.take(w, id)
	if !ok {
		return
	}
	if err != nil {
		msg := fmt.Sprintf("Response payload size exceeded maximum allowed payload size (%d bytes).", maxResponse)
		inv.complete(result{payload: errorPayload("Function.ResponseSizeTooLarge", msg), fnError: true})
		writeRuntimeError(w, http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", msg)
		return
	}
	in.finish(inv, started)
	// A runtime whose response stream failed reports it in trailers.
	if typ := r.Trailer.Get("Lambda-Runtime-Function-Error-Type"); typ != "" {
		msg, derr := base64.StdEncoding.DecodeString(r.Trailer.Get("Lambda-Runtime-Function-Error-Body"))
		if derr != nil {
			msg = []byte(r.Trailer.Get("Lambda-Runtime-Function-Error-Body"))
		}
		inv.complete(result{payload: runtimeErrorBody(msg, typ), fnError: true})
		accepted(w)
		return
	}
	inv.complete(result{payload: body})
	accepted(w)
}

// runtimeError is the error JSON a runtime posts.
func runtimeErrorBody(body []byte, errType string) []byte {
	var v map[string]any
	if json.Unmarshal(body, &v) == nil && v != nil {
		return body
	}
	if errType == "" {
		errType = "Runtime.Unknown"
	}
	return errorPayload(errType, strings.TrimSpace(string(body)))
}

func (in *instance) invocationError(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	body, _ := readLimited(r)
	inv, started, ok := in.take(w, id)
	if !ok {
		return
	}
	in.finish(inv, started)
	inv.complete(result{payload: runtimeErrorBody(body, r.Header.Get("Lambda-Runtime-Function-Error-Type")), fnError: true})
	accepted(w)
}

func (in *instance) initError(w http.ResponseWriter, r *http.Request) {
	body, _ := readLimited(r)
	in.mu.Lock()
	in.initErr = runtimeErrorBody(body, r.Header.Get("Lambda-Runtime-Function-Error-Type"))
	in.mu.Unlock()
	in.b.log.Warn("lambda init error", "function", in.name, "error", string(body))
	accepted(w)
	// The runtime is expected to exit; make sure it does.
	go in.kill("init error")
}
