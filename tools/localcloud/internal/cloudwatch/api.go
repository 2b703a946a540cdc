package cloudwatch

import (
	"context"
	"encoding/json"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/awsproto"
)

// Register adds CloudWatch to the mux in its three protocols.
func (b *Backend) Register(m *awsproto.Mux) {
	type op interface {
		JSON() awsproto.JSONOp
		Query() awsproto.QueryOp
		CBOR() awsproto.CBOROp
	}
	ops := map[string]op{
		"PutMetricData":        awsproto.Op[putMetricDataInput](b.putMetricData),
		"GetMetricData":        awsproto.Op[getMetricDataInput](b.getMetricData),
		"GetMetricStatistics":  awsproto.Op[getMetricStatisticsInput](b.getMetricStatistics),
		"ListMetrics":          awsproto.Op[listMetricsInput](b.listMetrics),
		"PutMetricAlarm":       awsproto.Op[putMetricAlarmInput](b.putMetricAlarm),
		"DescribeAlarms":       awsproto.Op[describeAlarmsInput](b.describeAlarms),
		"DeleteAlarms":         awsproto.Op[alarmNamesInput](b.deleteAlarms),
		"SetAlarmState":        awsproto.Op[setAlarmStateInput](b.setAlarmState),
		"DescribeAlarmHistory": awsproto.Op[describeHistoryInput](b.describeAlarmHistory),
		"EnableAlarmActions":   awsproto.Op[alarmNamesInput](b.enableAlarmActions),
		"DisableAlarmActions":  awsproto.Op[alarmNamesInput](b.disableAlarmActions),
		"TagResource":          awsproto.Op[tagResourceInput](b.tagResource),
		"ListTagsForResource":  awsproto.Op[tagResourceInput](b.listTagsForResource),
	}
	jsonOps := map[string]awsproto.JSONOp{}
	queryOps := map[string]awsproto.QueryOp{}
	cborOps := map[string]awsproto.CBOROp{}
	for name, o := range ops {
		jsonOps[name], queryOps[name], cborOps[name] = o.JSON(), o.Query(), o.CBOR()
	}
	const service = "GraniteServiceVersion20100801"
	m.HandleJSON(awsproto.JSONService{TargetPrefix: service, Version: "1.0", QueryCompatible: true, Ops: jsonOps})
	m.HandleCBOR(awsproto.CBORService{Name: service, QueryCompatible: true, Ops: cborOps})
	m.HandleQuery(awsproto.QueryService{
		Version: "2010-08-01", SigningName: "monitoring", XMLNamespace: "http://monitoring.amazonaws.com/doc/2010-08-01/",
		ValidationCode: "InvalidParameterValue", Ops: queryOps,
	})
}

type empty struct{}

// ---- metrics ----

type putMetricDataInput struct {
	Namespace  string
	MetricData []MetricDatum
}

func (b *Backend) putMetricData(_ context.Context, in *putMetricDataInput) (any, error) {
	if in.Namespace == "" {
		return nil, errMissing("Namespace")
	}
	if strings.HasPrefix(in.Namespace, "AWS/") {
		return nil, errInvalidValue("The value %s for parameter Namespace is invalid.", in.Namespace)
	}
	if len(in.MetricData) == 0 {
		return nil, errMissing("MetricData")
	}
	if len(in.MetricData) > 1000 {
		return nil, errInvalidValue("The collection MetricData must not have a size greater than 1000.")
	}
	for i, d := range in.MetricData {
		p := "MetricData.member." + itoa(i+1)
		if d.MetricName == "" {
			return nil, errMissing(p + ".MetricName")
		}
		set := 0
		for _, ok := range []bool{d.Value != nil, d.StatisticValues != nil, len(d.Values) > 0} {
			if ok {
				set++
			}
		}
		if set > 1 {
			return nil, errCombination("The parameters %s.Value, %s.StatisticValues and %s.Values are mutually exclusive and you have specified more than one.", p, p, p)
		}
		if len(d.Counts) > 0 && len(d.Counts) != len(d.Values) {
			return nil, errCombination("The parameters %s.Values and %s.Counts must be of the same size.", p, p)
		}
		if len(d.Dimensions) > 30 {
			return nil, errInvalidValue("The collection %s.Dimensions must not have a size greater than 30.", p)
		}
	}
	now := b.clock.Now()
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, d := range in.MetricData {
		at := now
		if d.Timestamp != nil {
			at = d.Timestamp.Time
		}
		dims := dimMap(d.Dimensions)
		switch {
		case d.Value != nil:
			b.putLocked(in.Namespace, d.MetricName, dims, at, *d.Value, *d.Value, *d.Value, 1)
		case d.StatisticValues != nil:
			s := d.StatisticValues
			b.putLocked(in.Namespace, d.MetricName, dims, at, s.Sum, s.Minimum, s.Maximum, s.SampleCount)
		default:
			for j, v := range d.Values {
				c := 1.0
				if j < len(d.Counts) {
					c = d.Counts[j]
				}
				b.putLocked(in.Namespace, d.MetricName, dims, at, v*c, v, v, c)
			}
		}
	}
	return empty{}, nil
}

