// Package cloudwatch emulates Amazon CloudWatch metrics and alarms in every
// protocol AWS serves it: rpcv2Cbor (the current aws-sdk-go-v2), JSON 1.0
// and awsQuery (the aws CLI v1).
//
// Rules:
//   - Metrics are aggregated per storage bucket of one AWS second (scaled),
//     kept for three AWS hours (at least ten real minutes), and computed as
//     SampleCount, Sum, Average, Minimum or Maximum. Percentile statistics
//     are refused with InvalidParameterValue rather than approximated.
//   - A period of P seconds is P×scale of real time: GetMetricData with
//     Period 60 at time scale 0.05 returns one datapoint per 3 real seconds.
//   - Alarms (single metric or metric math) are evaluated when created or
//     updated and then every period: the last EvaluationPeriods periods
//     ending now are compared with the threshold; DatapointsToAlarm of them
//     must breach for ALARM; TreatMissingData decides what missing periods
//     mean (missing: all missing is INSUFFICIENT_DATA; notBreaching,
//     breaching; ignore keeps the state).
//   - SetAlarmState sets the state until the next evaluation, as on AWS.
//   - Alarm state changes are logged and delivered to subscribers
//     (Subscribe), so EventBridge can publish them.
//   - Alarms persist across restarts; metric data does not.
package cloudwatch

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/awsproto"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/clock"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/state"
)

// Region and account of alarm ARNs.
const (
	Region  = "us-east-1"
	Account = "000000000000"
)

// Alarm states.
const (
	StateOK               = "OK"
	StateAlarm            = "ALARM"
	StateInsufficientData = "INSUFFICIENT_DATA"
)

// CloudWatch errors: the shape name (JSON/CBOR __type) and the query code.
func errResourceNotFound(format string, a ...any) *awsproto.Error {
	return &awsproto.Error{Code: "ResourceNotFound", Shape: "ResourceNotFound", Status: 404, Message: fmt.Sprintf(format, a...)}
}

func errInvalidValue(format string, a ...any) *awsproto.Error {
	return &awsproto.Error{Code: "InvalidParameterValue", Shape: "InvalidParameterValueException", Message: fmt.Sprintf(format, a...)}
}

func errMissing(param string) *awsproto.Error {
	return &awsproto.Error{Code: "MissingParameter", Shape: "MissingRequiredParameterException", Message: fmt.Sprintf("The parameter %s is required.", param)}
}

func errCombination(format string, a ...any) *awsproto.Error {
	return &awsproto.Error{Code: "InvalidParameterCombination", Shape: "InvalidParameterCombinationException", Message: fmt.Sprintf(format, a...)}
}

func errInvalidFormat(format string, a ...any) *awsproto.Error {
	return &awsproto.Error{Code: "InvalidFormat", Shape: "InvalidFormatFault", Message: fmt.Sprintf(format, a...)}
}

// Config is what the backend needs.
type Config struct {
	Logger *slog.Logger
	Clock  clock.Clock
	Store  state.Store
}

// AlarmState is an alarm's state at one moment.
type AlarmState struct {
	Value      string
	Reason     string
	ReasonData string // JSON, may be empty
	Timestamp  time.Time
}

// StateChange is one alarm transition, with the alarm's configuration as it
// was then.
type StateChange struct {
	Alarm    MetricAlarm
	Previous AlarmState
	Current  AlarmState
}

