package deploy

import (
	"context"
	"strings"
	"time"
)

// Class is what a deployment's outcome means for whoever started it.
type Class int

// Classes of outcome; ExitCode maps each to ship's exit code.
const (
	ClassSucceeded Class = iota
	ClassAlarm
	ClassFailed
	ClassTimeout
	ClassStopped
	ClassInterrupted
)

var classNames = map[Class]string{
	ClassSucceeded: "succeeded", ClassAlarm: "rolled back by alarm", ClassFailed: "failed health checks or hook",
	ClassTimeout: "timed out watching", ClassStopped: "stopped on request", ClassInterrupted: "interrupted watching",
}

func (c Class) String() string { return classNames[c] }

// MarshalText writes the class's name.
func (c Class) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// Exit codes of the classes (see the package documentation).
const (
	ExitSucceeded   = 0
	ExitAlarm       = 3
	ExitFailed      = 4
	ExitTimeout     = 5
	ExitStopped     = 6
	ExitInFlight    = 7
	ExitInterrupted = 130
)

// ExitCode is the class's exit code.
func (c Class) ExitCode() int {
	switch c {
	case ClassSucceeded:
		return ExitSucceeded
	case ClassAlarm:
		return ExitAlarm
	case ClassFailed:
		return ExitFailed
	case ClassTimeout:
		return ExitTimeout
	case ClassStopped:
		return ExitStopped
	default:
		return ExitInterrupted
	}
}

// Outcome is how a deployment ended, or how the watch of it did.
type Outcome struct {
	Arn             string        `json:"deployment"`
	Status          string        `json:"status"`
	Class           Class         `json:"outcome"`
	Reason          string        `json:"reason,omitempty"`
	TriggeredAlarms []string      `json:"triggeredAlarms,omitempty"`
	Duration        time.Duration `json:"duration"`
	// Logs are the last lines of the new revision's tasks, on failure.
	Logs []TaskLog `json:"logs,omitempty"`
	// Rollback is set when the watched deployment is itself a rollback
	// request: a ROLLBACK_SUCCESSFUL is then what was asked for.
	Rollback bool `json:"-"`
}

// Classify maps a final snapshot to its class. A rollback whose reason
// names StopServiceDeployment was asked for; one with triggered alarms was
// the alarms'; every other end but SUCCESSFUL is a failed revision
// (health checks, tasks that would not start, a lifecycle hook).
func Classify(s Snapshot) Class {
	reason := s.RollbackReason + " " + s.Reason
	switch {
	case s.Status == "SUCCESSFUL":
		return ClassSucceeded
	case len(s.TriggeredAlarms) > 0 || strings.Contains(reason, "alarm"):
		return ClassAlarm
	case strings.Contains(reason, "StopServiceDeployment") || s.Status == "STOPPED" && strings.Contains(reason, "request"):
		return ClassStopped
	default:
		return ClassFailed
	}
}

func (e *Engine) outcome(ctx context.Context, s Snapshot, start time.Time) Outcome {
	o := Outcome{Arn: s.Arn, Status: s.Status, Class: Classify(s), Reason: s.Reason, TriggeredAlarms: s.TriggeredAlarms, Duration: e.now().Sub(start)}
	if s.RollbackReason != "" {
		o.Reason = s.RollbackReason
	}
	if o.Class == ClassStopped {
		if alarm := e.enforcedAlarm(ctx, s); alarm != "" {
			o.Class, o.TriggeredAlarms = ClassAlarm, []string{alarm}
			o.Reason += " (deploywatch stopped it: alarm " + alarm + ")"
		}
	}
	if o.Class != ClassSucceeded && e.Tasks != nil && e.Logs != nil && s.Target.Revision != "" {
		logs, err := e.TargetLogs(ctx, s.Target.Revision, 20)
		if err != nil {
			e.log().Warn("read the new revision's logs", "err", err)
		}
		o.Logs = logs
	}
	return o
}
