package ecs

import (
	"context"
	"testing"
	"time"

	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/awsproto"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/clock"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/taskrun"
)

type noRunner struct{}

func (noRunner) Start(context.Context, taskrun.Spec, func(taskrun.Exit)) (*taskrun.Process, error) {
	return nil, context.Canceled
}
func (noRunner) Stop(context.Context, *taskrun.Process) error { return nil }
func (noRunner) Exec(context.Context, *taskrun.Process, []string, time.Duration) (int, error) {
	return -1, context.Canceled
}

func TestPruneStoppedTasks(t *testing.T) {
	clk := clock.NewManual(time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC), 0.5)
	b, err := New(Config{Clock: clk, Runner: noRunner{}})
	if err != nil {
		t.Fatal(err)
	}
	stoppedAt := awsproto.NewTimestamp(clk.Now())
	b.st.Tasks["old"] = &taskRec{ID: "old", Task: Task{LastStatus: "STOPPED", StoppedAt: &stoppedAt}}
	b.st.Tasks["live"] = &taskRec{ID: "live", Task: Task{LastStatus: "RUNNING"}}
	tests := []struct {
		advance time.Duration
		want    []string
	}{
		{29 * time.Minute, []string{"live", "old"}}, // an AWS hour is 30 real minutes here
		{2 * time.Minute, []string{"live"}},
	}
	for _, tt := range tests {
		clk.Advance(tt.advance)
		b.pruneStopped()
		for _, id := range []string{"live", "old"} {
			_, kept := b.st.Tasks[id]
			want := false
			for _, w := range tt.want {
				want = want || w == id
			}
			if kept != want {
				t.Errorf("after %s more: task %s kept = %v, want %v", tt.advance, id, kept, want)
			}
		}
	}
}
