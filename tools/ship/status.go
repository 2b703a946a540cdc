package main

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/spf13/cobra"

	"github.com/shipyard-ecs/shipyard/platform/deploy"
)

type statusFlags struct {
	env   string
	watch bool
	watchFlags
}

func (a *app) statusCommand() *cobra.Command {
	var f statusFlags
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show the running revision, its tasks, target health, weights, alarms and any deployment in flight",
		Long: `status shows the service as it runs: the revision (task definition) and image,
tasks per revision, the health of each target group's targets, the listener
weights, the deployment alarms, the deployment in flight if any, and the URL.

With --watch it follows the deployment in flight to its end, as ship deploy
does, with the same exit codes.`,
		Example: `  ship status
  ship status --env production --watch
  ship status --output json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.status(cmd.Context(), f)
		},
	}
	a.envFlag(cmd, &f.env, localEnv)
	cmd.Flags().BoolVarP(&f.watch, "watch", "w", false, "follow the deployment in flight to its end")
	a.addWatchFlags(cmd, &f.watchFlags)
	return cmd
}

// serviceStatus is what ship status reports.
type serviceStatus struct {
	Service        string           `json:"service"`
	Cluster        string           `json:"cluster"`
	URL            string           `json:"url"`
	URLNote        string           `json:"urlNote,omitempty"`
	TaskDefinition string           `json:"taskDefinition"`
	Image          string           `json:"image"`
	Revisions      []revisionStatus `json:"revisions"`
	deploy.Snapshot
	InFlight *deploy.Snapshot `json:"inFlight,omitempty"`
}

type revisionStatus struct {
	TaskDefinition string `json:"taskDefinition"`
	Status         string `json:"status"`
	Running        int32  `json:"running"`
	Pending        int32  `json:"pending"`
	Desired        int32  `json:"desired"`
}

func (a *app) status(ctx context.Context, f statusFlags) error {
	if err := f.check(); err != nil {
		return err
	}
	t, err := a.target(ctx, f.env)
	if err != nil {
		return err
	}
	e := t.engine
	svcs, err := e.Reader.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(e.Service.Cluster), Services: []string{e.Service.Name}})
	if err != nil {
		return serviceNotFound(fmt.Errorf("describe service %s: %w", e.Service.Name, err))
	}
	i := slices.IndexFunc(svcs.Services, func(s ecstypes.Service) bool { return aws.ToString(s.Status) == "ACTIVE" })
	if i < 0 {
		return usagef("service %s does not exist in cluster %s; run ship up first", e.Service.Name, e.Service.Cluster)
	}
	svc := svcs.Services[i]
	st := serviceStatus{Service: e.Service.Name, Cluster: e.Service.Cluster, URL: t.serviceURL(), URLNote: t.urlNote(), TaskDefinition: aws.ToString(svc.TaskDefinition)}
	if td, err := e.Tasks.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: svc.TaskDefinition}); err == nil && len(td.TaskDefinition.ContainerDefinitions) > 0 {
		st.Image = aws.ToString(td.TaskDefinition.ContainerDefinitions[0].Image)
	}
	for _, d := range svc.Deployments {
		st.Revisions = append(st.Revisions, revisionStatus{TaskDefinition: aws.ToString(d.TaskDefinition), Status: aws.ToString(d.Status),
			Running: d.RunningCount, Pending: d.PendingCount, Desired: d.DesiredCount})
	}
	if st.Snapshot, err = e.LookService(ctx); err != nil {
		return err
	}
	inflight, err := e.InFlight(ctx)
	if err != nil {
		return err
	}
	if inflight != nil {
		s, err := e.Look(ctx, aws.ToString(inflight.ServiceDeploymentArn))
		if err != nil {
			return err
		}
		st.InFlight = &s
	}
	if f.output == outputJSON {
		b, err := json.Marshal(st)
		if err != nil {
			return err
		}
		fmt.Fprintf(a.stdout, "%s\n", b)
	} else {
		a.printStatus(st)
	}
	if f.watch && inflight != nil {
		return a.watch(ctx, t, aws.ToString(inflight.ServiceDeploymentArn), f.watchFlags, newPrinter(a.stdout, f.output), false)
	}
	return nil
}

func (a *app) printStatus(st serviceStatus) {
	w := a.stdout
	fmt.Fprintf(w, "service   %s (cluster %s)\n", st.Service, st.Cluster)
	fmt.Fprintf(w, "url       %s\n", st.URL)
	if st.URLNote != "" {
		fmt.Fprintf(w, "          (%s)\n", st.URLNote)
	}
	fmt.Fprintf(w, "revision  %s\n", family(st.TaskDefinition))
	fmt.Fprintf(w, "image     %s\n", st.Image)
	for _, r := range st.Revisions {
		fmt.Fprintf(w, "tasks     %s %s: %d running, %d pending, %d desired\n", family(r.TaskDefinition), strings.ToLower(r.Status), r.Running, r.Pending, r.Desired)
	}
	fmt.Fprintf(w, "traffic   %s\n", st.Snapshot.Line())
	if st.InFlight == nil {
		fmt.Fprintln(w, "deploying nothing in flight")
		return
	}
	fmt.Fprintf(w, "deploying %s\n          %s\n", st.InFlight.Arn, st.InFlight.Line())
	if st.InFlight.Stage != "" && st.InFlight.Status != "" {
		fmt.Fprintln(w, "          ship status --watch follows it; ship rollback rolls it back")
	}
}
