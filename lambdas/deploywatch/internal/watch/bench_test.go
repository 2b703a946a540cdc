package watch_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/shipyard-ecs/shipyard/lambdas/deploywatch/internal/watch"
)

// BenchmarkHandle measures one invocation per event type against
// localcloud (ECS and DynamoDB on loopback), and reports p50 and p99.
func BenchmarkHandle(b *testing.B) { benchmarkHandle(b, false) }

// BenchmarkHandleTraced is BenchmarkHandle with each event also sent,
// alternately, to a handler with tracing on as main builds it when an
// exporter is configured (here to memory), so that both see the same
// machine and the same localcloud: traced-p50/p99 beside p50/p99. It has a
// world of its own, so that BenchmarkHandle stays comparable with runs
// from before tracing.
func BenchmarkHandleTraced(b *testing.B) { benchmarkHandle(b, true) }

func benchmarkHandle(b *testing.B, withTracing bool) {
	w := newWorld(b, nil)
	w.deploy(1, 0)
	d := w.waitDeployment(2, "SUCCESSFUL")
	legacy := w.legacyID(1)
	arn, target := aws.ToString(d.ServiceDeploymentArn), aws.ToString(d.TargetServiceRevision.Arn)
	// Record once, so the legacy id resolves from the ledger as it does
	// after a deployment's first event.
	w.invoke(deploymentEvent("warm", w.serviceArn(), "SERVICE_DEPLOYMENT_IN_PROGRESS", legacy, "", time.Now()))
	none := map[string]float64{}
	cases := []struct {
		name  string
		event func(i int) []byte
	}{
		{"deployment-state", func(i int) []byte {
			return deploymentEvent(fmt.Sprint("d-", i), w.serviceArn(), "SERVICE_DEPLOYMENT_COMPLETED", legacy, "", time.Now())
		}},
		{"alarm-ok", func(i int) []byte { return alarmEvent(fmt.Sprint("a-", i), "web-target-5xx", "OK", time.Now()) }},
		{"hook", func(i int) []byte {
			return hookInvocation(fmt.Sprint("h-", i), "PRE_SCALE_UP", arn, w.serviceArn(), target, none, none, nil)
		}},
		{"service-action", func(i int) []byte {
			return mustJSON(map[string]any{"version": "0", "id": fmt.Sprint("s-", i), "detail-type": "ECS Service Action", "source": "aws.ecs",
				"time": time.Now().UTC().Format(time.RFC3339), "resources": []string{w.serviceArn()},
				"detail": map[string]any{"eventType": "INFO", "eventName": "SERVICE_STEADY_STATE", "createdAt": time.Now().UTC().Format(time.RFC3339Nano)}})
		}},
		{"malformed", func(i int) []byte {
			return []byte(`{"id":"m","detail-type":"ECS Service Action","source":"aws.ecs","time":"x"}`)
		}},
	}
	var tc traced
	if withTracing {
		tc = w.traced(b, nil)
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			var took, traced []time.Duration
			i := 0
			invoke := func(h *watch.Handler, payload []byte, into *[]time.Duration) {
				start := time.Now()
				if _, err := h.Invoke(context.Background(), payload); err != nil {
					b.Fatal(err)
				}
				*into = append(*into, time.Since(start))
			}
			for b.Loop() {
				invoke(w.h, c.event(i), &took)
				if withTracing {
					b.StopTimer()
					invoke(tc.h, c.event(i+1<<20), &traced) // other event ids: not duplicates
					tc.exp.Reset()
					b.StartTimer()
				}
				i++
			}
			results := map[string][]time.Duration{"": took}
			if withTracing {
				results["traced-"] = traced
			}
			for prefix, d := range results {
				slices.Sort(d)
				b.ReportMetric(float64(d[len(d)/2].Microseconds()), prefix+"p50-µs")
				b.ReportMetric(float64(d[len(d)*99/100].Microseconds()), prefix+"p99-µs")
			}
		})
	}
}
