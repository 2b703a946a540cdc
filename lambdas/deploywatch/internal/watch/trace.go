package watch

import (
	"context"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/shipyard-ecs/shipyard/lambdas/deploywatch/internal/event"
	"github.com/shipyard-ecs/shipyard/platform/ledger"
)

// tracerName is the instrumentation scope of deploywatch's own spans.
const tracerName = "github.com/shipyard-ecs/shipyard/lambdas/deploywatch"

// Attributes of deploywatch's spans, beside the semantic conventions'.
const (
	// AttrEventType is the EventBridge detail type, or lifecycle-hook.
	AttrEventType = "deploywatch.event.type"
	// AttrEventID is the EventBridge event id or the hook's execution id.
	AttrEventID = "deploywatch.event.id"
	// AttrDeployment is the service deployment ARN.
	AttrDeployment = "deploywatch.deployment.arn"
	// AttrAction is what deploywatch did (Answer.Action, hook-<status>).
	AttrAction = "deploywatch.action"
	// AttrReason says why.
	AttrReason = "deploywatch.reason"
)

// off is the span of everything when tracing is off: starting it derives
// no context and allocates nothing, which a no-op tracer would.
var off = trace.SpanFromContext(context.Background())

// start starts a span, or returns off when tracing is off.
func start(ctx context.Context, tr trace.Tracer, name string, kind trace.SpanKind) (context.Context, trace.Span) {
	if tr == nil {
		return ctx, off
	}
	return tr.Start(ctx, name, trace.WithSpanKind(kind))
}

// startInvocation starts the invocation's span. It is named for the input's
// kind when it decoded (a fixed set), so that a trace list groups by it.
func (h *Handler) startInvocation(ctx context.Context, in event.Input, decoded bool, id string) (context.Context, trace.Span) {
	name, kind := "deploywatch", trace.SpanKindConsumer
	if decoded {
		name += " " + in.Kind()
	}
	if in.Hook != nil {
		// ECS waits for the answer.
		kind = trace.SpanKindServer
	}
	ctx, span := start(ctx, h.tracer, name, kind)
	if span.IsRecording() {
		span.SetAttributes(attribute.String(AttrEventType, in.Kind()), attribute.String(AttrEventID, id),
			attribute.String("aws.ecs.cluster.name", h.cfg.Cluster), attribute.String("aws.ecs.service.name", h.cfg.Service))
		if lc, ok := lambdacontext.FromContext(ctx); ok {
			span.SetAttributes(semconv.FaaSInvocationID(lc.AwsRequestID), semconv.AWSLambdaInvokedARN(lc.InvokedFunctionArn))
		}
	}
	return ctx, span
}

// answered records an event's answer on its span, and marshals it. A
// rejected event is acknowledged, but its span says it failed.
func answered(span trace.Span, a Answer) ([]byte, error) {
	if span.IsRecording() {
		span.SetAttributes(attribute.String(AttrAction, a.Action), attribute.String(AttrDeployment, a.Deployment), attribute.String(AttrReason, a.Reason))
		if a.Action == "rejected" {
			span.SetStatus(codes.Error, a.Reason)
		}
	}
	return marshal(a)
}

// hookAnswered records a lifecycle hook's answer on its span, and marshals
// it. FAILED is the smoke test's verdict on green, not deploywatch failing:
// the span's status stays unset.
func hookAnswered(span trace.Span, arn string, a HookAnswer) ([]byte, error) {
	if span.IsRecording() {
		span.SetAttributes(attribute.String(AttrAction, "hook-"+strings.ToLower(a.HookStatus)), attribute.String(AttrDeployment, arn),
			attribute.String("deploywatch.hook.status", a.HookStatus))
	}
	return marshal(a)
}

