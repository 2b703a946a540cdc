package cloudwatch

import (
	"strings"
	"testing"
	"time"

	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/clock"
)

func ptr[T any](v T) *T { return &v }

// TestEvaluate drives the alarm rules directly: samples at given offsets from
// now (negative, in AWS seconds), a 60 s period, and the expected state.
func TestEvaluate(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	type sample struct {
		ago   int // seconds before now
		value float64
	}
	single := func(treat string, evals, dta int32, op string) MetricAlarm {
		a := MetricAlarm{AlarmName: "a", Namespace: "AWS/ApplicationELB", MetricName: "HTTPCode_Target_5XX_Count", Statistic: "Sum",
			Period: ptr(int32(60)), EvaluationPeriods: evals, Threshold: ptr(5.0), ComparisonOperator: op, TreatMissingData: treat}
		if dta > 0 {
			a.DatapointsToAlarm = ptr(dta)
		}
		return a
	}
	tests := []struct {
		name    string
		alarm   MetricAlarm
		samples []sample
		want    string // "" means keep the current state
	}{
		{"no data, missing", single("", 1, 0, "GreaterThanOrEqualToThreshold"), nil, StateInsufficientData},
		{"no data, notBreaching", single("notBreaching", 1, 0, "GreaterThanOrEqualToThreshold"), nil, StateOK},
		{"no data, breaching", single("breaching", 1, 0, "GreaterThanOrEqualToThreshold"), nil, StateAlarm},
		{"no data, ignore keeps state", single("ignore", 1, 0, "GreaterThanOrEqualToThreshold"), nil, ""},
		{"sum crosses", single("", 1, 0, "GreaterThanOrEqualToThreshold"), []sample{{10, 3}, {20, 2}}, StateAlarm},
		{"sum below", single("", 1, 0, "GreaterThanOrEqualToThreshold"), []sample{{10, 3}}, StateOK},
		{"strictly greater", single("", 1, 0, "GreaterThanThreshold"), []sample{{10, 5}}, StateOK},
		{"older than the evaluation range", single("", 1, 0, "GreaterThanOrEqualToThreshold"), []sample{{70, 9}}, StateInsufficientData},
		{"2 of 3 breach", single("notBreaching", 3, 2, "GreaterThanOrEqualToThreshold"), []sample{{10, 9}, {130, 9}}, StateAlarm},
		{"1 of 3 breach, 2 needed", single("notBreaching", 3, 2, "GreaterThanOrEqualToThreshold"), []sample{{10, 9}, {70, 1}}, StateOK},
		{"missing counted as breaching", single("breaching", 3, 2, "GreaterThanOrEqualToThreshold"), []sample{{10, 1}, {70, 1}}, StateOK},
		{"missing as breaching reaches M", single("breaching", 3, 2, "GreaterThanOrEqualToThreshold"), []sample{{10, 1}}, StateAlarm},
		{"less than", single("", 1, 0, "LessThanThreshold"), []sample{{10, 1}}, StateAlarm},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := New(Config{Clock: clock.NewManual(now, 1)})
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			dims := map[string]string{}
			for _, s := range tt.samples {
				b.PutMetric(tt.alarm.Namespace, tt.alarm.MetricName, dims, s.value, now.Add(-time.Duration(s.ago)*time.Second))
			}
			b.mu.Lock()
			got, reason, _ := b.evaluateLocked(&tt.alarm, now)
			b.mu.Unlock()
			if got != tt.want {
				t.Errorf("evaluate(%s) = %q (%s), want %q", tt.name, got, reason, tt.want)
			}
		})
	}
}

func TestEvaluateMetricMath(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	b, err := New(Config{Clock: clock.NewManual(now, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	blue := map[string]string{"TargetGroup": "targetgroup/blue/1", "LoadBalancer": "app/web/1"}
	green := map[string]string{"TargetGroup": "targetgroup/green/2", "LoadBalancer": "app/web/1"}
	b.PutMetric("AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", green, 3, now.Add(-10*time.Second))
	b.PutMetric("AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", blue, 1, now.Add(-20*time.Second))
	metric := func(id string, dims map[string]string) MetricDataQuery {
		var ds []Dimension
		for k, v := range dims {
			ds = append(ds, Dimension{k, v})
		}
		return MetricDataQuery{Id: id, ReturnData: ptr(false), MetricStat: &MetricStat{
			Metric: &Metric{Namespace: "AWS/ApplicationELB", MetricName: "HTTPCode_Target_5XX_Count", Dimensions: ds}, Period: ptr(int32(60)), Stat: "Sum"}}
	}
	tests := []struct {
		expr      string
		threshold float64
		want      string
	}{
		{"SUM(METRICS())", 4, StateAlarm},
		{"SUM(METRICS())", 5, StateOK},
		{"m1+m2", 4, StateAlarm},
		{"m2*2", 6, StateAlarm},
		{"MAX([m1, m2])", 3, StateAlarm},
		{"FILL(m1, 0) - 1", 0, StateAlarm},
	}
	for _, tt := range tests {
		a := MetricAlarm{AlarmName: "math", EvaluationPeriods: 1, Threshold: ptr(tt.threshold), ComparisonOperator: "GreaterThanOrEqualToThreshold",
			Metrics: []MetricDataQuery{metric("m1", blue), metric("m2", green), {Id: "e1", Expression: tt.expr}}}
		b.mu.Lock()
		got, reason, _ := b.evaluateLocked(&a, now)
		b.mu.Unlock()
		if got != tt.want {
			t.Errorf("evaluate(%s >= %v) = %s (%s), want %s", tt.expr, tt.threshold, got, reason, tt.want)
		}
		if got == StateAlarm && !strings.HasPrefix(reason, "Threshold Crossed: 1 out of the last 1 datapoints") {
			t.Errorf("reason = %q, want CloudWatch's Threshold Crossed wording", reason)
		}
	}
}

func TestSeriesExpiresInBatches(t *testing.T) {
	s := &series{}
	for i := range int64(100) {
		s.add(i, 1, 1, 1, 1, 0)
	}
	s.add(100, 1, 1, 1, 1, 10) // 10 expired: under a quarter, kept for now
	if got := len(s.points); got != 101 {
		t.Errorf("len after 10 expired = %d, want 101", got)
	}
	s.add(101, 1, 1, 1, 1, 30) // 30 expired: a quarter or more, dropped
	if got, first := len(s.points), s.points[0].t; got != 72 || first != 30 {
		t.Errorf("after 30 expired: len %d first %d, want 72 and 30", got, first)
	}
	s.add(50, 2, 2, 2, 1, 30) // into an existing bucket
	if p := s.points[50-30]; p.sum != 3 || p.count != 2 || p.max != 2 {
		t.Errorf("merged bucket = %+v, want sum 3 count 2 max 2", p)
	}
}