func itoa(i int) string { return strconv.Itoa(i) }

var idRE = regexp.MustCompile(`^[a-z][a-zA-Z0-9_]*$`)

func validStatistic(s string) error {
	if slices.Contains(statistics, s) {
		return nil
	}
	if regexp.MustCompile(`^(p|tm|wm|tc|ts|pr)\d`).MatchString(s) {
		return errInvalidValue("The statistic %s is not supported by localcloud, which computes SampleCount, Average, Sum, Minimum and Maximum only.", s)
	}
	return errInvalidValue("The value %s for parameter Stat is not valid. Valid values are: %s.", s, strings.Join(statistics, ", "))
}

func validPeriod(field string, p int32) error {
	if p == 1 || p == 5 || p == 10 || p == 20 || p == 30 || (p >= 60 && p%60 == 0) {
		return nil
	}
	return errInvalidValue("The parameter %s must be 1, 5, 10, 20, 30, or a multiple of 60.", field)
}

// validateQueries checks metric data queries as GetMetricData and metric-math
// alarms both require.
func validateQueries(queries []MetricDataQuery, prefix string) error {
	ids := map[string]bool{}
	for i, q := range queries {
		p := prefix + ".member." + itoa(i+1)
		if q.Id == "" {
			return errMissing(p + ".Id")
		}
		if !idRE.MatchString(q.Id) {
			return errInvalidValue("The value %s for parameter %s.Id is not valid. It must start with a lowercase letter and contain only letters, numbers and underscores.", q.Id, p)
		}
		if ids[q.Id] {
			return errInvalidValue("The value %s for parameter %s.Id is not unique.", q.Id, p)
		}
		ids[q.Id] = true
		if (q.MetricStat == nil) == (q.Expression == "") {
			return errCombination("Exactly one of %s.MetricStat and %s.Expression must be specified.", p, p)
		}
		if ms := q.MetricStat; ms != nil {
			switch {
			case ms.Metric == nil || ms.Metric.MetricName == "":
				return errMissing(p + ".MetricStat.Metric.MetricName")
			case ms.Metric.Namespace == "":
				return errMissing(p + ".MetricStat.Metric.Namespace")
			case ms.Period == nil:
				return errMissing(p + ".MetricStat.Period")
			case ms.Stat == "":
				return errMissing(p + ".MetricStat.Stat")
			}
			if err := validPeriod(p+".MetricStat.Period", *ms.Period); err != nil {
				return err
			}
			if err := validStatistic(ms.Stat); err != nil {
				return err
			}
		}
	}
	// Expressions must parse and refer only to known ids.
	env := &evalEnv{series: map[string]map[int64]float64{}}
	for _, q := range queries {
		env.series[q.Id] = map[int64]float64{}
		if q.MetricStat != nil {
			env.metricIDs = append(env.metricIDs, idLabel{q.Id, q.Label})
		}
	}
	for i, q := range queries {
		if q.Expression == "" {
			continue
		}
		if _, err := evalExpression(q.Expression, env); err != nil {
			return errInvalidValue("Invalid metrics list: %s.member.%d.Expression %q: %v", prefix, i+1, q.Expression, err)
		}
	}
	return nil
}

type getMetricDataInput struct {
	MetricDataQueries []MetricDataQuery
	StartTime         *awsproto.Timestamp
	EndTime           *awsproto.Timestamp
	ScanBy            string
	MaxDatapoints     *int32
	NextToken         string
}

