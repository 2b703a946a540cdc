package watch_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/shipyard-ecs/shipyard/lambdas/deploywatch/internal/watch"
	"github.com/shipyard-ecs/shipyard/platform/ledger"
	"github.com/shipyard-ecs/shipyard/platform/ledger/ledgertest"
)

// BenchmarkHandle measures one invocation per event type against
// localcloud (ECS and DynamoDB on loopback), and reports p50 and p99, and
// own-p50/own-p99: the same less the time spent waiting for AWS's answers
// (each round trip to ECS and DynamoDB), the part the 20 ms p99
// target is about (it excludes the network to AWS).
func BenchmarkHandle(b *testing.B) { benchmarkHandle(b, false) }

// BenchmarkHandleTraced is BenchmarkHandle with each event also sent,
// alternately, to a handler with tracing on as main builds it when an
// exporter is configured (here to memory), so that both see the same
// machine and the same localcloud: traced-p50/p99 beside p50/p99. It has a
// world of its own, so that BenchmarkHandle stays comparable with runs
// from before tracing.
func BenchmarkHandleTraced(b *testing.B) { benchmarkHandle(b, true) }

func benchmarkHandle(b *testing.B, withTracing bool) {
	// Green's test listener, for the smoke-test hook: a loopback server
	// that answers at once, so the case times deploywatch, not an app.
	listener := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	b.Cleanup(listener.Close)
	w := newWorld(b, func(c *watch.Config) { c.TestListenerURL = listener.URL })
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
		{"hook-state", func(i int) []byte {
			return mustJSON(map[string]any{"version": "0", "id": fmt.Sprint("hs-", i), "detail-type": "ECS Hook State Change", "source": "aws.ecs",
				"time": time.Now().UTC().Format(time.RFC3339), "resources": []string{arn},
				"detail": map[string]any{"eventType": "INFO", "eventName": "HOOK_SUCCEEDED", "hookId": "hk", "hookType": "AWS_LAMBDA",
					"lifecycleStage": "POST_TEST_TRAFFIC_SHIFT", "serviceDeploymentArn": arn, "updatedAt": time.Now().UTC().Format(time.RFC3339Nano)}})
		}},
		{"alarm-ok", func(i int) []byte { return alarmEvent(fmt.Sprint("a-", i), "web-target-5xx", "OK", time.Now()) }},
		// A watched alarm in ALARM: the whole decision (describe, ledger
		// read, record), outside the guard window so that it changes
		// nothing and every iteration does the same work.
		{"alarm-alarm", func(i int) []byte {
			return alarmEvent(fmt.Sprint("aa-", i), "web-target-5xx", "ALARM", time.Now().Add(time.Hour))
		}},
		{"hook", func(i int) []byte {
			return hookInvocation(fmt.Sprint("h-", i), "PRE_SCALE_UP", arn, w.serviceArn(), target, none, none, nil)
		}},
		{"hook-smoke-test", func(i int) []byte {
			return hookInvocation(fmt.Sprint("ht-", i), "POST_TEST_TRAFFIC_SHIFT", arn, w.serviceArn(), target, none, none, nil)
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
	// The handler under test is the world's, but with its AWS clients'
	// round trips timed.
	timing := &awsTiming{base: http.DefaultTransport}
	dynamo := ledgertest.Localcloud(b).Endpoint
	if e := os.Getenv(ledgertest.EnvEndpoint); e != "" {
		dynamo = e
	}
	ecsCfg, dbCfg := ledgertest.Config(w.ecsURL), ledgertest.Config(dynamo)
	ecsCfg.HTTPClient, dbCfg.HTTPClient = &http.Client{Transport: timing}, &http.Client{Transport: timing}
	h := watch.New(w.cfg, watch.Deps{ECS: ecs.NewFromConfig(ecsCfg), Ledger: ledger.New(dynamodb.NewFromConfig(dbCfg), w.cfg.Table),
		Log: slog.New(slog.NewJSONHandler(w.logs, nil)), Metrics: w.metrics})
	var tc traced
	if withTracing {
		tc = w.traced(b, nil)
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			var took, own, traced []time.Duration
			i := 0
			invoke := func(h *watch.Handler, payload []byte, into *[]time.Duration) {
				start := time.Now()
				if _, err := h.Invoke(context.Background(), payload); err != nil {
					b.Fatal(err)
				}
				*into = append(*into, time.Since(start))
			}
			for b.Loop() {
				aws0 := timing.spent.Load()
				invoke(h, c.event(i), &took)
				own = append(own, took[len(took)-1]-time.Duration(timing.spent.Load()-aws0))
				if withTracing {
					b.StopTimer()
					invoke(tc.h, c.event(i+1<<20), &traced) // other event ids: not duplicates
					tc.exp.Reset()
					b.StartTimer()
				}
				i++
			}
			results := map[string][]time.Duration{"": took, "own-": own}
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

// awsTiming adds up the time its round trips take, to the response's
// headers: the wait for AWS (here localcloud).
type awsTiming struct {
	base  http.RoundTripper
	spent atomic.Int64 // nanoseconds
}

func (a *awsTiming) RoundTrip(r *http.Request) (*http.Response, error) {
	start := time.Now()
	defer func() { a.spent.Add(int64(time.Since(start))) }()
	return a.base.RoundTrip(r)
}
