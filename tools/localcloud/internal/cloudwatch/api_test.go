package cloudwatch_test

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cw "github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/smithy-go"

	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/awsproto/awsprototest"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/clock"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/cloudwatch"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/state"
)

var ctx = context.Background()

func newEnv(t *testing.T, c clock.Clock, store state.Store) (*cloudwatch.Backend, *cw.Client, string) {
	t.Helper()
	b, err := cloudwatch.New(cloudwatch.Config{Clock: c, Store: store})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	ep := awsprototest.Serve(t, b.Register)
	return b, cw.NewFromConfig(awsprototest.Config(ep)), ep
}

func metricQuery(id, name string, returnData bool) types.MetricDataQuery {
	return types.MetricDataQuery{Id: aws.String(id), ReturnData: aws.Bool(returnData), MetricStat: &types.MetricStat{
		Metric: &types.Metric{Namespace: aws.String("App"), MetricName: aws.String(name), Dimensions: []types.Dimension{{Name: aws.String("Service"), Value: aws.String("web")}}},
		Period: aws.Int32(60), Stat: aws.String("Sum"),
	}}
}

func TestMetricData(t *testing.T) {
	t.Parallel()
	_, c, _ := newEnv(t, clock.New(0.01), state.Store{})
	at := time.Now().Truncate(time.Second)
	_, err := c.PutMetricData(ctx, &cw.PutMetricDataInput{Namespace: aws.String("App"), MetricData: []types.MetricDatum{
		{MetricName: aws.String("Errors"), Value: aws.Float64(3), Timestamp: &at, Dimensions: []types.Dimension{{Name: aws.String("Service"), Value: aws.String("web")}}},
		{MetricName: aws.String("Errors"), Value: aws.Float64(4), Timestamp: &at, Dimensions: []types.Dimension{{Name: aws.String("Service"), Value: aws.String("web")}}},
		{MetricName: aws.String("Faults"), Values: []float64{1, 2}, Counts: []float64{1, 2}, Timestamp: &at, Dimensions: []types.Dimension{{Name: aws.String("Service"), Value: aws.String("web")}}},
	}})
	if err != nil {
		t.Fatalf("PutMetricData: %v", err)
	}
	out, err := c.GetMetricData(ctx, &cw.GetMetricDataInput{
		StartTime: aws.Time(at.Add(-time.Minute)), EndTime: aws.Time(at.Add(time.Minute)),
		MetricDataQueries: []types.MetricDataQuery{
			metricQuery("m1", "Errors", true), metricQuery("m2", "Faults", false),
			{Id: aws.String("total"), Expression: aws.String("m1+m2"), Label: aws.String("total")},
			{Id: aws.String("all"), Expression: aws.String("SUM(METRICS())")},
		},
	})
	if err != nil {
		t.Fatalf("GetMetricData: %v", err)
	}
	want := map[string]float64{"m1": 7, "total": 12, "all": 12}
	if len(out.MetricDataResults) != len(want) {
		t.Fatalf("GetMetricData returned %d results, want %d (m2 has ReturnData false)", len(out.MetricDataResults), len(want))
	}
	for _, r := range out.MetricDataResults {
		id := aws.ToString(r.Id)
		if len(r.Values) != 1 || r.Values[0] != want[id] || len(r.Timestamps) != 1 || r.StatusCode != types.StatusCodeComplete {
			t.Errorf("result %s = %v at %v (%s), want [%v]", id, r.Values, r.Timestamps, r.StatusCode, want[id])
		}
	}
	stats, err := c.GetMetricStatistics(ctx, &cw.GetMetricStatisticsInput{Namespace: aws.String("App"), MetricName: aws.String("Errors"),
		Dimensions: []types.Dimension{{Name: aws.String("Service"), Value: aws.String("web")}},
		StartTime:  aws.Time(at.Add(-time.Minute)), EndTime: aws.Time(at.Add(time.Minute)), Period: aws.Int32(60),
		Statistics: []types.Statistic{types.StatisticMaximum, types.StatisticSampleCount}})
	if err != nil || len(stats.Datapoints) != 1 || aws.ToFloat64(stats.Datapoints[0].Maximum) != 4 || aws.ToFloat64(stats.Datapoints[0].SampleCount) != 2 {
		t.Errorf("GetMetricStatistics = %+v, %v, want one datapoint max 4 count 2", stats, err)
	}
	list, err := c.ListMetrics(ctx, &cw.ListMetricsInput{Namespace: aws.String("App")})
	if err != nil || len(list.Metrics) != 2 {
		t.Errorf("ListMetrics = %+v, %v, want 2 metrics", list, err)
	}
}

