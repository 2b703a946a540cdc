package lambda

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/ecs"
)

// FunctionError is a function that ran and failed: the runtime reported an
// error, the process exited or timed out. Payload is the error JSON.
type FunctionError struct {
	Function string
	Payload  []byte
}

func (e *FunctionError) Error() string {
	return fmt.Sprintf("function %s failed: %s", e.Function, e.Payload)
}

// resolve finds a function by name, ARN or partial ARN (account:function:name),
// ignoring a $LATEST qualifier.
func (b *Backend) resolveLocked(ref string) (*function, error) {
	name := ref
	if strings.HasPrefix(ref, "arn:") || strings.Contains(ref, ":function:") {
		_, rest, ok := strings.Cut(ref, ":function:")
		if !ok {
			return nil, notFound(ref)
		}
		name = rest
	}
	if n, q, ok := strings.Cut(name, ":"); ok {
		if q != "$LATEST" {
			return nil, notFound(ref)
		}
		name = n
	}
	f, ok := b.functions[name]
	if !ok {
		return nil, notFound(functionARN(name))
	}
	return f, nil
}

// invoke runs one invocation synchronously and returns its result. The error
// is for invocations that never reached the function (not found, context).
func (b *Backend) invoke(ctx context.Context, ref string, payload []byte) (result, string, error) {
	if len(payload) == 0 {
		payload = []byte("{}")
	}
	b.mu.Lock()
	f, err := b.resolveLocked(ref)
	if err != nil {
		b.mu.Unlock()
		return result{}, "", err
	}
	name, arn := f.Config.FunctionName, f.Config.FunctionArn
	inv := newInvocation(arn, payload, time.Duration(f.Config.Timeout)*time.Second)
	b.mu.Unlock()
	for {
		b.mu.Lock()
		if b.ctx.Err() != nil {
			b.mu.Unlock()
			return result{}, name, errors.New("invoke: localcloud is shutting down")
		}
		cur, ok := b.functions[name]
		if !ok || cur != f {
			b.mu.Unlock()
			return result{}, name, notFound(arn)
		}
		in := f.inst
		if in == nil {
			in, err = b.startInstanceLocked(f)
			if err != nil {
				b.mu.Unlock()
				b.log.Warn("start lambda instance", "function", name, "err", err)
				return result{fnError: true, payload: errorPayload("Runtime.InvalidEntrypoint", fmt.Sprintf("RequestId: %s Error: %v", inv.id, err))}, name, nil
			}
			f.inst = in
		}
		b.mu.Unlock()
		select {
		case in.work <- inv:
			return b.await(ctx, in, inv), name, nil
		case <-in.exited:
			// The instance died before taking this invocation: an init
			// failure answers it; otherwise the next instance will.
			in.mu.Lock()
			initErr, killed := in.initErr, in.killWhy != ""
			in.mu.Unlock()
			if initErr != nil {
				return result{fnError: true, payload: initErr}, name, nil
			}
			if !killed {
				return result{fnError: true, payload: errorPayload("Runtime.ExitError", fmt.Sprintf("RequestId: %s Error: Runtime exited without providing a reason", inv.id))}, name, nil
			}
		case <-ctx.Done():
			return result{}, name, ctx.Err()
		}
	}
}

// await waits for the instance's answer, killing the instance when the
// function's timeout passes.
func (b *Backend) await(ctx context.Context, in *instance, inv *invocation) result {
	timer := time.NewTimer(inv.timeout)
	defer timer.Stop()
	select {
	case r := <-inv.done:
		return r
	case <-timer.C:
		in.mu.Lock()
		if in.current == inv {
			in.timedOut = inv
		}
		in.mu.Unlock()
		in.kill("timeout")
		// exit answers the timed-out invocation (or it was answered just in
		// time).
		return <-inv.done
	case <-ctx.Done():
		// The invocation goes on, as on AWS; its answer is dropped.
		return result{fnError: true, payload: errorPayload("Client.Canceled", ctx.Err().Error())}
	}
}

// Invoke runs a function synchronously (RequestResponse) for an in-process
// caller and returns its response. A function error is a *FunctionError.
func (b *Backend) Invoke(ctx context.Context, functionARN string, payload []byte) ([]byte, error) {
	r, name, err := b.invoke(ctx, functionARN, payload)
	if err != nil {
		return nil, fmt.Errorf("invoke %s: %w", functionARN, err)
	}
	if r.fnError {
		return nil, &FunctionError{Function: name, Payload: r.payload}
	}
	return r.payload, nil
}

// InvokeAs invokes a function on behalf of a service principal (EventBridge:
// events.amazonaws.com with the rule ARN as sourceARN), after checking the
// function's resource policy allows it.
func (b *Backend) InvokeAs(ctx context.Context, principal, sourceARN, functionARN string, payload []byte) ([]byte, error) {
	b.mu.Lock()
	f, err := b.resolveLocked(functionARN)
	var allowed bool
	if err == nil {
		allowed = f.allows(principal, sourceARN)
	}
	b.mu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("invoke %s: %w", functionARN, err)
	}
	if !allowed {
		return nil, fmt.Errorf("invoke %s: %s is not authorized to perform lambda:InvokeFunction (source %s): no resource-based policy allows it", functionARN, principal, sourceARN)
	}
	return b.Invoke(ctx, functionARN, payload)
}

