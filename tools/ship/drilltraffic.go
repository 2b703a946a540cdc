package main

import (
	"context"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Limits of the drill's traffic: light enough for production, bounded
// whatever the service does.
const (
	defaultDrillRPS = 5
	maxDrillRPS     = 50
	// drillRequestTimeout outlasts the app's longest injected latency
	// (10 s), so a slowed answer counts as the bad revision's, not as a
	// failure.
	drillRequestTimeout = 15 * time.Second
	// maxDrillInFlight bounds the requests outstanding at once; a tick
	// that finds this many waits for the next one.
	maxDrillInFlight = 64
	// maxDrillBody is the most of an answer read to tell its revision.
	maxDrillBody = 64 << 10
)

// faultInjectedCode is the error code the sample app answers with when
// APP_FAULT makes it fail a request on purpose.
const faultInjectedCode = "fault_injected"

// probe drives light traffic at a fixed rate through the production URL
// and tells which revision answered each request: the good one (what ran
// before the drill), the bad one (the drill's), another, or none (a
// failure).
type probe struct {
	url       string
	rps       int
	client    *http.Client
	good, bad revisionID
	now       func() time.Time

	mu      sync.Mutex
	stats   trafficStats
	lastBad time.Time
	// backAt is the first good answer after the last bad one.
	backAt time.Time
	// goodRun counts the good answers in a row since the last other
	// answer, failure or restartRun.
	goodRun int
}

// revisionID is a task definition revision as the app reports it.
type revisionID struct{ family, revision string }

func (r revisionID) String() string { return r.family + ":" + r.revision }

// trafficStats counts the drill's requests.
type trafficStats struct {
	Total int `json:"total"`
	// Good and Bad are the answers of the revision before the drill and of
	// the drill's.
	Good int `json:"good"`
	Bad  int `json:"bad"`
	// BadErrors are the bad revision's answers that were injected 500s.
	BadErrors int `json:"badErrors"`
	// Failed are requests without an answer of a known revision: no
	// connection, a timeout, or a 5XX from the load balancer itself.
	Failed int `json:"failed"`
	// Skipped ticks found maxDrillInFlight requests outstanding.
	Skipped     int            `json:"skipped,omitempty"`
	ByRevision  map[string]int `json:"byRevision"`
	LastFailure string         `json:"lastFailure,omitempty"`
}

func newProbe(url string, rps int, good, bad revisionID) *probe {
	return &probe{
		url: url, rps: rps, good: good, bad: bad, now: time.Now,
		client: &http.Client{Timeout: drillRequestTimeout},
		stats:  trafficStats{ByRevision: map[string]int{}},
	}
}

// run sends rps requests a second until ctx ends, then waits for the
// requests in flight.
func (p *probe) run(ctx context.Context) {
	var wg sync.WaitGroup
	defer wg.Wait()
	sem := make(chan struct{}, maxDrillInFlight)
	tick := time.NewTicker(time.Second / time.Duration(p.rps))
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		select {
		case sem <- struct{}{}:
		default:
			p.mu.Lock()
			p.stats.Skipped++
			p.mu.Unlock()
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			p.once(ctx)
		}()
	}
}

// answer is what the app says about itself: GET / carries the task's
// family and revision and the fault it injects; an injected error carries
// its code.
type answer struct {
	Fault string `json:"fault"`
	Code  string `json:"code"`
	ECS   struct {
		Family   string `json:"family"`
		Revision string `json:"revision"`
	} `json:"ecs"`
}

func (p *probe) once(ctx context.Context) {
	// The request may outlive the drill's context by its timeout: a
	// request cut short would count as a failure it is not.
	req, err := http.NewRequestWithContext(context.WithoutCancel(ctx), http.MethodGet, p.url, nil)
	if err != nil {
		p.record(revisionID{}, false, "build the request: "+err.Error())
		return
	}
	req.Header.Set("User-Agent", "ship-drill/"+version)
	resp, err := p.client.Do(req)
	if err != nil {
		p.record(revisionID{}, false, err.Error())
		return
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxDrillBody))
	resp.Body.Close()
	var a answer
	_ = json.Unmarshal(body, &a) // a body that is not the app's JSON tells no revision
	rev := revisionID{a.ECS.Family, a.ECS.Revision}
	injected := resp.StatusCode == http.StatusInternalServerError && a.Code == faultInjectedCode
	switch {
	case injected || resp.StatusCode == http.StatusOK && a.Fault != "":
		// Only the drill's revision injects faults.
		rev = p.bad
	case resp.StatusCode != http.StatusOK || rev.revision == "":
		p.record(revisionID{}, false, strconv.Itoa(resp.StatusCode)+" "+http.StatusText(resp.StatusCode)+" without a revision")
		return
	}
	p.record(rev, injected, "")
}

func (p *probe) record(rev revisionID, injected bool, failure string) {
	now := p.now()
	p.mu.Lock()
	defer p.mu.Unlock()
	s := &p.stats
	s.Total++
	if rev.revision == "" {
		s.Failed++
		s.LastFailure = failure
		p.goodRun = 0
		return
	}
	s.ByRevision[rev.String()]++
	switch rev {
	case p.bad:
		s.Bad++
		if injected {
			s.BadErrors++
		}
		p.lastBad, p.backAt, p.goodRun = now, time.Time{}, 0
	case p.good:
		s.Good++
		p.goodRun++
		if !p.lastBad.IsZero() && p.backAt.IsZero() {
			p.backAt = now
		}
	default:
		p.goodRun = 0
	}
}

// snapshot returns the counts so far, when the bad revision last
// answered, and the first good answer after that.
func (p *probe) snapshot() (trafficStats, time.Time, time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.stats
	s.ByRevision = maps.Clone(p.stats.ByRevision)
	return s, p.lastBad, p.backAt
}

// goodInARow is how many answers in a row came from the good revision
// since the last restartRun.
func (p *probe) goodInARow() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.goodRun
}

// restartRun counts good answers in a row from now on.
func (p *probe) restartRun() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.goodRun = 0
}
