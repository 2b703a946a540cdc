package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/spf13/cobra"

	"github.com/shipyard-ecs/shipyard/platform/ledger"
	"github.com/shipyard-ecs/shipyard/platform/stack"
)

type historyFlags struct {
	env, output string
	n           int
}

func (a *app) historyCommand() *cobra.Command {
	var f historyFlags
	cmd := &cobra.Command{
		Use:   "history",
		Short: "Show the deployment ledger: when, who, commit, image, outcome, duration, reason",
		Long: `history reads the environment's deployment ledger (written by ship and the
deploywatch Lambda), newest first.

A deployment ship drill started shows its fault in the DRILL column (the
drill's APP_FAULT) and as "drill" in JSON: a drill is meant to roll back, so
leave drills out of a change failure rate.`,
		Example: `  ship history
  ship history --env production -n 50
  ship history --output json | jq '.[] | select(.status != "SUCCESSFUL")'
  ship history --output json | jq '[.[] | select(.drill == null)]'   # real deployments only`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.history(cmd.Context(), f)
		},
	}
	a.envFlag(cmd, &f.env, localEnv)
	cmd.Flags().IntVarP(&f.n, "number", "n", 20, "show the newest `N` deployments (0: all)")
	cmd.Flags().StringVarP(&f.output, "output", "o", outputText, "format: text (a table) or json")
	return cmd
}

// historyEntry is one row of ship history.
type historyEntry struct {
	Deployment     string        `json:"deployment"`
	CreatedAt      time.Time     `json:"createdAt"`
	User           string        `json:"user,omitempty"`
	Commit         string        `json:"commit,omitempty"`
	Image          string        `json:"image,omitempty"`
	TaskDefinition string        `json:"taskDefinition,omitempty"`
	Status         string        `json:"status"`
	Duration       time.Duration `json:"duration"`
	Reason         string        `json:"reason,omitempty"`
	Alarms         []string      `json:"triggeredAlarms,omitempty"`
	// Drill is the fault a ship drill injected; empty for a real deployment.
	Drill string `json:"drill,omitempty"`
}

func (a *app) history(ctx context.Context, f historyFlags) error {
	if f.output != outputText && f.output != outputJSON {
		return usagef("--output %q: want text or json", f.output)
	}
	if f.n < 0 {
		return usagef("-n %d: want 0 (all) or more", f.n)
	}
	t, err := a.target(ctx, f.env)
	if err != nil {
		return err
	}
	table, err := t.outputs.Get(stack.OutputLedgerTable)
	if err != nil {
		return usageError{err}
	}
	ds, err := ledger.New(dynamodb.NewFromConfig(t.cfg), table).Deployments(ctx, t.engine.Service.Cluster, t.engine.Service.Name, f.n)
	if err != nil {
		return fmt.Errorf("read the deployment ledger %s: %w", table, err)
	}
	entries := make([]historyEntry, 0, len(ds))
	for _, d := range ds {
		reason := d.StatusReason
		if d.Rollback != nil && d.Rollback.Reason != "" {
			reason = d.Rollback.Reason
		}
		entries = append(entries, historyEntry{Deployment: d.Arn, CreatedAt: d.CreatedAt, User: d.Initiator.User, Commit: d.Initiator.GitCommit,
			Image: d.Image, TaskDefinition: d.TaskDefinition, Status: d.Status, Duration: d.Duration(), Reason: reason, Alarms: d.TriggeredAlarms, Drill: d.Initiator.Drill})
	}
	if f.output == outputJSON {
		b, err := json.Marshal(entries)
		if err != nil {
			return err
		}
		fmt.Fprintf(a.stdout, "%s\n", b)
		return nil
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "WHEN\tWHO\tCOMMIT\tREVISION\tIMAGE\tOUTCOME\tDRILL\tDURATION\tREASON")
	for _, e := range entries {
		commit := e.Commit
		if len(commit) > 12 && !strings.HasSuffix(commit, "-dirty") {
			commit = commit[:12]
		} else if len(commit) > 18 {
			commit = commit[:12] + "-dirty"
		}
		img := e.Image
		if i := strings.LastIndex(img, "@sha256:"); i >= 0 && len(img) > i+20 {
			img = img[i+1 : i+20]
		}
		outcome := e.Status
		if len(e.Alarms) > 0 {
			outcome += " (" + strings.Join(e.Alarms, ",") + ")"
		}
		dur := "-"
		if e.Duration > 0 {
			dur = e.Duration.Round(time.Second).String()
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.CreatedAt.Local().Format("2006-01-02 15:04:05"), dash(e.User), dash(commit),
			dash(family(e.TaskDefinition)), dash(img), dash(outcome), dash(e.Drill), dur, e.Reason)
	}
	return tw.Flush()
}

func dash(s string) string {
	if s == "" || s == "(none)" {
		return "-"
	}
	return s
}
