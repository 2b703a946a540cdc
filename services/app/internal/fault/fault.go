// Package fault describes the faults a revision of the app can be told to
// inject on purpose (APP_FAULT), so that rollback drills have something real
// to roll back from: a failing health check, a share of 500s, added latency,
// or a crash at start.
package fault

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Kind names one fault mode.
type Kind string

// The fault modes. None is the zero value: the app behaves.
const (
	None    Kind = ""
	Health  Kind = "health"
	Errors  Kind = "errors"
	Latency Kind = "latency"
	Crash   Kind = "crash"
)

// MaxLatency bounds the latency fault. It stays below the server's write
// timeout, so a slowed request still answers instead of being cut off.
const MaxLatency = 10 * time.Second

// Forms lists the accepted values of APP_FAULT, for error messages and docs.
const Forms = "health, errors=<share 0..1> (e.g. errors=0.5), latency=<duration up to 10s> (e.g. latency=300ms), crash, or unset for none"

// Fault is one parsed APP_FAULT value. The zero Fault injects nothing.
type Fault struct {
	Kind Kind
	// ErrorRate is the share of non-health requests answered with a 500,
	// in [0, 1], when Kind is Errors.
	ErrorRate float64
	// Latency is added to every non-health request when Kind is Latency.
	Latency time.Duration
}

// Parse reads an APP_FAULT value. The empty string means no fault; anything
// it does not understand is an error naming the value and the accepted forms.
func Parse(s string) (Fault, error) {
	name, arg, hasArg := strings.Cut(strings.TrimSpace(s), "=")
	switch Kind(name) {
	case None:
		if !hasArg {
			return Fault{}, nil
		}
	case Health, Crash:
		if !hasArg {
			return Fault{Kind: Kind(name)}, nil
		}
	case Errors:
		rate, err := strconv.ParseFloat(arg, 64)
		if hasArg && err == nil && rate >= 0 && rate <= 1 {
			return Fault{Kind: Errors, ErrorRate: rate}, nil
		}
	case Latency:
		d, err := time.ParseDuration(arg)
		if hasArg && err == nil && d > 0 && d <= MaxLatency {
			return Fault{Kind: Latency, Latency: d}, nil
		}
	}
	return Fault{}, fmt.Errorf("parse APP_FAULT %q: want one of %s", s, Forms)
}

// String renders the fault in the form Parse accepts ("" for none).
func (f Fault) String() string {
	switch f.Kind {
	case Errors:
		return "errors=" + strconv.FormatFloat(f.ErrorRate, 'g', -1, 64)
	case Latency:
		return "latency=" + f.Latency.String()
	default:
		return string(f.Kind)
	}
}