// allows reports whether a policy statement lets principal invoke the
// function from sourceARN.
func (f *function) allows(principal, sourceARN string) bool {
	for _, s := range f.Policy {
		if s.Effect != "Allow" || (s.Action != "lambda:InvokeFunction" && s.Action != "lambda:*") {
			continue
		}
		p := s.Principal["Service"]
		if p == "" {
			p = s.Principal["AWS"]
		}
		if p != principal && p != "*" {
			continue
		}
		if want, ok := s.Condition["ArnLike"]["AWS:SourceArn"]; ok {
			if m, _ := path.Match(want, sourceARN); !m && want != sourceARN {
				continue
			}
		}
		if acct, ok := s.Condition["StringEquals"]["AWS:SourceAccount"]; ok && acct != Account {
			continue
		}
		return true
	}
	return false
}

// invokeAsync runs an Event invocation in the background, retrying a
// function error twice, after 1 and 2 minutes (scaled).
func (b *Backend) invokeAsync(ref string, payload []byte) {
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		for attempt := 0; attempt < 3; attempt++ {
			if attempt > 0 {
				select {
				case <-b.clock.After(time.Duration(attempt) * time.Minute):
				case <-b.ctx.Done():
					return
				}
			}
			r, name, err := b.invoke(b.ctx, ref, payload)
			if err != nil {
				b.log.Warn("async invoke", "function", ref, "err", err)
				return
			}
			if !r.fnError {
				return
			}
			b.log.Warn("async invocation failed", "function", name, "attempt", attempt+1, "error", string(r.payload))
		}
	}()
}

// ---- ECS lifecycle hooks ----

type hookPayload struct {
	ExecutionID      string           `json:"executionId"`
	LifecycleStage   string           `json:"lifecycleStage"`
	ResourceArn      string           `json:"resourceArn"`
	ExecutionDetails hookExecution    `json:"executionDetails"`
	HookDetails      *json.RawMessage `json:"hookDetails,omitempty"`
}

type hookExecution struct {
	ServiceArn               string             `json:"serviceArn"`
	TargetServiceRevisionArn string             `json:"targetServiceRevisionArn"`
	TestTrafficWeights       map[string]float64 `json:"testTrafficWeights"`
	ProductionTrafficWeights map[string]float64 `json:"productionTrafficWeights"`
}

type hookResponse struct {
	HookStatus    string          `json:"hookStatus"`
	CallBackDelay *float64        `json:"callBackDelay"`
	HookDetails   json.RawMessage `json:"hookDetails"`
}

// HookPayload is the event ECS sends a lifecycle hook function.
func HookPayload(in ecs.HookInvocation) ([]byte, error) {
	p := hookPayload{
		ExecutionID: in.ExecutionID, LifecycleStage: in.LifecycleStage, ResourceArn: in.ResourceArn,
		ExecutionDetails: hookExecution{
			ServiceArn: in.ServiceArn, TargetServiceRevisionArn: in.TargetServiceRevisionArn,
			TestTrafficWeights: in.TestTrafficWeights, ProductionTrafficWeights: in.ProductionTrafficWeights,
		},
	}
	if p.ExecutionDetails.TestTrafficWeights == nil {
		p.ExecutionDetails.TestTrafficWeights = map[string]float64{}
	}
	if p.ExecutionDetails.ProductionTrafficWeights == nil {
		p.ExecutionDetails.ProductionTrafficWeights = map[string]float64{}
	}
	if len(in.HookDetails) > 0 && string(in.HookDetails) != "null" {
		d := in.HookDetails
		p.HookDetails = &d
	}
	return json.Marshal(p)
}

// ParseHookResponse reads a hook function's answer: hookStatus SUCCEEDED,
// FAILED or IN_PROGRESS, with callBackDelay in seconds and hookDetails.
// A missing or unknown hookStatus is an error (ECS rolls back on it).
func ParseHookResponse(b []byte) (ecs.HookResult, error) {
	var r hookResponse
	if err := json.Unmarshal(b, &r); err != nil {
		return ecs.HookResult{}, fmt.Errorf("read hook response %s: %w", b, err)
	}
	switch r.HookStatus {
	case "SUCCEEDED", "FAILED", "IN_PROGRESS":
	default:
		return ecs.HookResult{}, fmt.Errorf("read hook response %s: hookStatus must be SUCCEEDED, FAILED or IN_PROGRESS", b)
	}
	out := ecs.HookResult{HookStatus: r.HookStatus, HookDetails: r.HookDetails}
	if r.CallBackDelay != nil {
		out.CallBackDelay = time.Duration(*r.CallBackDelay * float64(time.Second))
	}
	return out, nil
}

// InvokeHook runs an AWS_LAMBDA lifecycle hook for ECS (ecs.HookInvoker):
// the documented payload in, hookStatus out. A function error or an invalid
// answer is an error, which rolls the deployment back.
func (b *Backend) InvokeHook(ctx context.Context, in ecs.HookInvocation) (ecs.HookResult, error) {
	payload, err := HookPayload(in)
	if err != nil {
		return ecs.HookResult{}, fmt.Errorf("encode hook payload: %w", err)
	}
	out, err := b.Invoke(ctx, in.HookTargetArn, payload)
	if err != nil {
		return ecs.HookResult{}, err
	}
	return ParseHookResponse(out)
}

var _ ecs.HookInvoker = (*Backend)(nil)
