// Package watch is deploywatch's handler: it records every ECS deployment,
// hook and alarm event in the deployment ledger, enforces rollbacks when a
// watched alarm goes off, and answers the ECS lifecycle hook that
// smoke-tests a green revision through the test listener.
//
// One Invoke takes all three input shapes; the event package tells them
// apart. ECS (DescribeServiceDeployments) is the source of truth for a
// deployment's status, stage, rollback and triggered alarms: events only
// say when to look.
package watch

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/smithy-go"
	"go.opentelemetry.io/otel/trace"

	"github.com/shipyard-ecs/shipyard/lambdas/deploywatch/internal/event"
	"github.com/shipyard-ecs/shipyard/platform/ledger"
)

// deploymentReader is what recording needs from ECS.
type deploymentReader interface {
	DescribeServices(ctx context.Context, in *ecs.DescribeServicesInput, optFns ...func(*ecs.Options)) (*ecs.DescribeServicesOutput, error)
	ListServiceDeployments(ctx context.Context, in *ecs.ListServiceDeploymentsInput, optFns ...func(*ecs.Options)) (*ecs.ListServiceDeploymentsOutput, error)
	DescribeServiceDeployments(ctx context.Context, in *ecs.DescribeServiceDeploymentsInput, optFns ...func(*ecs.Options)) (*ecs.DescribeServiceDeploymentsOutput, error)
	DescribeServiceRevisions(ctx context.Context, in *ecs.DescribeServiceRevisionsInput, optFns ...func(*ecs.Options)) (*ecs.DescribeServiceRevisionsOutput, error)
}

// rollbacker is what enforcement needs from ECS.
type rollbacker interface {
	StopServiceDeployment(ctx context.Context, in *ecs.StopServiceDeploymentInput, optFns ...func(*ecs.Options)) (*ecs.StopServiceDeploymentOutput, error)
	UpdateService(ctx context.Context, in *ecs.UpdateServiceInput, optFns ...func(*ecs.Options)) (*ecs.UpdateServiceOutput, error)
}

// Handler handles deploywatch's invocations.
type Handler struct {
	cfg     Config
	ecs     deploymentReader
	rb      rollbacker
	ledger  tracedLedger
	http    *http.Client
	log     *slog.Logger
	now     func() time.Time
	metrics *metrics
	// tracer is nil when tracing is off: then no span is started at all.
	tracer trace.Tracer
}

// Deps are the handler's collaborators; main builds them.
type Deps struct {
	// ECS is a *ecs.Client.
	ECS interface {
		deploymentReader
		rollbacker
	}
	Ledger *ledger.Ledger
	// HTTP makes the smoke-test requests (http.DefaultClient if nil).
	HTTP *http.Client
	Log  *slog.Logger
	// Metrics receives CloudWatch Embedded Metric Format lines (stdout in
	// Lambda; io.Discard if nil).
	Metrics io.Writer
	// Now is the clock (time.Now if nil).
	Now func() time.Time
	// TracerProvider gets a span per invocation and per ledger write and
	// smoke test (none if nil: tracing off costs nothing).
	TracerProvider trace.TracerProvider
}

