package cloudwatch

import "github.com/shipyard-ecs/shipyard/tools/localcloud/internal/awsproto"

// The types below decode requests in all three protocols (members by Go
// field name: PascalCase in JSON and CBOR, flattened in query) and encode
// responses (json tags for JSON and CBOR, xml tags with <member> lists for
// query). MetricAlarm also persists.

// Dimension is a name/value pair of a metric.
type Dimension struct {
	Name  string `json:"Name" xml:"Name"`
	Value string `json:"Value" xml:"Value"`
}

// Metric names one metric.
type Metric struct {
	Namespace  string      `json:"Namespace,omitempty" xml:"Namespace,omitempty"`
	MetricName string      `json:"MetricName,omitempty" xml:"MetricName,omitempty"`
	Dimensions []Dimension `json:"Dimensions,omitempty" xml:"Dimensions>member,omitempty"`
}

// MetricStat is a metric with the statistic and period to compute.
type MetricStat struct {
	Metric *Metric `json:"Metric,omitempty" xml:"Metric,omitempty"`
	Period *int32  `json:"Period,omitempty" xml:"Period,omitempty"`
	Stat   string  `json:"Stat,omitempty" xml:"Stat,omitempty"`
	Unit   string  `json:"Unit,omitempty" xml:"Unit,omitempty"`
}

// MetricDataQuery is a metric or an expression over other queries.
type MetricDataQuery struct {
	Id         string      `json:"Id" xml:"Id"`
	MetricStat *MetricStat `json:"MetricStat,omitempty" xml:"MetricStat,omitempty"`
	Expression string      `json:"Expression,omitempty" xml:"Expression,omitempty"`
	Label      string      `json:"Label,omitempty" xml:"Label,omitempty"`
	ReturnData *bool       `json:"ReturnData,omitempty" xml:"ReturnData,omitempty"`
	Period     *int32      `json:"Period,omitempty" xml:"Period,omitempty"`
	AccountId  string      `json:"AccountId,omitempty" xml:"AccountId,omitempty"`
}

func (q MetricDataQuery) returns() bool { return q.ReturnData == nil || *q.ReturnData }

// StatisticSet is a pre-aggregated datum.
type StatisticSet struct {
	SampleCount float64
	Sum         float64
	Minimum     float64
	Maximum     float64
}

// MetricDatum is one PutMetricData entry.
type MetricDatum struct {
	MetricName        string
	Dimensions        []Dimension
	Timestamp         *awsproto.Timestamp
	Value             *float64
	StatisticValues   *StatisticSet
	Values            []float64
	Counts            []float64
	Unit              string
	StorageResolution *int32
}

// Tag is a resource tag.
type Tag struct {
	Key   string `json:"Key" xml:"Key"`
	Value string `json:"Value" xml:"Value"`
}

// MetricAlarm is an alarm as DescribeAlarms reports it.
type MetricAlarm struct {
	AlarmName                          string              `json:"AlarmName" xml:"AlarmName"`
	AlarmArn                           string              `json:"AlarmArn" xml:"AlarmArn"`
	AlarmDescription                   string              `json:"AlarmDescription,omitempty" xml:"AlarmDescription,omitempty"`
	AlarmConfigurationUpdatedTimestamp *awsproto.Timestamp `json:"AlarmConfigurationUpdatedTimestamp,omitempty" xml:"AlarmConfigurationUpdatedTimestamp,omitempty"`
	ActionsEnabled                     bool                `json:"ActionsEnabled" xml:"ActionsEnabled"`
	OKActions                          []string            `json:"OKActions,omitempty" xml:"OKActions>member,omitempty"`
	AlarmActions                       []string            `json:"AlarmActions,omitempty" xml:"AlarmActions>member,omitempty"`
	InsufficientDataActions            []string            `json:"InsufficientDataActions,omitempty" xml:"InsufficientDataActions>member,omitempty"`
	StateValue                         string              `json:"StateValue" xml:"StateValue"`
	StateReason                        string              `json:"StateReason,omitempty" xml:"StateReason,omitempty"`
	StateReasonData                    string              `json:"StateReasonData,omitempty" xml:"StateReasonData,omitempty"`
	StateUpdatedTimestamp              *awsproto.Timestamp `json:"StateUpdatedTimestamp,omitempty" xml:"StateUpdatedTimestamp,omitempty"`
	StateTransitionedTimestamp         *awsproto.Timestamp `json:"StateTransitionedTimestamp,omitempty" xml:"StateTransitionedTimestamp,omitempty"`
	MetricName                         string              `json:"MetricName,omitempty" xml:"MetricName,omitempty"`
	Namespace                          string              `json:"Namespace,omitempty" xml:"Namespace,omitempty"`
	Statistic                          string              `json:"Statistic,omitempty" xml:"Statistic,omitempty"`
	Unit                               string              `json:"Unit,omitempty" xml:"Unit,omitempty"`
	Dimensions                         []Dimension         `json:"Dimensions,omitempty" xml:"Dimensions>member,omitempty"`
	Period                             *int32              `json:"Period,omitempty" xml:"Period,omitempty"`
	EvaluationPeriods                  int32               `json:"EvaluationPeriods" xml:"EvaluationPeriods"`
	DatapointsToAlarm                  *int32              `json:"DatapointsToAlarm,omitempty" xml:"DatapointsToAlarm,omitempty"`
	Threshold                          *float64            `json:"Threshold,omitempty" xml:"Threshold,omitempty"`
	ComparisonOperator                 string              `json:"ComparisonOperator" xml:"ComparisonOperator"`
	TreatMissingData                   string              `json:"TreatMissingData,omitempty" xml:"TreatMissingData,omitempty"`
	Metrics                            []MetricDataQuery   `json:"Metrics,omitempty" xml:"Metrics>member,omitempty"`
	ThresholdMetricId                  string              `json:"ThresholdMetricId,omitempty" xml:"ThresholdMetricId,omitempty"`
	Tags                               []Tag               `json:"-" xml:"-"`
}

// AlarmHistoryItem is one entry of DescribeAlarmHistory.
type AlarmHistoryItem struct {
	AlarmName       string             `json:"AlarmName" xml:"AlarmName"`
	AlarmType       string             `json:"AlarmType" xml:"AlarmType"`
	Timestamp       awsproto.Timestamp `json:"Timestamp" xml:"Timestamp"`
	HistoryItemType string             `json:"HistoryItemType" xml:"HistoryItemType"`
	HistorySummary  string             `json:"HistorySummary" xml:"HistorySummary"`
	HistoryData     string             `json:"HistoryData" xml:"HistoryData"`
}
