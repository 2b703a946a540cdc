// Package ecsmeta reads the ECS task metadata endpoint (version 4) once and
// caches the answer, so the app can say which task, revision and
// availability zone it is without calling the endpoint per request.
package ecsmeta

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Task is the part of the v4 task metadata (GET ${ECS_CONTAINER_METADATA_URI_V4}/task)
// that the app shows. Field names are those of the ECS JSON.
type Task struct {
	Cluster          string `json:"Cluster"`
	TaskARN          string `json:"TaskARN"`
	Family           string `json:"Family"`
	Revision         string `json:"Revision"`
	AvailabilityZone string `json:"AvailabilityZone"`
	LaunchType       string `json:"LaunchType"`
}

// ErrPending is returned while another caller is fetching the metadata.
var ErrPending = errors.New("task metadata is being fetched")

// Client fetches the task metadata once, caches a success for the life of
// the process and, after a failure, tries again lazily on a later call once
// RetryAfter has passed. It is safe for concurrent use; callers never wait
// for a fetch that another caller started.
type Client struct {
	endpoint   string
	http       *http.Client
	timeout    time.Duration
	retryAfter time.Duration
	now        func() time.Time

	mu       sync.Mutex
	task     *Task
	err      error
	tried    time.Time
	fetching bool
}

// Option adjusts a Client.
type Option func(*Client)

// WithHTTPClient sets the HTTP client (default: a dedicated client).
func WithHTTPClient(h *http.Client) Option { return func(c *Client) { c.http = h } }

// WithTimeout bounds one fetch (default 2 s; the endpoint is link-local).
func WithTimeout(d time.Duration) Option { return func(c *Client) { c.timeout = d } }

// WithRetryAfter sets the pause between failed fetches (default 10 s).
func WithRetryAfter(d time.Duration) Option { return func(c *Client) { c.retryAfter = d } }

// WithClock sets the clock used to pace retries.
func WithClock(now func() time.Time) Option { return func(c *Client) { c.now = now } }

// New returns a Client for the v4 endpoint base URI (the value of
// ECS_CONTAINER_METADATA_URI_V4).
func New(endpoint string, opts ...Option) *Client {
	c := &Client{
		endpoint:   strings.TrimRight(endpoint, "/"),
		http:       &http.Client{},
		timeout:    2 * time.Second,
		retryAfter: 10 * time.Second,
		now:        time.Now,
	}
	for _, o := range opts {
		o(c)
	}
	return c
}

// Task returns the cached task metadata, fetching it if it has never been
// fetched or the last failure is older than the retry pause.
func (c *Client) Task(ctx context.Context) (Task, error) {
	c.mu.Lock()
	switch {
	case c.task != nil:
		t := *c.task
		c.mu.Unlock()
		return t, nil
	case c.fetching:
		c.mu.Unlock()
		return Task{}, ErrPending
	case c.err != nil && c.now().Sub(c.tried) < c.retryAfter:
		err := c.err
		c.mu.Unlock()
		return Task{}, err
	}
	c.fetching = true
	c.mu.Unlock()

	t, err := c.fetch(ctx)

	c.mu.Lock()
	defer c.mu.Unlock()
	c.fetching = false
	c.tried = c.now()
	if err != nil {
		c.err = err
		return Task{}, err
	}
	c.task, c.err = &t, nil
	return t, nil
}

func (c *Client) fetch(ctx context.Context) (Task, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	url := c.endpoint + "/task"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return Task{}, fmt.Errorf("fetch task metadata: %w", err)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return Task{}, fmt.Errorf("fetch task metadata: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return Task{}, fmt.Errorf("fetch task metadata from %s: status %s", url, resp.Status)
	}
	var t Task
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&t); err != nil {
		return Task{}, fmt.Errorf("decode task metadata from %s: %w", url, err)
	}
	if t.TaskARN == "" {
		return Task{}, fmt.Errorf("decode task metadata from %s: no TaskARN in the answer", url)
	}
	return t, nil
}