// Backend is the CloudWatch emulator; its methods are safe for concurrent use.
type Backend struct {
	cfg   Config
	log   *slog.Logger
	clock clock.Clock

	mu     sync.Mutex
	series map[string]*series
	alarms map[string]*alarm

	subMu sync.Mutex
	subs  map[int]func(StateChange)
	subN  int

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

type alarm struct {
	MetricAlarm
	history []AlarmHistoryItem // newest last, at most maxHistory
	cancel  context.CancelFunc
}

// maxHistory bounds each alarm's history.
const maxHistory = 100

func (a *alarm) record(typ, summary string, data any, at time.Time) {
	d, _ := json.Marshal(data)
	a.history = append(a.history, AlarmHistoryItem{AlarmName: a.AlarmName, AlarmType: "MetricAlarm", Timestamp: awsproto.NewTimestamp(at),
		HistoryItemType: typ, HistorySummary: summary, HistoryData: string(d)})
	if len(a.history) > maxHistory {
		a.history = append(a.history[:0:0], a.history[len(a.history)-maxHistory:]...)
	}
}

const stateName = "cloudwatch"

type snapshot struct {
	Alarms []persistedAlarm
}

type persistedAlarm struct {
	Alarm   MetricAlarm
	Tags    []Tag              `json:",omitempty"`
	History []AlarmHistoryItem `json:",omitempty"`
}

// New returns a backend with the alarms saved in cfg.Store, already being
// evaluated.
func New(cfg Config) (*Backend, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.New(1)
	}
	ctx, cancel := context.WithCancel(context.Background())
	b := &Backend{
		cfg: cfg, log: cfg.Logger, clock: cfg.Clock,
		series: map[string]*series{}, alarms: map[string]*alarm{}, subs: map[int]func(StateChange){},
		ctx: ctx, cancel: cancel,
	}
	var snap snapshot
	ok, err := cfg.Store.Load(stateName, &snap)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("restore cloudwatch: %w", err)
	}
	if ok {
		b.mu.Lock()
		for _, p := range snap.Alarms {
			a := &alarm{MetricAlarm: p.Alarm, history: p.History}
			a.Tags = p.Tags
			b.alarms[a.AlarmName] = a
			b.startAlarmLocked(a)
		}
		b.mu.Unlock()
		b.log.Info("restored cloudwatch", "alarms", len(snap.Alarms))
	}
	return b, nil
}

// Close stops alarm evaluation.
func (b *Backend) Close() error {
	b.cancel()
	b.wg.Wait()
	return nil
}

func (b *Backend) saveLocked() {
	var snap snapshot
	for _, a := range b.alarms {
		snap.Alarms = append(snap.Alarms, persistedAlarm{Alarm: a.MetricAlarm, Tags: a.Tags, History: a.history})
	}
	sort.Slice(snap.Alarms, func(i, j int) bool { return snap.Alarms[i].Alarm.AlarmName < snap.Alarms[j].Alarm.AlarmName })
	if err := b.cfg.Store.Save(stateName, snap); err != nil {
		b.log.Error("save cloudwatch state", "err", err)
	}
}

// resolution is the storage bucket: one AWS second, scaled.
func (b *Backend) resolution() time.Duration { return b.clock.Scale(time.Second) }

// retention is how long data points are kept.
func (b *Backend) retention() time.Duration {
	return max(b.clock.Scale(3*time.Hour), 10*time.Minute)
}

// PutMetric records one sample, for in-process publishers (the ALB, ECS).
func (b *Backend) PutMetric(namespace, name string, dims map[string]string, value float64, at time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.putLocked(namespace, name, dims, at, value, value, value, 1)
}

func (b *Backend) putLocked(namespace, name string, dims map[string]string, at time.Time, sum, lo, hi, count float64) {
	key := seriesKey(namespace, name, dims)
	s, ok := b.series[key]
	if !ok {
		d := make(map[string]string, len(dims))
		for k, v := range dims {
			d[k] = v
		}
		s = &series{namespace: namespace, name: name, dims: d}
		b.series[key] = s
	}
	res := int64(b.resolution())
	t := at.UnixNano() / res * res
	s.add(t, sum, lo, hi, count, b.clock.Now().Add(-b.retention()).UnixNano())
}

// AlarmState reports an alarm's state value (OK, ALARM, INSUFFICIENT_DATA).
func (b *Backend) AlarmState(_ context.Context, name string) (string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	a, ok := b.alarms[name]
	if !ok {
		return "", errResourceNotFound("Alarm %s not found", name)
	}
	return a.StateValue, nil
}

// Alarm describes one alarm.
func (b *Backend) Alarm(_ context.Context, name string) (MetricAlarm, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	a, ok := b.alarms[name]
	if !ok {
		return MetricAlarm{}, errResourceNotFound("Alarm %s not found", name)
	}
	return a.MetricAlarm, nil
}

