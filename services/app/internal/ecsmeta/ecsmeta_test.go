package ecsmeta

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// taskJSON is an abridged answer of a real Fargate task metadata v4 endpoint.
const taskJSON = `{
  "Cluster": "arn:aws:ecs:us-east-1:111122223333:cluster/shipyard",
  "TaskARN": "arn:aws:ecs:us-east-1:111122223333:task/shipyard/3f2c9d1e0a6b4c1f9e8d7c6b5a4f3e2d",
  "Family": "shipyard-app",
  "Revision": "7",
  "DesiredStatus": "RUNNING",
  "KnownStatus": "RUNNING",
  "Limits": {"CPU": 0.25, "Memory": 512},
  "PullStartedAt": "2026-11-25T17:00:01.123Z",
  "AvailabilityZone": "us-east-1b",
  "LaunchType": "FARGATE",
  "Containers": [{"Name": "app", "DockerId": "3f2c9d1e0a6b4c1f9e8d7c6b5a4f3e2d-1234"}]
}`

// metadataServer serves /task with status and body, counting calls.
func metadataServer(t *testing.T, status *atomic.Int32, body string) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if r.URL.Path != "/v4/abc/task" {
			http.NotFound(w, r)
			return
		}
		w.WriteHeader(int(status.Load()))
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return srv, &calls
}

func TestTaskFetchesOnceAndCaches(t *testing.T) {
	var status atomic.Int32
	status.Store(http.StatusOK)
	srv, calls := metadataServer(t, &status, taskJSON)
	c := New(srv.URL + "/v4/abc/")
	want := Task{
		Cluster:          "arn:aws:ecs:us-east-1:111122223333:cluster/shipyard",
		TaskARN:          "arn:aws:ecs:us-east-1:111122223333:task/shipyard/3f2c9d1e0a6b4c1f9e8d7c6b5a4f3e2d",
		Family:           "shipyard-app",
		Revision:         "7",
		AvailabilityZone: "us-east-1b",
		LaunchType:       "FARGATE",
	}
	for i := range 3 {
		got, err := c.Task(context.Background())
		if err != nil || got != want {
			t.Fatalf("Task() #%d = %+v, %v, want %+v, nil", i, got, err, want)
		}
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("metadata endpoint called %d times, want 1", n)
	}
}

func TestTaskRetriesLazilyAfterFailure(t *testing.T) {
	var status atomic.Int32
	status.Store(http.StatusInternalServerError)
	srv, calls := metadataServer(t, &status, taskJSON)
	now := time.Date(2026, 11, 25, 17, 0, 0, 0, time.UTC)
	c := New(srv.URL+"/v4/abc", WithRetryAfter(10*time.Second), WithClock(func() time.Time { return now }))

	if _, err := c.Task(context.Background()); err == nil {
		t.Fatal("Task() with a failing endpoint = nil error, want one")
	}
	status.Store(http.StatusOK)
	now = now.Add(5 * time.Second)
	if _, err := c.Task(context.Background()); err == nil {
		t.Fatal("Task() before the retry pause = nil error, want the cached failure")
	}
	if n := calls.Load(); n != 1 {
		t.Fatalf("metadata endpoint called %d times within the retry pause, want 1", n)
	}
	now = now.Add(5 * time.Second)
	got, err := c.Task(context.Background())
	if err != nil || got.Revision != "7" {
		t.Fatalf("Task() after the retry pause = %+v, %v, want revision 7, nil", got, err)
	}
	if n := calls.Load(); n != 2 {
		t.Errorf("metadata endpoint called %d times, want 2", n)
	}
}

func TestTaskErrors(t *testing.T) {
	tests := []struct {
		name   string
		status int32
		body   string
	}{
		{"not json", http.StatusOK, "<html>"},
		{"no task arn", http.StatusOK, `{"Family":"x"}`},
		{"server error", http.StatusServiceUnavailable, taskJSON},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var status atomic.Int32
			status.Store(tt.status)
			srv, _ := metadataServer(t, &status, tt.body)
			got, err := New(srv.URL + "/v4/abc").Task(context.Background())
			if err == nil {
				t.Errorf("Task() = %+v, nil, want an error", got)
			}
		})
	}
}

func TestTaskTimesOut(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	c := New(srv.URL, WithTimeout(50*time.Millisecond))
	if _, err := c.Task(context.Background()); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Task() against a hung endpoint = %v, want context.DeadlineExceeded", err)
	}
}

func TestTaskDoesNotMakeCallersWait(t *testing.T) {
	entered := make(chan struct{})
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
		_, _ = w.Write([]byte(taskJSON))
	}))
	defer srv.Close()
	c := New(srv.URL)
	var wg sync.WaitGroup
	wg.Go(func() {
		if _, err := c.Task(context.Background()); err != nil {
			t.Errorf("first Task() = %v, want nil", err)
		}
	})
	<-entered
	if _, err := c.Task(context.Background()); !errors.Is(err, ErrPending) {
		t.Errorf("Task() during a fetch = %v, want ErrPending", err)
	}
	close(release)
	wg.Wait()
	if _, err := c.Task(context.Background()); err != nil {
		t.Errorf("Task() after the fetch = %v, want nil", err)
	}
}