func TestErrors(t *testing.T) {
	t.Parallel()
	_, c, _ := newEnv(t, clock.New(0.01), state.Store{})
	now := time.Now()
	tests := []struct {
		name     string
		call     func() error
		wantCode string
		wantType any
	}{
		{"AWS namespace", func() error {
			_, err := c.PutMetricData(ctx, &cw.PutMetricDataInput{Namespace: aws.String("AWS/ApplicationELB"), MetricData: []types.MetricDatum{{MetricName: aws.String("x"), Value: aws.Float64(1)}}})
			return err
		}, "InvalidParameterValue", new(*types.InvalidParameterValueException)},
		{"value and values", func() error {
			_, err := c.PutMetricData(ctx, &cw.PutMetricDataInput{Namespace: aws.String("App"), MetricData: []types.MetricDatum{{MetricName: aws.String("x"), Value: aws.Float64(1), Values: []float64{1}}}})
			return err
		}, "InvalidParameterCombination", new(*types.InvalidParameterCombinationException)},
		{"start after end", func() error {
			_, err := c.GetMetricData(ctx, &cw.GetMetricDataInput{StartTime: aws.Time(now), EndTime: aws.Time(now.Add(-time.Minute)), MetricDataQueries: []types.MetricDataQuery{metricQuery("m1", "x", true)}})
			return err
		}, "InvalidParameterValue", new(*types.InvalidParameterValueException)},
		{"bad expression", func() error {
			_, err := c.GetMetricData(ctx, &cw.GetMetricDataInput{StartTime: aws.Time(now.Add(-time.Minute)), EndTime: aws.Time(now), MetricDataQueries: []types.MetricDataQuery{metricQuery("m1", "x", false), {Id: aws.String("e"), Expression: aws.String("m1 + nope")}}})
			return err
		}, "InvalidParameterValue", new(*types.InvalidParameterValueException)},
		{"percentile", func() error {
			_, err := c.PutMetricAlarm(ctx, &cw.PutMetricAlarmInput{AlarmName: aws.String("p"), Namespace: aws.String("App"), MetricName: aws.String("x"), ExtendedStatistic: aws.String("p99"),
				Period: aws.Int32(60), EvaluationPeriods: aws.Int32(1), Threshold: aws.Float64(1), ComparisonOperator: types.ComparisonOperatorGreaterThanThreshold})
			return err
		}, "InvalidParameterValue", new(*types.InvalidParameterValueException)},
		{"datapoints above periods", func() error {
			_, err := c.PutMetricAlarm(ctx, &cw.PutMetricAlarmInput{AlarmName: aws.String("d"), Namespace: aws.String("App"), MetricName: aws.String("x"), Statistic: types.StatisticSum,
				Period: aws.Int32(60), EvaluationPeriods: aws.Int32(1), DatapointsToAlarm: aws.Int32(2), Threshold: aws.Float64(1), ComparisonOperator: types.ComparisonOperatorGreaterThanThreshold})
			return err
		}, "InvalidParameterValue", new(*types.InvalidParameterValueException)},
		{"metric and metrics", func() error {
			_, err := c.PutMetricAlarm(ctx, &cw.PutMetricAlarmInput{AlarmName: aws.String("c"), MetricName: aws.String("x"), Metrics: []types.MetricDataQuery{metricQuery("m1", "x", true)},
				EvaluationPeriods: aws.Int32(1), Threshold: aws.Float64(1), ComparisonOperator: types.ComparisonOperatorGreaterThanThreshold})
			return err
		}, "InvalidParameterCombination", new(*types.InvalidParameterCombinationException)},
		{"two metrics return data", func() error {
			_, err := c.PutMetricAlarm(ctx, &cw.PutMetricAlarmInput{AlarmName: aws.String("r"), Metrics: []types.MetricDataQuery{metricQuery("m1", "x", true), metricQuery("m2", "y", true)},
				EvaluationPeriods: aws.Int32(1), Threshold: aws.Float64(1), ComparisonOperator: types.ComparisonOperatorGreaterThanThreshold})
			return err
		}, "InvalidParameterValue", new(*types.InvalidParameterValueException)},
		{"set state of unknown alarm", func() error {
			_, err := c.SetAlarmState(ctx, &cw.SetAlarmStateInput{AlarmName: aws.String("nope"), StateValue: types.StateValueAlarm, StateReason: aws.String("drill")})
			return err
		}, "ResourceNotFound", new(*types.ResourceNotFound)},
		{"reason data not JSON", func() error {
			_, err := c.SetAlarmState(ctx, &cw.SetAlarmStateInput{AlarmName: aws.String("nope"), StateValue: types.StateValueAlarm, StateReason: aws.String("drill"), StateReasonData: aws.String("{")})
			return err
		}, "InvalidFormat", new(*types.InvalidFormatFault)},
		{"delete unknown alarm", func() error {
			_, err := c.DeleteAlarms(ctx, &cw.DeleteAlarmsInput{AlarmNames: []string{"nope"}})
			return err
		}, "ResourceNotFound", new(*types.ResourceNotFound)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			var ae smithy.APIError
			if !errors.As(err, &ae) || ae.ErrorCode() != tt.wantCode {
				t.Fatalf("error = %v, want code %s", err, tt.wantCode)
			}
			if !errors.As(err, tt.wantType) {
				t.Errorf("error %T is not %T", err, tt.wantType)
			}
		})
	}
	out, err := c.DescribeAlarms(ctx, &cw.DescribeAlarmsInput{})
	if err != nil || len(out.MetricAlarms) != 0 {
		t.Errorf("DescribeAlarms after bad requests = %d alarms, %v, want none", len(out.MetricAlarms), err)
	}
}