// New returns a handler for cfg.
func New(cfg Config, d Deps) *Handler {
	h := &Handler{cfg: cfg, ecs: d.ECS, rb: d.ECS, http: d.HTTP, log: d.Log, now: d.Now}
	if d.TracerProvider != nil {
		h.tracer = d.TracerProvider.Tracer(tracerName)
	}
	h.ledger = tracedLedger{Ledger: d.Ledger, tracer: h.tracer}
	if h.http == nil {
		h.http = http.DefaultClient
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if h.now == nil {
		h.now = time.Now
	}
	w := d.Metrics
	if w == nil {
		w = io.Discard
	}
	h.metrics = &metrics{w: w, cluster: cfg.Cluster, service: cfg.Service, now: h.now}
	h.log = h.log.With("cluster", cfg.Cluster, "service", cfg.Service)
	return h
}

// Answer is what an EventBridge invocation returns (EventBridge ignores it;
// it is for people invoking by hand, and tests).
type Answer struct {
	// Action is what deploywatch did: recorded, duplicate, ignored,
	// rejected, stop-rollback, redeploy-previous, or none.
	Action     string `json:"action"`
	Deployment string `json:"deploymentArn,omitempty"`
	Reason     string `json:"reason,omitempty"`
}

// HookAnswer is the lifecycle hook's answer to ECS.
type HookAnswer struct {
	HookStatus    string         `json:"hookStatus"`
	CallBackDelay int            `json:"callBackDelay,omitempty"`
	HookDetails   map[string]any `json:"hookDetails,omitempty"`
}

// Invoke implements lambda.Handler: it decodes the payload and handles it.
// An error it returns is one retrying can fix (EventBridge retries, then
// the dead-letter queue keeps the event); input no retry can fix is logged
// and acknowledged.
func (h *Handler) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	in, err := event.Decode(payload)
	id := in.ID()
	var e *event.Error
	if errors.As(err, &e) && id == "" {
		id = e.ID // as far as the input got
	}
	ctx, span := h.startInvocation(ctx, in, err == nil, id)
	defer span.End()
	log := h.log.With("eventId", id, "kind", in.Kind())
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		log = log.With("requestId", lc.AwsRequestID)
	}
	if err != nil {
		if e != nil && e.Hook {
			// ECS rolls back on an error as on FAILED; say why.
			log.Error("lifecycle hook invocation rejected", "action", "reject", "err", err)
			h.metrics.count("EventsRejected", nil)
			return nil, failed(span, fmt.Errorf("reject lifecycle hook invocation: %w", err))
		}
		if errors.Is(err, event.ErrUnsupported) {
			log.Info("event ignored", "action", "ignore", "reason", err.Error())
			return answered(span, Answer{Action: "ignored", Reason: err.Error()})
		}
		log.Error("event rejected", "action", "reject", "err", err, "payload", clip(payload, 2048))
		h.metrics.count("EventsRejected", nil)
		return answered(span, Answer{Action: "rejected", Reason: err.Error()})
	}
	if in.Hook != nil {
		ans, err := h.hook(ctx, log, in.Hook)
		if err != nil {
			return nil, failed(span, err)
		}
		return hookAnswered(span, in.Hook.ResourceArn, ans)
	}
	var ans Answer
	switch {
	case in.Deployment != nil:
		ans, err = h.onDeployment(ctx, log, in.Envelope, in.Deployment)
	case in.HookState != nil:
		ans, err = h.onHookState(ctx, log, in.Envelope, in.HookState)
	case in.Alarm != nil:
		ans, err = h.onAlarm(ctx, log, in.Envelope, in.Alarm)
	case in.ServiceAction != nil:
		ans, err = h.onServiceAction(ctx, log, in.Envelope, in.ServiceAction)
	case in.Task != nil:
		ans, err = h.onTask(ctx, log, in.Envelope, in.Task)
	}
	if err != nil {
		log.Error("event not handled; EventBridge will retry", "action", "retry", "err", err)
		return nil, failed(span, err)
	}
	log.Info("event handled", "action", ans.Action, "deploymentArn", ans.Deployment, "reason", ans.Reason)
	return answered(span, ans)
}

// ours reports whether an event is about the configured service.
func (h *Handler) ours(s event.ServiceRef) bool {
	return s.Cluster == h.cfg.Cluster && s.Service == h.cfg.Service
}

func (h *Handler) otherService(s event.ServiceRef) Answer {
	return Answer{Action: "ignored", Reason: fmt.Sprintf("service %s is not %s/%s, the one this function watches", s, h.cfg.Cluster, h.cfg.Service)}
}

// permanent reports an ECS error retrying cannot fix.
func permanent(err error) bool {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return false
	}
	switch ae.ErrorCode() {
	case "AccessDeniedException", "ClientException", "InvalidParameterException", "ServiceDeploymentNotFoundException",
		"ConflictException", "ServiceNotFoundException", "ServiceNotActiveException", "ClusterNotFoundException",
		"UnsupportedFeatureException", "ValidationException":
		return true
	}
	return false
}

func clip(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}

// marshal writes an answer as people read it: ">" stays ">".
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSpace(b.Bytes()), nil
}