// Subscribe calls fn after every alarm state change, in the goroutine that
// made it (keep fn short). It returns a function that unsubscribes.
func (b *Backend) Subscribe(fn func(StateChange)) (unsubscribe func()) {
	b.subMu.Lock()
	defer b.subMu.Unlock()
	id := b.subN
	b.subN++
	b.subs[id] = fn
	return func() {
		b.subMu.Lock()
		defer b.subMu.Unlock()
		delete(b.subs, id)
	}
}

func (b *Backend) notify(changes []StateChange) {
	if len(changes) == 0 {
		return
	}
	b.subMu.Lock()
	subs := make([]func(StateChange), 0, len(b.subs))
	for _, fn := range b.subs {
		subs = append(subs, fn)
	}
	b.subMu.Unlock()
	for _, c := range changes {
		for _, fn := range subs {
			fn(c)
		}
	}
}

func alarmARN(name string) string {
	return "arn:aws:cloudwatch:" + Region + ":" + Account + ":alarm:" + name
}

// ---- alarm evaluation ----

// alarmPeriod is the alarm's period: its own, or its metric-math queries'.
func alarmPeriod(a *MetricAlarm) int32 {
	if a.Period != nil {
		return *a.Period
	}
	for _, q := range a.Metrics {
		if q.MetricStat != nil && q.MetricStat.Period != nil {
			return *q.MetricStat.Period
		}
	}
	return 60
}

func (b *Backend) startAlarmLocked(a *alarm) {
	if a.cancel != nil {
		a.cancel()
	}
	ctx, cancel := context.WithCancel(b.ctx)
	a.cancel = cancel
	name := a.AlarmName
	period := time.Duration(alarmPeriod(&a.MetricAlarm)) * time.Second
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		t := b.clock.NewTicker(period)
		defer t.Stop()
		for {
			b.evaluate(ctx, name)
			select {
			case <-ctx.Done():
				return
			case <-t.C():
			}
		}
	}()
}

func (b *Backend) evaluate(ctx context.Context, name string) {
	b.mu.Lock()
	if ctx.Err() != nil {
		b.mu.Unlock()
		return
	}
	a, ok := b.alarms[name]
	if !ok {
		b.mu.Unlock()
		return
	}
	now := b.clock.Now()
	value, reason, data := b.evaluateLocked(&a.MetricAlarm, now)
	var changes []StateChange
	if value != "" {
		if c, changed := b.transitionLocked(a, value, reason, data, now); changed {
			changes = append(changes, c)
		}
	}
	b.mu.Unlock()
	b.notify(changes)
}

// transitionLocked moves an alarm to a new state value.
func (b *Backend) transitionLocked(a *alarm, value, reason, data string, now time.Time) (StateChange, bool) {
	if a.StateValue == value {
		return StateChange{}, false
	}
	prev := AlarmState{Value: a.StateValue, Reason: a.StateReason, ReasonData: a.StateReasonData}
	if a.StateUpdatedTimestamp != nil {
		prev.Timestamp = a.StateUpdatedTimestamp.Time
	}
	ts := awsproto.NewTimestamp(now)
	a.StateValue, a.StateReason, a.StateReasonData = value, reason, data
	a.StateUpdatedTimestamp, a.StateTransitionedTimestamp = &ts, &ts
	b.log.Info("alarm state changed", "alarm", a.AlarmName, "from", prev.Value, "to", value, "reason", reason)
	const layout = "2006-01-02T15:04:05.000-0700"
	state := func(v, r, ts string) map[string]any {
		return map[string]any{"stateValue": v, "stateReason": r, "stateReasonData": ts}
	}
	a.record("StateUpdate", fmt.Sprintf("Alarm updated from %s to %s", prev.Value, value), map[string]any{
		"version": "1.0", "oldState": state(prev.Value, prev.Reason, prev.ReasonData), "newState": state(value, reason, data),
		"timestamp": now.UTC().Format(layout),
	}, now)
	b.saveLocked()
	return StateChange{Alarm: a.MetricAlarm, Previous: prev, Current: AlarmState{Value: value, Reason: reason, ReasonData: data, Timestamp: now}}, true
}

