package events

import (
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/cloudwatch"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/ecs"
)

// AlarmTimeLayout is the timestamp format of CloudWatch alarm events: no
// colon in the offset, so RFC 3339 parsers reject it, as on AWS.
const AlarmTimeLayout = "2006-01-02T15:04:05.000-0700"

// Sources and detail types of the events localcloud emits.
const (
	SourceCloudWatch      = "aws.cloudwatch"
	SourceECS             = "aws.ecs"
	DetailAlarmChange     = "CloudWatch Alarm State Change"
	DetailDeploymentState = "ECS Deployment State Change"
	DetailServiceAction   = "ECS Service Action"
	DetailTaskState       = "ECS Task State Change"
	DetailHookState       = "ECS Hook State Change"
)

type alarmStateDetail struct {
	Value      string `json:"value"`
	Reason     string `json:"reason"`
	ReasonData string `json:"reasonData,omitempty"`
	Timestamp  string `json:"timestamp,omitempty"`
}

type alarmMetric struct {
	ID         string           `json:"id"`
	MetricStat *alarmMetricStat `json:"metricStat,omitempty"`
	Expression string           `json:"expression,omitempty"`
	Label      string           `json:"label,omitempty"`
	ReturnData bool             `json:"returnData"`
}

type alarmMetricStat struct {
	Metric struct {
		Namespace  string            `json:"namespace"`
		Name       string            `json:"name"`
		Dimensions map[string]string `json:"dimensions"`
	} `json:"metric"`
	Period int32  `json:"period"`
	Stat   string `json:"stat"`
}

type alarmDetail struct {
	AlarmName     string           `json:"alarmName"`
	State         alarmStateDetail `json:"state"`
	PreviousState alarmStateDetail `json:"previousState"`
	Configuration struct {
		Description string        `json:"description,omitempty"`
		Metrics     []alarmMetric `json:"metrics"`
	} `json:"configuration"`
}

func alarmState(s cloudwatch.AlarmState) alarmStateDetail {
	d := alarmStateDetail{Value: s.Value, Reason: s.Reason, ReasonData: s.ReasonData}
	if !s.Timestamp.IsZero() {
		d.Timestamp = s.Timestamp.UTC().Format(AlarmTimeLayout)
	}
	return d
}

func dims(ds []cloudwatch.Dimension) map[string]string {
	m := make(map[string]string, len(ds))
	for _, d := range ds {
		m[d.Name] = d.Value
	}
	return m
}

// metricID is the id AWS gives the one metric of a single-metric alarm: a
// UUID, here derived from the alarm ARN so it is stable across events.
func metricID(arn string) string {
	h := sha256.Sum256([]byte(arn))
	s := hex.EncodeToString(h[:16])
	return s[0:8] + "-" + s[8:12] + "-" + s[12:16] + "-" + s[16:20] + "-" + s[20:32]
}

// FromAlarmChange is the "CloudWatch Alarm State Change" event for an alarm
// transition: resources[0] is the alarm ARN; state and previousState carry
// value, reason, reasonData (a JSON string) and the alarm timestamp format.
func FromAlarmChange(c cloudwatch.StateChange) (Event, error) {
	a := c.Alarm
	var d alarmDetail
	d.AlarmName = a.AlarmName
	d.State = alarmState(c.Current)
	d.PreviousState = alarmState(c.Previous)
	d.Configuration.Description = a.AlarmDescription
	d.Configuration.Metrics = []alarmMetric{}
	if len(a.Metrics) == 0 {
		m := alarmMetric{ID: metricID(a.AlarmArn), MetricStat: &alarmMetricStat{Stat: a.Statistic}, ReturnData: true}
		m.MetricStat.Metric.Namespace, m.MetricStat.Metric.Name = a.Namespace, a.MetricName
		m.MetricStat.Metric.Dimensions = dims(a.Dimensions)
		if a.Period != nil {
			m.MetricStat.Period = *a.Period
		}
		d.Configuration.Metrics = append(d.Configuration.Metrics, m)
	}
	for _, q := range a.Metrics {
		m := alarmMetric{ID: q.Id, Expression: q.Expression, Label: q.Label, ReturnData: q.ReturnData == nil || *q.ReturnData}
		if ms := q.MetricStat; ms != nil && ms.Metric != nil {
			m.MetricStat = &alarmMetricStat{Stat: ms.Stat}
			m.MetricStat.Metric.Namespace, m.MetricStat.Metric.Name = ms.Metric.Namespace, ms.Metric.MetricName
			m.MetricStat.Metric.Dimensions = dims(ms.Metric.Dimensions)
			if ms.Period != nil {
				m.MetricStat.Period = *ms.Period
			}
		}
		d.Configuration.Metrics = append(d.Configuration.Metrics, m)
	}
	at := c.Current.Timestamp
	if at.IsZero() {
		at = time.Now()
	}
	return NewEvent(SourceCloudWatch, DetailAlarmChange, []string{a.AlarmArn}, at, d)
}

// FromECS is the EventBridge event for an ECS backend event: source aws.ecs,
// the ECS detail type, resources and detail as ECS reported them (the
// service ARN for deployment and service-action events, the task ARN for
// task state changes, the service-deployment ARN for hook state changes).
func FromECS(e ecs.Event) (Event, error) {
	detail := e.Detail
	if detail == nil {
		detail = map[string]any{}
	}
	return NewEvent(SourceECS, e.DetailType, e.Resources, e.Time, detail)
}

// EmitAlarmChange publishes an alarm transition; pass it to
// (*cloudwatch.Backend).Subscribe.
func (b *Backend) EmitAlarmChange(c cloudwatch.StateChange) {
	e, err := FromAlarmChange(c)
	if err == nil {
		err = b.Emit(b.ctx, e)
	}
	if err != nil {
		b.log.Error("emit alarm state change", "alarm", c.Alarm.AlarmName, "err", err)
	}
}

// EmitECS publishes an ECS state change; use it as ecs.Config.OnEvent.
func (b *Backend) EmitECS(ev ecs.Event) {
	e, err := FromECS(ev)
	if err == nil {
		err = b.Emit(b.ctx, e)
	}
	if err != nil {
		b.log.Error("emit ecs event", "detailType", ev.DetailType, "err", err)
	}
}