// TestAlarmLifecycle evaluates a real alarm on a fast clock: data drives it
// into ALARM, silence back to OK, and subscribers see each transition.
func TestAlarmLifecycle(t *testing.T) {
	t.Parallel()
	b, c, _ := newEnv(t, clock.New(0.01), state.Store{}) // a 10 s period is 100 ms
	changes := make(chan cloudwatch.StateChange, 16)
	defer b.Subscribe(func(sc cloudwatch.StateChange) { changes <- sc })()
	dims := map[string]string{"LoadBalancer": "app/web/1", "TargetGroup": "targetgroup/green/2"}
	_, err := c.PutMetricAlarm(ctx, &cw.PutMetricAlarmInput{
		AlarmName: aws.String("web-5xx"), AlarmDescription: aws.String("5XX from targets"),
		Metrics: []types.MetricDataQuery{
			{Id: aws.String("m1"), ReturnData: aws.Bool(false), MetricStat: &types.MetricStat{Metric: &types.Metric{Namespace: aws.String("AWS/ApplicationELB"), MetricName: aws.String("HTTPCode_Target_5XX_Count"),
				Dimensions: []types.Dimension{{Name: aws.String("LoadBalancer"), Value: aws.String("app/web/1")}, {Name: aws.String("TargetGroup"), Value: aws.String("targetgroup/green/2")}}}, Period: aws.Int32(10), Stat: aws.String("Sum")}},
			{Id: aws.String("e1"), Expression: aws.String("SUM(METRICS())")},
		},
		EvaluationPeriods: aws.Int32(1), Threshold: aws.Float64(1), ComparisonOperator: types.ComparisonOperatorGreaterThanOrEqualToThreshold,
		TreatMissingData: aws.String("notBreaching"),
	})
	if err != nil {
		t.Fatalf("PutMetricAlarm: %v", err)
	}
	next := func(want string) cloudwatch.StateChange {
		t.Helper()
		select {
		case sc := <-changes:
			if sc.Current.Value != want {
				t.Fatalf("transition to %s (%s), want %s", sc.Current.Value, sc.Current.Reason, want)
			}
			return sc
		case <-time.After(10 * time.Second):
			t.Fatalf("no transition to %s", want)
		}
		return cloudwatch.StateChange{}
	}
	next(cloudwatch.StateOK)
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() { // steady errors until the alarm fires
		defer close(done)
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				b.PutMetric("AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", dims, 1, time.Now())
			}
		}
	}()
	sc := next(cloudwatch.StateAlarm)
	close(stop)
	<-done
	if sc.Alarm.AlarmArn != "arn:aws:cloudwatch:us-east-1:000000000000:alarm:web-5xx" || sc.Previous.Value != cloudwatch.StateOK || !json.Valid([]byte(sc.Current.ReasonData)) {
		t.Errorf("state change = %+v, want the alarm ARN, previous OK and JSON reason data", sc)
	}
	if got, err := b.AlarmState(ctx, "web-5xx"); err != nil || got != cloudwatch.StateAlarm {
		t.Errorf("AlarmState = %q, %v, want ALARM", got, err)
	}
	next(cloudwatch.StateOK)
	out, err := c.DescribeAlarms(ctx, &cw.DescribeAlarmsInput{AlarmNames: []string{"web-5xx"}})
	if err != nil || len(out.MetricAlarms) != 1 {
		t.Fatalf("DescribeAlarms = %v, %v", out, err)
	}
	a := out.MetricAlarms[0]
	if a.StateValue != types.StateValueOk || len(a.Metrics) != 2 || aws.ToString(a.Metrics[1].Expression) != "SUM(METRICS())" || a.StateUpdatedTimestamp == nil || aws.ToString(a.AlarmDescription) != "5XX from targets" {
		t.Errorf("alarm = %+v, want OK with its metric-math config", a)
	}
	if _, err := c.DeleteAlarms(ctx, &cw.DeleteAlarmsInput{AlarmNames: []string{"web-5xx"}}); err != nil {
		t.Fatalf("DeleteAlarms: %v", err)
	}
	if _, err := b.AlarmState(ctx, "web-5xx"); err == nil {
		t.Error("AlarmState after delete = nil error, want ResourceNotFound")
	}
}