// MetricDataResult is one query's answer.
type MetricDataResult struct {
	Id         string               `json:"Id" xml:"Id"`
	Label      string               `json:"Label" xml:"Label"`
	Timestamps []awsproto.Timestamp `json:"Timestamps" xml:"Timestamps>member"`
	Values     []float64            `json:"Values" xml:"Values>member"`
	StatusCode string               `json:"StatusCode" xml:"StatusCode"`
}

type getMetricDataOutput struct {
	MetricDataResults []MetricDataResult `json:"MetricDataResults" xml:"MetricDataResults>member"`
	Messages          []struct{}         `json:"Messages" xml:"Messages>member"`
}

func (b *Backend) getMetricData(_ context.Context, in *getMetricDataInput) (any, error) {
	switch {
	case len(in.MetricDataQueries) == 0:
		return nil, errMissing("MetricDataQueries")
	case in.StartTime == nil:
		return nil, errMissing("StartTime")
	case in.EndTime == nil:
		return nil, errMissing("EndTime")
	case !in.StartTime.Before(in.EndTime.Time):
		return nil, errInvalidValue("The parameter StartTime must be less than the parameter EndTime.")
	case len(in.MetricDataQueries) > 500:
		return nil, errInvalidValue("The collection MetricDataQueries must not have a size greater than 500.")
	case in.ScanBy != "" && in.ScanBy != "TimestampDescending" && in.ScanBy != "TimestampAscending":
		return nil, errInvalidValue("The value %s for parameter ScanBy is not valid.", in.ScanBy)
	}
	if err := validateQueries(in.MetricDataQueries, "MetricDataQueries"); err != nil {
		return nil, err
	}
	period := int32(60)
	for _, q := range in.MetricDataQueries {
		if q.MetricStat != nil {
			period = *q.MetricStat.Period
			break
		}
		if q.Period != nil {
			period = *q.Period
		}
	}
	windows := alignedWindows(in.StartTime.Time, in.EndTime.Time, b.clock.Scale(time.Duration(period)*time.Second))
	b.mu.Lock()
	results, err := b.queryLocked(in.MetricDataQueries, windows)
	b.mu.Unlock()
	if err != nil {
		return nil, errInvalidValue("%v", err)
	}
	out := getMetricDataOutput{MetricDataResults: []MetricDataResult{}, Messages: []struct{}{}}
	for _, q := range in.MetricDataQueries {
		if !q.returns() {
			continue
		}
		label := q.Label
		if label == "" {
			label = q.Id
			if q.MetricStat != nil {
				label = q.MetricStat.Metric.MetricName
			}
		}
		r := MetricDataResult{Id: q.Id, Label: label, Timestamps: []awsproto.Timestamp{}, Values: []float64{}, StatusCode: "Complete"}
		ts := make([]int64, 0, len(results[q.Id]))
		for t := range results[q.Id] {
			ts = append(ts, t)
		}
		sort.Slice(ts, func(i, j int) bool {
			if in.ScanBy == "TimestampAscending" {
				return ts[i] < ts[j]
			}
			return ts[i] > ts[j]
		})
		for _, t := range ts {
			r.Timestamps = append(r.Timestamps, awsproto.NewTimestamp(time.Unix(0, t).UTC()))
			r.Values = append(r.Values, results[q.Id][t])
		}
		out.MetricDataResults = append(out.MetricDataResults, r)
	}
	return out, nil
}

type getMetricStatisticsInput struct {
	Namespace  string
	MetricName string
	Dimensions []Dimension
	StartTime  *awsproto.Timestamp
	EndTime    *awsproto.Timestamp
	Period     *int32
	Statistics []string
	Unit       string
}

// Datapoint is one GetMetricStatistics period.
type Datapoint struct {
	Timestamp   awsproto.Timestamp `json:"Timestamp" xml:"Timestamp"`
	SampleCount *float64           `json:"SampleCount,omitempty" xml:"SampleCount,omitempty"`
	Average     *float64           `json:"Average,omitempty" xml:"Average,omitempty"`
	Sum         *float64           `json:"Sum,omitempty" xml:"Sum,omitempty"`
	Minimum     *float64           `json:"Minimum,omitempty" xml:"Minimum,omitempty"`
	Maximum     *float64           `json:"Maximum,omitempty" xml:"Maximum,omitempty"`
	Unit        string             `json:"Unit,omitempty" xml:"Unit,omitempty"`
}

type getMetricStatisticsOutput struct {
	Label      string      `json:"Label" xml:"Label"`
	Datapoints []Datapoint `json:"Datapoints" xml:"Datapoints>member"`
}