// datapoint is one evaluated period; ok is false when it is missing.
type datapoint struct {
	start int64
	value float64
	ok    bool
}

// evaluateLocked decides an alarm's state now; "" means keep the current one.
func (b *Backend) evaluateLocked(a *MetricAlarm, now time.Time) (value, reason, data string) {
	n := int(a.EvaluationPeriods)
	width := b.clock.Scale(time.Duration(alarmPeriod(a)) * time.Second)
	windows := trailingWindows(now, width, n)
	values, stat, err := b.alarmValuesLocked(a, windows)
	if err != nil {
		b.log.Warn("evaluate alarm", "alarm", a.AlarmName, "err", err)
		return "", "", ""
	}
	dps := make([]datapoint, n)
	for i, w := range windows {
		v, ok := values[w.start]
		dps[i] = datapoint{start: w.start, value: v, ok: ok}
	}
	threshold := 0.0
	if a.Threshold != nil {
		threshold = *a.Threshold
	}
	m := n
	if a.DatapointsToAlarm != nil {
		m = int(*a.DatapointsToAlarm)
	}
	breaching, present := 0, 0
	for _, dp := range dps {
		switch {
		case dp.ok:
			present++
			if compare(a.ComparisonOperator, dp.value, threshold) {
				breaching++
			}
		case a.TreatMissingData == "breaching":
			breaching++
		}
	}
	treat := a.TreatMissingData
	if treat == "" {
		treat = "missing"
	}
	switch {
	case breaching >= m:
		value = StateAlarm
	case present == 0 && treat == "missing":
		value = StateInsufficientData
	case present == 0 && treat == "ignore":
		return "", "", ""
	default:
		value = StateOK
	}
	return value, reasonText(a, value, dps, breaching, m, threshold), reasonData(a, dps, stat, threshold, now, width)
}

func compare(op string, v, threshold float64) bool {
	switch op {
	case "GreaterThanOrEqualToThreshold":
		return v >= threshold
	case "GreaterThanThreshold":
		return v > threshold
	case "LessThanThreshold":
		return v < threshold
	case "LessThanOrEqualToThreshold":
		return v <= threshold
	}
	return false
}

var opWords = map[string]string{
	"GreaterThanOrEqualToThreshold": "greater than or equal to",
	"GreaterThanThreshold":          "greater than",
	"LessThanThreshold":             "less than",
	"LessThanOrEqualToThreshold":    "less than or equal to",
}