// failed marks the span failed with err, and returns err.
func failed(span trace.Span, err error) error {
	if span.IsRecording() {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	return err
}

// startSmoke starts the smoke test's span; endSmoke ends it with the verdict.
// The requests are its children when the HTTP client is instrumented.
func (h *Handler) startSmoke(ctx context.Context) (context.Context, trace.Span) {
	ctx, span := start(ctx, h.tracer, "smoke test", trace.SpanKindInternal)
	if span.IsRecording() {
		span.SetAttributes(attribute.String("deploywatch.smoke.url", h.cfg.TestListenerURL), attribute.Int("deploywatch.smoke.checks", len(h.cfg.SmokeChecks)))
	}
	return ctx, span
}

func endSmoke(span trace.Span, res smokeResult) {
	if span.IsRecording() {
		span.SetAttributes(attribute.Bool("deploywatch.smoke.passed", res.ok), attribute.Bool("deploywatch.smoke.warming", res.warming),
			attribute.String("deploywatch.smoke.evidence", strings.Join(res.evidence, "; ")))
	}
	span.End()
}

// tracedLedger is the ledger with a span around each write, so that a
// trace shows what each write was for; the DynamoDB calls inside are its
// children when the client is instrumented (otelaws). Reads pass through.
type tracedLedger struct {
	*ledger.Ledger
	tracer trace.Tracer
}

func (l tracedLedger) start(ctx context.Context, op, arn, eventID string) (context.Context, trace.Span) {
	ctx, span := start(ctx, l.tracer, "ledger."+op, trace.SpanKindInternal)
	if span.IsRecording() {
		span.SetAttributes(attribute.String(AttrDeployment, arn), attribute.String(AttrEventID, eventID))
	}
	return ctx, span
}

// end ends a ledger write's span; the callers set attributes only on a
// recording span, so that a no-op tracer allocates nothing.
func end(span trace.Span, err error) {
	if err != nil && span.IsRecording() {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	span.End()
}

func (l tracedLedger) Record(ctx context.Context, o ledger.Observation) (ledger.Result, error) {
	ctx, span := l.start(ctx, "Record", o.Arn, o.EventID)
	res, err := l.Ledger.Record(ctx, o)
	if span.IsRecording() {
		span.SetAttributes(attribute.Bool("deploywatch.ledger.duplicate", res.Duplicate), attribute.StringSlice("deploywatch.ledger.new_statuses", res.NewStatuses))
	}
	end(span, err)
	return res, err
}

func (l tracedLedger) RecordServiceEvent(ctx context.Context, cluster, service string, e ledger.Entry) (bool, error) {
	ctx, span := l.start(ctx, "RecordServiceEvent", "", e.EventID)
	dup, err := l.Ledger.RecordServiceEvent(ctx, cluster, service, e)
	if span.IsRecording() {
		span.SetAttributes(attribute.Bool("deploywatch.ledger.duplicate", dup))
	}
	end(span, err)
	return dup, err
}

func (l tracedLedger) ClaimEnforcement(ctx context.Context, k ledger.Key, a ledger.Action) (bool, *ledger.Action, error) {
	ctx, span := l.start(ctx, "ClaimEnforcement", k.Arn, a.EventID)
	won, prev, err := l.Ledger.ClaimEnforcement(ctx, k, a)
	if span.IsRecording() {
		span.SetAttributes(attribute.Bool("deploywatch.ledger.claimed", won), attribute.String(AttrAction, a.Kind))
	}
	end(span, err)
	return won, prev, err
}

func (l tracedLedger) FinishEnforcement(ctx context.Context, k ledger.Key, outcome string) error {
	ctx, span := l.start(ctx, "FinishEnforcement", k.Arn, "")
	err := l.Ledger.FinishEnforcement(ctx, k, outcome)
	if span.IsRecording() {
		span.SetAttributes(attribute.String("deploywatch.enforcement.outcome", outcome))
	}
	end(span, err)
	return err
}

func (l tracedLedger) ReleaseEnforcement(ctx context.Context, k ledger.Key, eventID string) error {
	ctx, span := l.start(ctx, "ReleaseEnforcement", k.Arn, eventID)
	err := l.Ledger.ReleaseEnforcement(ctx, k, eventID)
	end(span, err)
	return err
}

func (l tracedLedger) ClaimCooldown(ctx context.Context, cluster, service, arn string, now time.Time, cooldown time.Duration) (bool, time.Time, error) {
	ctx, span := l.start(ctx, "ClaimCooldown", arn, "")
	ok, last, err := l.Ledger.ClaimCooldown(ctx, cluster, service, arn, now, cooldown)
	if span.IsRecording() {
		span.SetAttributes(attribute.Bool("deploywatch.ledger.claimed", ok))
	}
	end(span, err)
	return ok, last, err
}