func (b *Backend) getMetricStatistics(_ context.Context, in *getMetricStatisticsInput) (any, error) {
	for _, req := range []struct {
		name string
		ok   bool
	}{{"Namespace", in.Namespace != ""}, {"MetricName", in.MetricName != ""}, {"StartTime", in.StartTime != nil}, {"EndTime", in.EndTime != nil}, {"Period", in.Period != nil}} {
		if !req.ok {
			return nil, errMissing(req.name)
		}
	}
	if len(in.Statistics) == 0 {
		return nil, errMissing("Statistics")
	}
	if !in.StartTime.Before(in.EndTime.Time) {
		return nil, errInvalidValue("The parameter StartTime must be less than the parameter EndTime.")
	}
	if err := validPeriod("Period", *in.Period); err != nil {
		return nil, err
	}
	for _, s := range in.Statistics {
		if err := validStatistic(s); err != nil {
			return nil, err
		}
	}
	windows := alignedWindows(in.StartTime.Time, in.EndTime.Time, b.clock.Scale(time.Duration(*in.Period)*time.Second))
	b.mu.Lock()
	s, ok := b.series[seriesKey(in.Namespace, in.MetricName, dimMap(in.Dimensions))]
	byStat := map[string]map[int64]float64{}
	if ok {
		for _, st := range in.Statistics {
			byStat[st] = s.stat(st, windows)
		}
	}
	b.mu.Unlock()
	out := getMetricStatisticsOutput{Label: in.MetricName, Datapoints: []Datapoint{}}
	for _, w := range windows {
		var dp *Datapoint
		for _, st := range in.Statistics {
			v, ok := byStat[st][w.start]
			if !ok {
				continue
			}
			if dp == nil {
				dp = &Datapoint{Timestamp: awsproto.NewTimestamp(time.Unix(0, w.start).UTC()), Unit: "None"}
			}
			switch st {
			case "SampleCount":
				dp.SampleCount = &v
			case "Average":
				dp.Average = &v
			case "Sum":
				dp.Sum = &v
			case "Minimum":
				dp.Minimum = &v
			case "Maximum":
				dp.Maximum = &v
			}
		}
		if dp != nil {
			out.Datapoints = append(out.Datapoints, *dp)
		}
	}
	return out, nil
}

type listMetricsInput struct {
	Namespace  string
	MetricName string
	Dimensions []struct{ Name, Value string }
	NextToken  string
}

type listMetricsOutput struct {
	Metrics   []Metric `json:"Metrics" xml:"Metrics>member"`
	NextToken string   `json:"NextToken,omitempty" xml:"NextToken,omitempty"`
}

func (b *Backend) listMetrics(_ context.Context, in *listMetricsInput) (any, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := listMetricsOutput{Metrics: []Metric{}}
	for _, s := range b.series {
		if (in.Namespace != "" && s.namespace != in.Namespace) || (in.MetricName != "" && s.name != in.MetricName) {
			continue
		}
		match := true
		for _, f := range in.Dimensions {
			v, ok := s.dims[f.Name]
			if !ok || (f.Value != "" && v != f.Value) {
				match = false
			}
		}
		if !match {
			continue
		}
		m := Metric{Namespace: s.namespace, MetricName: s.name}
		for k, v := range s.dims {
			m.Dimensions = append(m.Dimensions, Dimension{k, v})
		}
		sort.Slice(m.Dimensions, func(i, j int) bool { return m.Dimensions[i].Name < m.Dimensions[j].Name })
		out.Metrics = append(out.Metrics, m)
	}
	sort.Slice(out.Metrics, func(i, j int) bool {
		return seriesKey(out.Metrics[i].Namespace, out.Metrics[i].MetricName, dimMap(out.Metrics[i].Dimensions)) <
			seriesKey(out.Metrics[j].Namespace, out.Metrics[j].MetricName, dimMap(out.Metrics[j].Dimensions))
	})
	var err error
	if out.Metrics, out.NextToken, err = page(out.Metrics, in.NextToken, 500, 500, 500); err != nil {
		return nil, err
	}
	return out, nil
}

// ---- alarms ----