// TestSetAlarmStateHoldsUntilNextEvaluation uses a manual clock, so the only
// evaluations are the one at creation and the one Advance triggers.
func TestSetAlarmStateHoldsUntilNextEvaluation(t *testing.T) {
	t.Parallel()
	m := clock.NewManual(time.Now(), 1)
	store := state.Store{Dir: t.TempDir()}
	b, c, _ := newEnv(t, m, store)
	changes := make(chan cloudwatch.StateChange, 16)
	defer b.Subscribe(func(sc cloudwatch.StateChange) { changes <- sc })()
	if _, err := c.PutMetricAlarm(ctx, &cw.PutMetricAlarmInput{AlarmName: aws.String("drill"), Namespace: aws.String("App"), MetricName: aws.String("Errors"), Statistic: types.StatisticSum,
		Period: aws.Int32(60), EvaluationPeriods: aws.Int32(1), Threshold: aws.Float64(1), ComparisonOperator: types.ComparisonOperatorGreaterThanOrEqualToThreshold,
		TreatMissingData: aws.String("notBreaching")}); err != nil {
		t.Fatal(err)
	}
	want := func(v string) {
		t.Helper()
		select {
		case sc := <-changes:
			if sc.Current.Value != v {
				t.Fatalf("transition to %s, want %s", sc.Current.Value, v)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("no transition to %s", v)
		}
	}
	want(cloudwatch.StateOK) // evaluated at creation
	if _, err := c.SetAlarmState(ctx, &cw.SetAlarmStateInput{AlarmName: aws.String("drill"), StateValue: types.StateValueAlarm, StateReason: aws.String("drill")}); err != nil {
		t.Fatal(err)
	}
	want(cloudwatch.StateAlarm)
	out, err := c.DescribeAlarms(ctx, &cw.DescribeAlarmsInput{StateValue: types.StateValueAlarm})
	if err != nil || len(out.MetricAlarms) != 1 || aws.ToString(out.MetricAlarms[0].StateReason) != "drill" {
		t.Fatalf("DescribeAlarms(ALARM) = %+v, %v, want the drilled alarm", out, err)
	}
	// State survives a restart of the backend.
	b2, err := cloudwatch.New(cloudwatch.Config{Clock: clock.NewManual(time.Now(), 1), Store: store})
	if err != nil {
		t.Fatal(err)
	}
	s, err := b2.AlarmState(ctx, "drill")
	b2.Close()
	if err != nil || s == "" {
		t.Errorf("restored AlarmState = %q, %v, want a state", s, err)
	}
	m.Advance(time.Minute) // the next evaluation finds no breach
	want(cloudwatch.StateOK)

	hist, err := c.DescribeAlarmHistory(ctx, &cw.DescribeAlarmHistoryInput{AlarmName: aws.String("drill")})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, h := range hist.AlarmHistoryItems {
		got = append(got, string(h.HistoryItemType)+": "+aws.ToString(h.HistorySummary))
	}
	wantHist := []string{
		"StateUpdate: Alarm updated from ALARM to OK",
		"StateUpdate: Alarm updated from OK to ALARM",
		"StateUpdate: Alarm updated from INSUFFICIENT_DATA to OK",
		`ConfigurationUpdate: Alarm "drill" created`,
	}
	if strings.Join(got, "\n") != strings.Join(wantHist, "\n") {
		t.Errorf("DescribeAlarmHistory = %q, want %q", got, wantHist)
	}
	if _, err := c.DisableAlarmActions(ctx, &cw.DisableAlarmActionsInput{AlarmNames: []string{"drill"}}); err != nil {
		t.Fatal(err)
	}
	if out, err := c.DescribeAlarms(ctx, &cw.DescribeAlarmsInput{AlarmNames: []string{"drill"}}); err != nil || len(out.MetricAlarms) != 1 || aws.ToBool(out.MetricAlarms[0].ActionsEnabled) {
		t.Errorf("ActionsEnabled after DisableAlarmActions = %+v, %v, want false", out, err)
	}
}

// TestProtocols speaks JSON 1.0 and query to the same backend.
func TestProtocols(t *testing.T) {
	t.Parallel()
	_, c, endpoint := newEnv(t, clock.New(0.01), state.Store{})
	if _, err := c.PutMetricAlarm(ctx, &cw.PutMetricAlarmInput{AlarmName: aws.String("p"), Namespace: aws.String("App"), MetricName: aws.String("Errors"), Statistic: types.StatisticSum,
		Period: aws.Int32(60), EvaluationPeriods: aws.Int32(1), Threshold: aws.Float64(1), ComparisonOperator: types.ComparisonOperatorGreaterThanOrEqualToThreshold}); err != nil {
		t.Fatal(err)
	}
	post := func(body string, hdr map[string]string) (int, http.Header, []byte) {
		req, _ := http.NewRequest(http.MethodPost, endpoint+"/", strings.NewReader(body))
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header, b
	}
	jsonHdr := map[string]string{"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "GraniteServiceVersion20100801.DescribeAlarms"}
	code, _, body := post(`{"AlarmNames":["p"]}`, jsonHdr)
	var js struct {
		MetricAlarms []struct{ AlarmName, StateValue string }
	}
	if err := json.Unmarshal(body, &js); code != 200 || err != nil || len(js.MetricAlarms) != 1 || js.MetricAlarms[0].AlarmName != "p" {
		t.Errorf("JSON DescribeAlarms = %d %s, want alarm p", code, body)
	}
	jsonHdr["X-Amz-Target"] = "GraniteServiceVersion20100801.SetAlarmState"
	code, hdr, body := post(`{"AlarmName":"nope","StateValue":"OK","StateReason":"x"}`, jsonHdr)
	if code != 404 || hdr.Get("X-Amzn-Query-Error") != "ResourceNotFound;Sender" || !strings.Contains(string(body), `"__type":"ResourceNotFound"`) {
		t.Errorf("JSON SetAlarmState(unknown) = %d %v %s, want 404 ResourceNotFound", code, hdr, body)
	}
	form := url.Values{"Action": {"DescribeAlarms"}, "Version": {"2010-08-01"}, "AlarmNames.member.1": {"p"}}
	code, _, body = post(form.Encode(), map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
	var qx struct {
		Result struct {
			Alarms []struct{ AlarmName string } `xml:"MetricAlarms>member"`
		} `xml:"DescribeAlarmsResult"`
	}
	if err := xml.Unmarshal(body, &qx); code != 200 || err != nil || len(qx.Result.Alarms) != 1 || qx.Result.Alarms[0].AlarmName != "p" {
		t.Errorf("query DescribeAlarms = %d %s, want alarm p", code, body)
	}
	form = url.Values{"Action": {"PutMetricAlarm"}, "Version": {"2010-08-01"}}
	code, _, body = post(form.Encode(), map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
	if code != 400 || !strings.Contains(string(body), "<Code>MissingParameter</Code>") {
		t.Errorf("query PutMetricAlarm() = %d %s, want 400 MissingParameter", code, body)
	}
}

func TestDescribeAlarmsPages(t *testing.T) {
	t.Parallel()
	_, c, _ := newEnv(t, clock.New(0.01), state.Store{})
	for _, name := range []string{"a", "b", "c"} {
		if _, err := c.PutMetricAlarm(ctx, &cw.PutMetricAlarmInput{AlarmName: aws.String(name), Namespace: aws.String("App"), MetricName: aws.String("Errors"), Statistic: types.StatisticSum,
			Period: aws.Int32(60), EvaluationPeriods: aws.Int32(1), Threshold: aws.Float64(1), ComparisonOperator: types.ComparisonOperatorGreaterThanOrEqualToThreshold}); err != nil {
			t.Fatal(err)
		}
	}
	p := cw.NewDescribeAlarmsPaginator(c, &cw.DescribeAlarmsInput{MaxRecords: aws.Int32(2)})
	var names []string
	pages := 0
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, a := range out.MetricAlarms {
			names = append(names, aws.ToString(a.AlarmName))
		}
	}
	if got := strings.Join(names, ","); got != "a,b,c" || pages != 2 {
		t.Errorf("paged DescribeAlarms = %s in %d pages, want a,b,c in 2", got, pages)
	}
	_, err := c.DescribeAlarms(ctx, &cw.DescribeAlarmsInput{NextToken: aws.String("nope")})
	if !errors.As(err, new(*types.InvalidNextToken)) {
		t.Errorf("DescribeAlarms(bad token) error = %v, want InvalidNextToken", err)
	}
}
