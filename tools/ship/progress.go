package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/shipyard-ecs/shipyard/platform/deploy"
)

// Output formats.
const (
	outputText = "text"
	outputJSON = "json"
)

// printer shows a deployment's progress: a live line on a terminal, plain
// timestamped lines otherwise, one JSON object a line with --output json.
type printer struct {
	w    io.Writer
	json bool
	tty  bool
	now  func() time.Time
	// open is set while a live line waits to be overwritten; stage is the
	// stage and status it shows.
	open  bool
	stage string
	// key and bake are the last plain line without its bake countdown,
	// and the countdown's half-minute: plain output shows the countdown
	// every 30 s, not every second.
	key  string
	bake time.Duration
}

func newPrinter(w io.Writer, output string) *printer {
	return &printer{w: w, json: output == outputJSON, tty: isTerminal(w), now: time.Now}
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// event prints a step (image built, deployment started) with fields for
// JSON.
func (p *printer) event(kind, text string, fields map[string]any) {
	if p.json {
		m := map[string]any{"event": kind, "at": p.now().UTC()}
		for k, v := range fields {
			m[k] = v
		}
		p.writeJSON(m)
		return
	}
	p.closeLine()
	fmt.Fprintf(p.w, "%s %s\n", p.now().Format("15:04:05"), text)
}

func (p *printer) writeJSON(v any) {
	b, err := json.Marshal(v)
	if err != nil {
		b = []byte(fmt.Sprintf(`{"event":"error","error":%q}`, err.Error()))
	}
	fmt.Fprintf(p.w, "%s\n", b)
}

func (p *printer) closeLine() {
	if p.open {
		fmt.Fprintln(p.w)
		p.open = false
	}
}

// snapshot prints one look at the deployment. On a terminal the line is
// rewritten in place until the stage changes.
func (p *printer) snapshot(s deploy.Snapshot) {
	if p.json {
		p.writeJSON(struct {
			Event string `json:"event"`
			deploy.Snapshot
		}{"progress", s})
		return
	}
	line := s.At.Format("15:04:05") + " " + s.Line()
	if !p.tty {
		bakeless := s
		bakeless.BakeLeft = 0
		key, bake := bakeless.Line(), s.BakeLeft.Truncate(30*time.Second)
		if key == p.key && bake == p.bake {
			return
		}
		p.key, p.bake = key, bake
		fmt.Fprintln(p.w, line)
		return
	}
	stage := s.Status + " " + s.Stage
	if p.open && stage == p.stage {
		fmt.Fprintf(p.w, "\r\033[K%s", line)
		return
	}
	p.closeLine()
	fmt.Fprint(p.w, line)
	p.open, p.stage = true, stage
}

// outcome prints how the deployment ended.
func (p *printer) outcome(o deploy.Outcome) {
	if p.json {
		p.writeJSON(struct {
			Event string `json:"event"`
			deploy.Outcome
			Exit int `json:"exitCode"`
		}{"outcome", o, outcomeExit(o)})
		return
	}
	p.closeLine()
	fmt.Fprintf(p.w, "%s %s: %s after %s\n", p.now().Format("15:04:05"), strings.ToUpper(o.Class.String()), o.Status, o.Duration.Round(time.Second))
	if o.Reason != "" {
		fmt.Fprintf(p.w, "  reason: %s\n", o.Reason)
	}
	if len(o.TriggeredAlarms) > 0 {
		fmt.Fprintf(p.w, "  triggered alarms: %s\n", strings.Join(o.TriggeredAlarms, ", "))
	}
	for _, tl := range o.Logs {
		fmt.Fprintf(p.w, "  task %s (%s) %s, last lines:\n", tl.Task, tl.Status, tl.Reason)
		for _, l := range tl.Lines {
			fmt.Fprintf(p.w, "    %s\n", l)
		}
	}
}

// outcomeExit is the exit code of an outcome; a rollback that ships asked
// for and got is a success.
func outcomeExit(o deploy.Outcome) int {
	if o.Rollback && o.Status == "ROLLBACK_SUCCESSFUL" {
		return exitOK
	}
	return o.Class.ExitCode()
}

// exitError ends ship with a code of its own (deploy outcomes).
type exitError struct {
	code int
	msg  string
}

func (e exitError) Error() string { return e.msg }

// ExitCode is the process's exit code.
func (e exitError) ExitCode() int { return e.code }

// outcomeError is nil for a successful outcome, else the exit error that
// says what happened and what to do.
func outcomeError(o deploy.Outcome) error {
	code := outcomeExit(o)
	if code == exitOK {
		return nil
	}
	var next string
	switch o.Class {
	case deploy.ClassAlarm:
		next = "the new revision tripped " + strings.Join(o.TriggeredAlarms, ", ") + " and ECS rolled it back; look at its logs (ship logs) and the alarm, fix, and deploy again"
	case deploy.ClassFailed:
		next = "the new revision never became healthy or its lifecycle hook failed, and production stayed on the old one; its last log lines are above"
		if o.Status == "ROLLBACK_FAILED" {
			next = "the new revision never became healthy or its lifecycle hook failed, and there was no earlier revision to roll back to; its last log lines are above: fix it and deploy again"
		}
	case deploy.ClassStopped:
		next = "the deployment was stopped or rolled back on request"
	case deploy.ClassTimeout, deploy.ClassInterrupted:
		next = "stopped watching; the deployment goes on: ship status --watch follows it, ship rollback stops it"
	}
	return exitError{code: code, msg: fmt.Sprintf("deployment %s %s (%s): %s", o.Arn, o.Class, o.Status, next)}
}
