package events

import (
	"context"
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"time"
)

var rateRE = regexp.MustCompile(`^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$`)

// parseRate reads rate(N unit) as AWS does: N must be positive, and 1 takes
// the singular unit, more the plural. ok is false for anything else (cron
// expressions included).
func parseRate(expr string) (time.Duration, bool, error) {
	if !strings.HasPrefix(expr, "rate(") {
		return 0, false, nil
	}
	m := rateRE.FindStringSubmatch(expr)
	if m == nil {
		return 0, false, errInvalidSchedule
	}
	n, err := strconv.Atoi(m[1])
	if err != nil || n < 1 || (n == 1) != !strings.HasSuffix(m[2], "s") {
		return 0, false, errInvalidSchedule
	}
	unit := map[string]time.Duration{"minute": time.Minute, "hour": time.Hour, "day": 24 * time.Hour}[strings.TrimSuffix(m[2], "s")]
	return time.Duration(n) * unit, true, nil
}

// scheduleLocked starts (or restarts, or stops) a rule's rate() schedule:
// every period, on the scaled clock, an enabled rule sends its targets a
// "Scheduled Event" (source aws.events, the rule ARN as the resource), as
// AWS does. cron() schedules are recorded and never fire.
func (b *Backend) scheduleLocked(r *rule) {
	if r.cancel != nil {
		r.cancel()
		r.cancel = nil
	}
	every, ok, err := parseRate(r.ScheduleExpression)
	if err != nil || !ok || b.ctx.Err() != nil {
		return
	}
	ctx, cancel := context.WithCancel(b.ctx)
	r.cancel = cancel
	name := r.Name
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		t := b.clock.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C():
			}
			b.fire(name)
		}
	}()
}

// fire sends one scheduled event to the rule's targets.
func (b *Backend) fire(name string) {
	e := Event{
		Version: "0", ID: newUUID(), DetailType: "Scheduled Event", Source: "aws.events", Account: Account,
		Time: b.clock.Now().UTC().Format(time.RFC3339), Region: Region, Detail: json.RawMessage("{}"),
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	r, ok := b.rules[name]
	if !ok || r.State != "ENABLED" {
		return
	}
	e.Resources = []string{r.Arn}
	raw, err := json.Marshal(e)
	if err != nil {
		return
	}
	for _, t := range r.Targets {
		b.enqueueLocked(r, t, e, raw)
	}
}