func formatDatapoints(dps []datapoint) string {
	var parts []string
	for _, dp := range dps {
		if dp.ok {
			parts = append(parts, fmt.Sprintf("%s (%s)", formatFloat(dp.value), time.Unix(0, dp.start).UTC().Format("02/01/06 15:04:05")))
		}
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

func formatFloat(f float64) string {
	if f == math.Trunc(f) && math.Abs(f) < 1e15 {
		return fmt.Sprintf("%.1f", f)
	}
	return fmt.Sprintf("%g", f)
}

// reasonText words the state reason as CloudWatch does.
func reasonText(a *MetricAlarm, value string, dps []datapoint, breaching, m int, threshold float64) string {
	n := len(dps)
	switch value {
	case StateAlarm:
		return fmt.Sprintf("Threshold Crossed: %d out of the last %d datapoints %s was %s the threshold (%s) (minimum %d datapoint%s for OK -> ALARM transition).",
			breaching, n, formatDatapoints(dps), opWords[a.ComparisonOperator], formatFloat(threshold), m, plural(m))
	case StateOK:
		present := 0
		for _, dp := range dps {
			if dp.ok {
				present++
			}
		}
		if present == 0 {
			return fmt.Sprintf("Threshold Crossed: no datapoints were received for %d period%s and %d missing datapoint%s %s treated as [NonBreaching].", n, plural(n), n, plural(n), wasWere(n))
		}
		return fmt.Sprintf("Threshold Crossed: %d datapoint%s %s %s not %s the threshold (%s).", present, plural(present), formatDatapoints(dps), wasWere(present), opWords[a.ComparisonOperator], formatFloat(threshold))
	default:
		return fmt.Sprintf("Insufficient Data: %d datapoint%s %s unknown.", n, plural(n), wasWere(n))
	}
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func wasWere(n int) string {
	if n == 1 {
		return "was"
	}
	return "were"
}

func reasonData(a *MetricAlarm, dps []datapoint, stat string, threshold float64, now time.Time, width time.Duration) string {
	const layout = "2006-01-02T15:04:05.000-0700"
	recent := []float64{}
	type evaluated struct {
		Timestamp string  `json:"timestamp"`
		Value     float64 `json:"value"`
	}
	evals := []evaluated{}
	for _, dp := range dps {
		if dp.ok {
			recent = append(recent, dp.value)
			evals = append(evals, evaluated{time.Unix(0, dp.start).UTC().Format(layout), dp.value})
		}
	}
	start := now.Add(-width * time.Duration(len(dps)))
	d := map[string]any{
		"version": "1.0", "queryDate": now.UTC().Format(layout), "startDate": start.UTC().Format(layout),
		"period": alarmPeriod(a), "recentDatapoints": recent, "threshold": threshold, "evaluatedDatapoints": evals,
	}
	if stat != "" {
		d["statistic"] = stat
	}
	b, _ := json.Marshal(d)
	return string(b)
}

// alarmValuesLocked computes the alarm's metric (or metric-math result) for
// each window.
func (b *Backend) alarmValuesLocked(a *MetricAlarm, windows []window) (map[int64]float64, string, error) {
	if len(a.Metrics) == 0 {
		s, ok := b.series[seriesKey(a.Namespace, a.MetricName, dimMap(a.Dimensions))]
		if !ok {
			return map[int64]float64{}, a.Statistic, nil
		}
		return s.stat(a.Statistic, windows), a.Statistic, nil
	}
	results, err := b.queryLocked(a.Metrics, windows)
	if err != nil {
		return nil, "", err
	}
	for _, q := range a.Metrics {
		if q.returns() {
			stat := ""
			if q.MetricStat != nil {
				stat = q.MetricStat.Stat
			}
			return results[q.Id], stat, nil
		}
	}
	return map[int64]float64{}, "", nil
}

func dimMap(dims []Dimension) map[string]string {
	m := make(map[string]string, len(dims))
	for _, d := range dims {
		m[d.Name] = d.Value
	}
	return m
}

// queryLocked computes every query over windows: metric stats first, then
// expressions in request order.
func (b *Backend) queryLocked(queries []MetricDataQuery, windows []window) (map[string]map[int64]float64, error) {
	env := &evalEnv{series: map[string]map[int64]float64{}}
	for _, w := range windows {
		env.grid = append(env.grid, w.start)
	}
	for _, q := range queries {
		if q.MetricStat == nil || q.MetricStat.Metric == nil {
			continue
		}
		m := q.MetricStat.Metric
		res := map[int64]float64{}
		if s, ok := b.series[seriesKey(m.Namespace, m.MetricName, dimMap(m.Dimensions))]; ok {
			res = s.stat(q.MetricStat.Stat, windows)
		}
		env.series[q.Id] = res
		env.metricIDs = append(env.metricIDs, idLabel{q.Id, q.Label})
	}
	for _, q := range queries {
		if q.Expression == "" {
			continue
		}
		v, err := evalExpression(q.Expression, env)
		if err != nil {
			return nil, fmt.Errorf("evaluate expression %s (%q): %w", q.Id, q.Expression, err)
		}
		switch {
		case v.scalar != nil:
			res := map[int64]float64{}
			for _, t := range env.grid {
				res[t] = *v.scalar
			}
			env.series[q.Id] = res
		case v.isArray && len(v.series) != 1:
			return nil, fmt.Errorf("expression %s (%q) returns %d time series; it must return one", q.Id, q.Expression, len(v.series))
		default:
			env.series[q.Id] = v.series[0]
		}
	}
	return env.series, nil
}