type putMetricAlarmInput struct {
	AlarmName                        string
	AlarmDescription                 string
	ActionsEnabled                   *bool
	OKActions                        []string
	AlarmActions                     []string
	InsufficientDataActions          []string
	MetricName                       string
	Namespace                        string
	Statistic                        string
	ExtendedStatistic                string
	Dimensions                       []Dimension
	Period                           *int32
	Unit                             string
	EvaluationPeriods                *int32
	DatapointsToAlarm                *int32
	Threshold                        *float64
	ComparisonOperator               string
	TreatMissingData                 string
	EvaluateLowSampleCountPercentile string
	Metrics                          []MetricDataQuery
	ThresholdMetricId                string
	Tags                             []Tag
}

var operators = []string{"GreaterThanOrEqualToThreshold", "GreaterThanThreshold", "LessThanThreshold", "LessThanOrEqualToThreshold"}

func validateAlarm(in *putMetricAlarmInput) error {
	switch {
	case in.AlarmName == "":
		return errMissing("AlarmName")
	case len(in.AlarmName) > 255:
		return errInvalidValue("The parameter AlarmName must be at most 255 characters long.")
	case in.EvaluationPeriods == nil:
		return errMissing("EvaluationPeriods")
	case in.ComparisonOperator == "":
		return errMissing("ComparisonOperator")
	}
	if !slices.Contains(operators, in.ComparisonOperator) {
		return errInvalidValue("The value %s for parameter ComparisonOperator is not valid. localcloud supports %s.", in.ComparisonOperator, strings.Join(operators, ", "))
	}
	if *in.EvaluationPeriods < 1 {
		return errInvalidValue("The parameter EvaluationPeriods must be greater than or equal to 1.")
	}
	if in.DatapointsToAlarm != nil && (*in.DatapointsToAlarm < 1 || *in.DatapointsToAlarm > *in.EvaluationPeriods) {
		return errInvalidValue("DatapointsToAlarm must be between 1 and EvaluationPeriods (%d).", *in.EvaluationPeriods)
	}
	if in.TreatMissingData != "" && !slices.Contains([]string{"breaching", "notBreaching", "ignore", "missing"}, in.TreatMissingData) {
		return errInvalidValue("The value %s for parameter TreatMissingData is not valid. Valid values are: breaching, notBreaching, ignore, missing.", in.TreatMissingData)
	}
	if in.ThresholdMetricId != "" {
		return errInvalidValue("ThresholdMetricId (anomaly detection bands) is not supported by localcloud.")
	}
	if in.Threshold == nil {
		return errMissing("Threshold")
	}
	single := in.MetricName != "" || in.Namespace != "" || in.Statistic != "" || in.ExtendedStatistic != "" || in.Period != nil || len(in.Dimensions) > 0
	switch {
	case single && len(in.Metrics) > 0:
		return errCombination("The parameters MetricName, Namespace, Statistic, ExtendedStatistic, Dimensions and Period cannot be specified together with Metrics.")
	case !single && len(in.Metrics) == 0:
		return errMissing("MetricName")
	case single:
		switch {
		case in.MetricName == "":
			return errMissing("MetricName")
		case in.Namespace == "":
			return errMissing("Namespace")
		case in.Period == nil:
			return errMissing("Period")
		case in.Statistic == "" && in.ExtendedStatistic == "":
			return errCombination("Exactly one of Statistic and ExtendedStatistic must be specified.")
		case in.Statistic != "" && in.ExtendedStatistic != "":
			return errCombination("Exactly one of Statistic and ExtendedStatistic must be specified.")
		case in.ExtendedStatistic != "":
			return validStatistic(in.ExtendedStatistic)
		}
		if err := validPeriod("Period", *in.Period); err != nil {
			return err
		}
		return validStatistic(in.Statistic)
	}
	if err := validateQueries(in.Metrics, "Metrics"); err != nil {
		return err
	}
	returning := 0
	var period *int32
	for _, q := range in.Metrics {
		if q.returns() {
			returning++
		}
		if q.MetricStat != nil {
			if period != nil && *period != *q.MetricStat.Period {
				return errInvalidValue("All metrics in an alarm must have the same period.")
			}
			period = q.MetricStat.Period
		}
	}
	if returning != 1 {
		return errInvalidValue("Exactly one element of the metrics list must return data (ReturnData true); %d do.", returning)
	}
	if period == nil {
		return errInvalidValue("The metrics list must contain at least one metric (MetricStat).")
	}
	return nil
}

