// Package clock is localcloud's notion of time. Every AWS duration the
// emulator waits out (a health-check interval, a bake time, a deregistration
// delay, an alarm period) goes through a Clock, which compresses it by the
// time scale: with scale 0.05 a 30 s health-check interval is a 1.5 s wait.
// Now is always real wall time, so timestamps stay meaningful.
package clock

import (
	"sync"
	"time"
)

// minWait keeps scaled waits from collapsing to zero, which would turn a
// ticker into a busy loop.
const minWait = time.Millisecond

// Clock tells the time and waits out scaled AWS durations.
type Clock interface {
	// Now is the current wall-clock time.
	Now() time.Time
	// After waits Scale(d), then sends the current time.
	After(d time.Duration) <-chan time.Time
	// NewTicker ticks every Scale(d).
	NewTicker(d time.Duration) Ticker
	// Scale turns an AWS duration into the real time the emulator waits.
	Scale(d time.Duration) time.Duration
}

// Ticker delivers ticks on C until it is stopped.
type Ticker interface {
	C() <-chan time.Time
	Stop()
}

// New returns the real clock compressed by scale; scale <= 0 means 1.
func New(scale float64) Clock {
	if scale <= 0 {
		scale = 1
	}
	return realClock{scale: scale}
}

type realClock struct{ scale float64 }

func (c realClock) Now() time.Time { return time.Now() }

func (c realClock) After(d time.Duration) <-chan time.Time { return time.After(c.Scale(d)) }

func (c realClock) NewTicker(d time.Duration) Ticker {
	return realTicker{time.NewTicker(c.Scale(d))}
}

func (c realClock) Scale(d time.Duration) time.Duration { return scale(d, c.scale) }

type realTicker struct{ t *time.Ticker }

func (t realTicker) C() <-chan time.Time { return t.t.C }
func (t realTicker) Stop()               { t.t.Stop() }

func scale(d time.Duration, f float64) time.Duration {
	if d <= 0 {
		return 0
	}
	s := time.Duration(float64(d) * f)
	if s < minWait {
		return minWait
	}
	return s
}

// Manual is a Clock that moves only when Advance is called, for tests that
// must not depend on the machine's speed. Waits are scaled like the real
// clock's, and Advance takes real (already scaled) time.
type Manual struct {
	mu      sync.Mutex
	now     time.Time
	factor  float64
	waiters []*waiter
}

type waiter struct {
	at     time.Time
	every  time.Duration // 0 for a one-shot After
	c      chan time.Time
	closed bool
}

// NewManual returns a Manual clock reading start and compressing by scale
// (scale <= 0 means 1).
func NewManual(start time.Time, scale float64) *Manual {
	if scale <= 0 {
		scale = 1
	}
	return &Manual{now: start, factor: scale}
}

// Now is the clock's current time.
func (m *Manual) Now() time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.now
}

// Scale compresses d by the clock's scale.
func (m *Manual) Scale(d time.Duration) time.Duration { return scale(d, m.factor) }

// After fires once the clock has been advanced by Scale(d).
func (m *Manual) After(d time.Duration) <-chan time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	w := &waiter{at: m.now.Add(m.Scale(d)), c: make(chan time.Time, 1)}
	m.waiters = append(m.waiters, w)
	return w.c
}

// NewTicker ticks each time the clock passes another Scale(d). Like
// time.Ticker it drops ticks a slow reader misses.
func (m *Manual) NewTicker(d time.Duration) Ticker {
	m.mu.Lock()
	defer m.mu.Unlock()
	every := m.Scale(d)
	if every <= 0 {
		every = minWait
	}
	w := &waiter{at: m.now.Add(every), every: every, c: make(chan time.Time, 1)}
	m.waiters = append(m.waiters, w)
	return &manualTicker{m: m, w: w}
}

// Waiters reports how many Afters and Tickers are pending, so a test can
// wait until the code under test is blocked on the clock before advancing.
func (m *Manual) Waiters() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.waiters)
}

// Advance moves the clock forward by d and fires everything now due.
func (m *Manual) Advance(d time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.now = m.now.Add(d)
	kept := m.waiters[:0]
	for _, w := range m.waiters {
		if w.closed {
			continue
		}
		if !w.at.After(m.now) {
			select {
			case w.c <- m.now:
			default:
			}
			if w.every == 0 {
				continue
			}
			for !w.at.After(m.now) {
				w.at = w.at.Add(w.every)
			}
		}
		kept = append(kept, w)
	}
	m.waiters = kept
}

type manualTicker struct {
	m *Manual
	w *waiter
}

func (t *manualTicker) C() <-chan time.Time { return t.w.c }

func (t *manualTicker) Stop() {
	t.m.mu.Lock()
	defer t.m.mu.Unlock()
	t.w.closed = true
}
