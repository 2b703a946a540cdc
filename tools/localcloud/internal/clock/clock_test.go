package clock

import (
	"testing"
	"time"
)

func TestScale(t *testing.T) {
	tests := []struct {
		name  string
		scale float64
		in    time.Duration
		want  time.Duration
	}{
		{"identity", 1, 30 * time.Second, 30 * time.Second},
		{"compressed", 0.05, 30 * time.Second, 1500 * time.Millisecond},
		{"non-positive scale means 1", 0, time.Minute, time.Minute},
		{"floor at a millisecond", 0.0001, time.Millisecond, time.Millisecond},
		{"zero stays zero", 0.05, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := New(tt.scale).Scale(tt.in); got != tt.want {
				t.Errorf("Scale(%v) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestRealAfterWaitsScaledTime(t *testing.T) {
	c := New(0.001)
	start := time.Now()
	<-c.After(10 * time.Second) // 10 ms real
	if got := time.Since(start); got < 10*time.Millisecond {
		t.Errorf("After(10s) at scale 0.001 returned after %v, want >= 10ms", got)
	}
}

func TestManual(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	m := NewManual(start, 0.5)
	after := m.After(10 * time.Second)   // due at +5s
	tick := m.NewTicker(2 * time.Second) // every 1s

	m.Advance(4 * time.Second)
	select {
	case <-after:
		t.Fatal("After(10s) at scale 0.5 fired at +4s, want +5s")
	default:
	}
	select {
	case <-tick.C():
	default:
		t.Fatal("ticker did not fire by +4s")
	}
	m.Advance(time.Second)
	select {
	case got := <-after:
		if want := start.Add(5 * time.Second); !got.Equal(want) {
			t.Errorf("After fired with %v, want %v", got, want)
		}
	default:
		t.Fatal("After(10s) at scale 0.5 did not fire at +5s")
	}
	tick.Stop()
	if got := m.Waiters(); got != 1 {
		t.Errorf("Waiters() after stop = %d, want 1 (stopped ticker pruned on next Advance)", got)
	}
	m.Advance(time.Second)
	if got := m.Waiters(); got != 0 {
		t.Errorf("Waiters() = %d, want 0", got)
	}
	if got, want := m.Now(), start.Add(6*time.Second); !got.Equal(want) {
		t.Errorf("Now() = %v, want %v", got, want)
	}
}