func (b *Backend) putMetricAlarm(_ context.Context, in *putMetricAlarmInput) (any, error) {
	if err := validateAlarm(in); err != nil {
		return nil, err
	}
	now := b.clock.Now()
	ts := awsproto.NewTimestamp(now)
	actionsEnabled := in.ActionsEnabled == nil || *in.ActionsEnabled
	cfg := MetricAlarm{
		AlarmName: in.AlarmName, AlarmArn: alarmARN(in.AlarmName), AlarmDescription: in.AlarmDescription,
		AlarmConfigurationUpdatedTimestamp: &ts, ActionsEnabled: actionsEnabled,
		OKActions: in.OKActions, AlarmActions: in.AlarmActions, InsufficientDataActions: in.InsufficientDataActions,
		MetricName: in.MetricName, Namespace: in.Namespace, Statistic: in.Statistic, Unit: in.Unit, Dimensions: in.Dimensions,
		Period: in.Period, EvaluationPeriods: *in.EvaluationPeriods, DatapointsToAlarm: in.DatapointsToAlarm, Threshold: in.Threshold,
		ComparisonOperator: in.ComparisonOperator, TreatMissingData: in.TreatMissingData, Metrics: in.Metrics,
	}
	b.mu.Lock()
	a, exists := b.alarms[in.AlarmName]
	if exists {
		// An update replaces the configuration and keeps the state.
		cfg.StateValue, cfg.StateReason, cfg.StateReasonData = a.StateValue, a.StateReason, a.StateReasonData
		cfg.StateUpdatedTimestamp, cfg.StateTransitionedTimestamp = a.StateUpdatedTimestamp, a.StateTransitionedTimestamp
		a.MetricAlarm = cfg
	} else {
		cfg.StateValue, cfg.StateReason = StateInsufficientData, "Unchecked: Initial alarm creation"
		cfg.StateUpdatedTimestamp = &ts
		a = &alarm{MetricAlarm: cfg}
		b.alarms[in.AlarmName] = a
	}
	if in.Tags != nil {
		a.Tags = in.Tags
	}
	summary := "Alarm \"" + in.AlarmName + "\" created"
	if exists {
		summary = "Alarm \"" + in.AlarmName + "\" updated"
	}
	a.record("ConfigurationUpdate", summary, map[string]any{"version": "1.0", "type": map[bool]string{true: "Update", false: "Create"}[exists]}, now)
	b.log.Info("alarm saved", "alarm", in.AlarmName, "updated", exists)
	b.startAlarmLocked(a)
	b.saveLocked()
	b.mu.Unlock()
	return empty{}, nil
}

type describeAlarmsInput struct {
	AlarmNames      []string
	AlarmNamePrefix string
	StateValue      string
	AlarmTypes      []string
	ActionPrefix    string
	MaxRecords      *int32
	NextToken       string
}

type describeAlarmsOutput struct {
	MetricAlarms    []MetricAlarm `json:"MetricAlarms" xml:"MetricAlarms>member"`
	CompositeAlarms []struct{}    `json:"CompositeAlarms" xml:"CompositeAlarms>member"`
	NextToken       string        `json:"NextToken,omitempty" xml:"NextToken,omitempty"`
}

// page cuts one page out of a full listing; the token is the page's offset.
func page[T any](items []T, token string, limit, def, maxLimit int) ([]T, string, error) {
	if limit == 0 {
		limit = def
	}
	if limit < 1 || limit > maxLimit {
		return nil, "", errInvalidValue("The value %d for parameter MaxRecords is not valid. It must be between 1 and %d.", limit, maxLimit)
	}
	start := 0
	if token != "" {
		n, err := strconv.Atoi(token)
		if err != nil || n < 0 || n > len(items) {
			return nil, "", &awsproto.Error{Code: "InvalidNextToken", Shape: "InvalidNextToken", Message: "The service couldn't process the NextToken."}
		}
		start = n
	}
	end := min(start+limit, len(items))
	next := ""
	if end < len(items) {
		next = strconv.Itoa(end)
	}
	return items[start:end], next, nil
}

