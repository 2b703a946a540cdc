package event

import (
	"encoding/json"
	"strings"
	"time"
)

// AlarmState is a "CloudWatch Alarm State Change" event.
type AlarmState struct {
	AlarmArn  string
	AlarmName string
	State     AlarmValue
	// Previous is zero when the event has no previousState.
	Previous    AlarmValue
	Description string
}

// AlarmValue is one side of an alarm's state change.
type AlarmValue struct {
	Value  string
	Reason string
	// ReasonData is the decoded reasonData, when it is a JSON object.
	ReasonData map[string]any
	Timestamp  time.Time
}

type rawAlarm struct {
	AlarmName     string         `json:"alarmName"`
	State         *rawAlarmValue `json:"state"`
	PreviousState *rawAlarmValue `json:"previousState"`
	Configuration *struct {
		Description string `json:"description"`
	} `json:"configuration"`
}

type rawAlarmValue struct {
	Value      string `json:"value"`
	Reason     string `json:"reason"`
	ReasonData string `json:"reasonData"`
	Timestamp  string `json:"timestamp"`
}

// ParseAlarmTime reads CloudWatch's 2019-10-02T17:04:40.989+0000.
func ParseAlarmTime(s string) (time.Time, error) {
	return time.Parse("2006-01-02T15:04:05-0700", s)
}

func decodeAlarm(env *Envelope, detail json.RawMessage) (*AlarmState, error) {
	var r rawAlarm
	if err := json.Unmarshal(detail, &r); err != nil {
		return nil, detailError(env.ID, err)
	}
	if r.AlarmName == "" {
		return nil, malformed(env.ID, "detail.alarmName", "missing")
	}
	a := &AlarmState{AlarmName: r.AlarmName}
	if len(env.Resources) > 0 {
		a.AlarmArn = env.Resources[0]
		if name, ok := alarmNameOf(a.AlarmArn); !ok || name != r.AlarmName {
			return nil, malformed(env.ID, "resources[0]", "%q is not the ARN of alarm %q", a.AlarmArn, r.AlarmName)
		}
	}
	if r.State == nil {
		return nil, malformed(env.ID, "detail.state", "missing")
	}
	var err error
	if a.State, err = alarmValue(env.ID, "detail.state", r.State); err != nil {
		return nil, err
	}
	if r.PreviousState != nil {
		if a.Previous, err = alarmValue(env.ID, "detail.previousState", r.PreviousState); err != nil {
			return nil, err
		}
	}
	if r.Configuration != nil {
		a.Description = r.Configuration.Description
	}
	return a, nil
}

func alarmValue(id, field string, r *rawAlarmValue) (AlarmValue, error) {
	switch r.Value {
	case AlarmOK, AlarmAlarm, AlarmInsufficientData:
	case "":
		return AlarmValue{}, malformed(id, field+".value", "missing")
	default:
		return AlarmValue{}, malformed(id, field+".value", "%q, want OK, ALARM or INSUFFICIENT_DATA", r.Value)
	}
	if r.Timestamp == "" {
		return AlarmValue{}, malformed(id, field+".timestamp", "missing")
	}
	t, err := ParseAlarmTime(r.Timestamp)
	if err != nil {
		return AlarmValue{}, malformed(id, field+".timestamp", "%q, want CloudWatch's layout such as 2019-10-02T17:04:40.989+0000", r.Timestamp)
	}
	v := AlarmValue{Value: r.Value, Reason: r.Reason, Timestamp: t}
	if r.ReasonData != "" {
		// reasonData is informative only: keep it when it decodes.
		var m map[string]any
		if json.Unmarshal([]byte(r.ReasonData), &m) == nil {
			v.ReasonData = m
		}
	}
	return v, nil
}

// alarmNameOf reads the name in arn:aws:cloudwatch:<region>:<account>:alarm:<name>
// (names may contain colons).
func alarmNameOf(arn string) (string, bool) {
	parts := strings.SplitN(arn, ":", 7)
	if len(parts) != 7 || parts[0] != "arn" || parts[2] != "cloudwatch" || parts[5] != "alarm" || parts[6] == "" {
		return "", false
	}
	return parts[6], true
}