func (b *Backend) describeAlarms(_ context.Context, in *describeAlarmsInput) (any, error) {
	if len(in.AlarmNames) > 0 && in.AlarmNamePrefix != "" {
		return nil, errCombination("AlarmNames and AlarmNamePrefix cannot be specified together.")
	}
	if in.StateValue != "" && !slices.Contains([]string{StateOK, StateAlarm, StateInsufficientData}, in.StateValue) {
		return nil, errInvalidValue("The value %s for parameter StateValue is not valid.", in.StateValue)
	}
	out := describeAlarmsOutput{MetricAlarms: []MetricAlarm{}, CompositeAlarms: []struct{}{}}
	if len(in.AlarmTypes) > 0 && !slices.Contains(in.AlarmTypes, "MetricAlarm") {
		return out, nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, a := range b.alarms {
		switch {
		case len(in.AlarmNames) > 0 && !slices.Contains(in.AlarmNames, a.AlarmName),
			in.AlarmNamePrefix != "" && !strings.HasPrefix(a.AlarmName, in.AlarmNamePrefix),
			in.StateValue != "" && a.StateValue != in.StateValue,
			in.ActionPrefix != "" && !slices.ContainsFunc(a.AlarmActions, func(s string) bool { return strings.HasPrefix(s, in.ActionPrefix) }):
			continue
		}
		out.MetricAlarms = append(out.MetricAlarms, a.MetricAlarm)
	}
	sort.Slice(out.MetricAlarms, func(i, j int) bool { return out.MetricAlarms[i].AlarmName < out.MetricAlarms[j].AlarmName })
	limit := 0
	if in.MaxRecords != nil {
		limit = int(*in.MaxRecords)
		if limit == 0 {
			limit = -1 // an explicit 0 is out of range
		}
	}
	var err error
	if out.MetricAlarms, out.NextToken, err = page(out.MetricAlarms, in.NextToken, limit, 50, 100); err != nil {
		return nil, err
	}
	return out, nil
}

type alarmNamesInput struct {
	AlarmNames []string
}

func (b *Backend) deleteAlarms(_ context.Context, in *alarmNamesInput) (any, error) {
	if len(in.AlarmNames) == 0 {
		return nil, errMissing("AlarmNames")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	var missing []string
	for _, n := range in.AlarmNames {
		if _, ok := b.alarms[n]; !ok {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		return nil, errResourceNotFound("%d alarm%s not found: [%s]", len(missing), map[bool]string{true: " was", false: "s were"}[len(missing) == 1], strings.Join(missing, ", "))
	}
	for _, n := range in.AlarmNames {
		a := b.alarms[n]
		a.cancel()
		delete(b.alarms, n)
		b.log.Info("alarm deleted", "alarm", n)
	}
	b.saveLocked()
	return empty{}, nil
}

type setAlarmStateInput struct {
	AlarmName       string
	StateValue      string
	StateReason     string
	StateReasonData string
}

// setAlarmState sets the state until the next evaluation decides again.
func (b *Backend) setAlarmState(_ context.Context, in *setAlarmStateInput) (any, error) {
	switch {
	case in.AlarmName == "":
		return nil, errMissing("AlarmName")
	case in.StateValue == "":
		return nil, errMissing("StateValue")
	case in.StateReason == "":
		return nil, errMissing("StateReason")
	}
	if !slices.Contains([]string{StateOK, StateAlarm, StateInsufficientData}, in.StateValue) {
		return nil, errInvalidValue("The value %s for parameter StateValue is not valid. Valid values are: OK, ALARM, INSUFFICIENT_DATA.", in.StateValue)
	}
	if in.StateReasonData != "" && !json.Valid([]byte(in.StateReasonData)) {
		return nil, errInvalidFormat("The StateReasonData parameter must be valid JSON.")
	}
	b.mu.Lock()
	a, ok := b.alarms[in.AlarmName]
	if !ok {
		b.mu.Unlock()
		return nil, errResourceNotFound("Alarm %s not found", in.AlarmName)
	}
	c, changed := b.transitionLocked(a, in.StateValue, in.StateReason, in.StateReasonData, b.clock.Now())
	if !changed {
		a.StateReason, a.StateReasonData = in.StateReason, in.StateReasonData
		b.saveLocked()
	}
	b.mu.Unlock()
	if changed {
		b.notify([]StateChange{c})
	}
	return empty{}, nil
}

type tagResourceInput struct {
	ResourceARN string
	Tags        []Tag
}

type listTagsOutput struct {
	Tags []Tag `json:"Tags" xml:"Tags>member"`
}

func (b *Backend) alarmByARNLocked(arn string) (*alarm, error) {
	if arn == "" {
		return nil, errMissing("ResourceARN")
	}
	name, ok := strings.CutPrefix(arn, "arn:aws:cloudwatch:"+Region+":"+Account+":alarm:")
	if a, found := b.alarms[name]; ok && found {
		return a, nil
	}
	return nil, errResourceNotFound("Resource %s not found", arn)
}

func (b *Backend) tagResource(_ context.Context, in *tagResourceInput) (any, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	a, err := b.alarmByARNLocked(in.ResourceARN)
	if err != nil {
		return nil, err
	}
	for _, t := range in.Tags {
		a.Tags = slices.DeleteFunc(a.Tags, func(o Tag) bool { return o.Key == t.Key })
		a.Tags = append(a.Tags, t)
	}
	b.saveLocked()
	return empty{}, nil
}

func (b *Backend) listTagsForResource(_ context.Context, in *tagResourceInput) (any, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	a, err := b.alarmByARNLocked(in.ResourceARN)
	if err != nil {
		return nil, err
	}
	return listTagsOutput{Tags: append([]Tag{}, a.Tags...)}, nil
}

type describeHistoryInput struct {
	AlarmName       string
	AlarmTypes      []string
	HistoryItemType string
	StartDate       *awsproto.Timestamp
	EndDate         *awsproto.Timestamp
	MaxRecords      *int32
	NextToken       string
	ScanBy          string
}

type describeHistoryOutput struct {
	AlarmHistoryItems []AlarmHistoryItem `json:"AlarmHistoryItems" xml:"AlarmHistoryItems>member"`
}

// describeAlarmHistory lists state and configuration changes, newest first
// (the last 100 per alarm).
func (b *Backend) describeAlarmHistory(_ context.Context, in *describeHistoryInput) (any, error) {
	if in.HistoryItemType != "" && !slices.Contains([]string{"ConfigurationUpdate", "StateUpdate", "Action", "AlarmContributorStateUpdate", "AlarmContributorAction"}, in.HistoryItemType) {
		return nil, errInvalidValue("The value %s for parameter HistoryItemType is not valid.", in.HistoryItemType)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	type entry struct {
		item AlarmHistoryItem
		seq  int // order of recording within the alarm, for equal timestamps
	}
	var entries []entry
	for _, a := range b.alarms {
		if in.AlarmName != "" && a.AlarmName != in.AlarmName {
			continue
		}
		for i, h := range a.history {
			if (in.HistoryItemType != "" && h.HistoryItemType != in.HistoryItemType) ||
				(in.StartDate != nil && h.Timestamp.Before(in.StartDate.Time)) || (in.EndDate != nil && h.Timestamp.After(in.EndDate.Time)) {
				continue
			}
			entries = append(entries, entry{h, i})
		}
	}
	sort.SliceStable(entries, func(i, j int) bool {
		ei, ej := entries[i], entries[j]
		less := ei.item.Timestamp.Before(ej.item.Timestamp.Time) || (ei.item.Timestamp.Equal(ej.item.Timestamp.Time) && ei.seq < ej.seq)
		if in.ScanBy == "TimestampAscending" {
			return less
		}
		return !less && !(ei.item.Timestamp.Equal(ej.item.Timestamp.Time) && ei.seq == ej.seq)
	})
	out := describeHistoryOutput{AlarmHistoryItems: []AlarmHistoryItem{}}
	for _, e := range entries {
		out.AlarmHistoryItems = append(out.AlarmHistoryItems, e.item)
	}
	if in.MaxRecords != nil && *in.MaxRecords > 0 && int(*in.MaxRecords) < len(out.AlarmHistoryItems) {
		out.AlarmHistoryItems = out.AlarmHistoryItems[:*in.MaxRecords]
	}
	return out, nil
}

func (b *Backend) setActionsEnabled(in *alarmNamesInput, enabled bool) (any, error) {
	if len(in.AlarmNames) == 0 {
		return nil, errMissing("AlarmNames")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, n := range in.AlarmNames {
		if a, ok := b.alarms[n]; ok {
			a.ActionsEnabled = enabled
		}
	}
	b.saveLocked()
	return empty{}, nil
}

// enableAlarmActions turns actions on; unknown names are ignored, as on AWS.
func (b *Backend) enableAlarmActions(_ context.Context, in *alarmNamesInput) (any, error) {
	return b.setActionsEnabled(in, true)
}

// disableAlarmActions turns actions off; unknown names are ignored, as on AWS.
func (b *Backend) disableAlarmActions(_ context.Context, in *alarmNamesInput) (any, error) {
	return b.setActionsEnabled(in, false)
}
