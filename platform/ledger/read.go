package ledger

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/shipyard-ecs/shipyard/platform"
)

// Deployment is a deployment's record as the ledger has it.
type Deployment struct {
	Key
	LegacyIDs       []string
	TargetRevision  string
	SourceRevisions []string
	TaskDefinition  string
	Image           string
	ImageDigest     string
	Initiator       Initiator

	// Status is the furthest status reached, in ECS's order.
	Status       string
	StatusReason string
	// Transitions are every status seen, in order, with when.
	Transitions []Transition
	// Stage is the furthest lifecycle stage reached.
	Stage  string
	Stages []Transition

	Rollback        *Rollback
	TriggeredAlarms []string
	Enforcement     *Action
	StartedAt       time.Time
	FinishedAt      time.Time
	StoppedAt       time.Time
}

// Transition is a status or stage and when it was first seen.
type Transition struct {
	Name   string
	At     time.Time
	Reason string
}

// Duration is how long the deployment ran, or 0 while it runs.
func (d Deployment) Duration() time.Duration {
	if d.StartedAt.IsZero() || d.FinishedAt.IsZero() {
		return 0
	}
	return d.FinishedAt.Sub(d.StartedAt)
}

// RolledBack reports a deployment that ended in a rollback.
func (d Deployment) RolledBack() bool { return strings.HasPrefix(d.Status, "ROLLBACK_") }

func str(item map[string]types.AttributeValue, attr string) string {
	if v, ok := item[attr].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

func strs(item map[string]types.AttributeValue, attr string) []string {
	if v, ok := item[attr].(*types.AttributeValueMemberSS); ok {
		out := append([]string(nil), v.Value...)
		sort.Strings(out)
		return out
	}
	return nil
}

func decodeDeployment(item map[string]types.AttributeValue) Deployment {
	d := Deployment{
		Key:       Key{Cluster: str(item, "cluster"), Service: str(item, "service"), Arn: str(item, "arn"), CreatedAt: parseTime(str(item, "createdAt"))},
		LegacyIDs: strs(item, "legacyIds"), TargetRevision: str(item, "targetRevision"), SourceRevisions: strs(item, "sourceRevisions"),
		TaskDefinition: str(item, "taskDefinition"), Image: str(item, "image"), ImageDigest: str(item, "imageDigest"),
		Initiator:       Initiator{User: str(item, "initiatorUser"), GitCommit: str(item, "initiatorGitCommit"), ManifestVersion: str(item, "initiatorManifestVersion"), Drill: str(item, "initiatorDrill")},
		TriggeredAlarms: strs(item, "triggeredAlarms"),
		StartedAt:       parseTime(str(item, "startedAt")), FinishedAt: parseTime(str(item, "finishedAt")), StoppedAt: parseTime(str(item, "stoppedAt")),
	}
	if r := str(item, "rollbackReason") + str(item, "rollbackRevision") + str(item, "rollbackStartedAt"); r != "" {
		d.Rollback = &Rollback{Reason: str(item, "rollbackReason"), Revision: str(item, "rollbackRevision"), StartedAt: parseTime(str(item, "rollbackStartedAt"))}
	}
	for attr := range item {
		switch {
		case strings.HasPrefix(attr, attrTransition):
			d.Transitions = append(d.Transitions, earliest(strings.TrimPrefix(attr, attrTransition), strs(item, attr)))
		case strings.HasPrefix(attr, attrStage):
			d.Stages = append(d.Stages, earliest(strings.TrimPrefix(attr, attrStage), strs(item, attr)))
		}
	}
	// Order statuses by ECS's order, then time; the last is the status.
	sort.Slice(d.Transitions, func(i, j int) bool {
		a, b := d.Transitions[i], d.Transitions[j]
		ra, rb := rank(a.Name), rank(b.Name)
		if ra != rb {
			return ra < rb
		}
		return a.At.Before(b.At) || a.At.Equal(b.At) && a.Name < b.Name
	})
	if n := len(d.Transitions); n > 0 {
		d.Status, d.StatusReason = d.Transitions[n-1].Name, d.Transitions[n-1].Reason
	}
	sort.Slice(d.Stages, func(i, j int) bool {
		a, b := d.Stages[i], d.Stages[j]
		if ra, rb := stageRank(a.Name), stageRank(b.Name); ra != rb {
			return ra < rb
		}
		return a.At.Before(b.At)
	})
	for i := len(d.Stages) - 1; i >= 0; i-- {
		if stageRank(d.Stages[i].Name) >= 0 {
			d.Stage = d.Stages[i].Name
			break
		}
	}
	if a, ok := item["enforcement"].(*types.AttributeValueMemberM); ok {
		d.Enforcement = decodeAction(a.Value)
		d.Enforcement.Outcome = str(item, "enforcementOutcome")
	}
	return d
}

// earliest reads a set of "<time>|<reason>" sightings: the transition
// happened at the earliest, and the earliest reason given explains it.
func earliest(name string, seen []string) Transition {
	tr := Transition{Name: name}
	for _, v := range seen { // sorted, and fixed-width times sort as times
		at, reason, _ := strings.Cut(v, "|")
		if tr.At.IsZero() {
			tr.At = parseTime(at)
		}
		if tr.Reason == "" {
			tr.Reason = reason
		}
	}
	return tr
}

// rank is a status's place in ECS's order; unknown statuses sort first so
// they never hide a known one.
func rank(status string) int {
	if r, ok := statusRank[status]; ok {
		return r
	}
	return -1
}

// Get reads one deployment's record.
func (l *Ledger) Get(ctx context.Context, k Key) (Deployment, error) {
	if err := k.validate(); err != nil {
		return Deployment{}, err
	}
	out, err := l.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(l.table), Key: k.recordKey(), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return Deployment{}, fmt.Errorf("get deployment %s from ledger %s: %w", k.Arn, l.table, err)
	}
	if len(out.Item) == 0 {
		return Deployment{}, fmt.Errorf("deployment %s: %w", k.Arn, ErrNotFound)
	}
	return decodeDeployment(out.Item), nil
}

// Deployments returns a service's deployments, newest first, at most limit
// (all with limit 0).
func (l *Ledger) Deployments(ctx context.Context, cluster, service string, limit int) ([]Deployment, error) {
	in := &dynamodb.QueryInput{
		TableName:                aws.String(l.table),
		KeyConditionExpression:   aws.String("#pk = :pk AND begins_with(#sk, :prefix)"),
		ExpressionAttributeNames: map[string]string{"#pk": platform.LedgerPartitionKey, "#sk": platform.LedgerSortKey},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": s(servicePK(cluster, service)), ":prefix": s("deployment#"),
		},
		ScanIndexForward: aws.Bool(false),
		ConsistentRead:   aws.Bool(true),
	}
	if limit > 0 {
		in.Limit = aws.Int32(int32(min(limit, 1000)))
	}
	var out []Deployment
	for {
		page, err := l.db.Query(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("query deployments of %s/%s in ledger %s: %w", cluster, service, l.table, err)
		}
		for _, item := range page.Items {
			out = append(out, decodeDeployment(item))
			if limit > 0 && len(out) == limit {
				return out, nil
			}
		}
		if len(page.LastEvaluatedKey) == 0 {
			return out, nil
		}
		in.ExclusiveStartKey = page.LastEvaluatedKey
	}
}

// Timeline returns every event recorded for a deployment, oldest first.
func (l *Ledger) Timeline(ctx context.Context, arn string) ([]Entry, error) {
	return l.entries(ctx, deploymentPK(arn), "")
}

// ServiceEvents returns the events recorded for a service outside any one
// deployment, oldest first.
func (l *Ledger) ServiceEvents(ctx context.Context, cluster, service string) ([]Entry, error) {
	return l.entries(ctx, servicePK(cluster, service), "event#")
}

func (l *Ledger) entries(ctx context.Context, pk, prefix string) ([]Entry, error) {
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(l.table),
		KeyConditionExpression:    aws.String("#pk = :pk"),
		ExpressionAttributeNames:  map[string]string{"#pk": platform.LedgerPartitionKey},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": s(pk)},
		ConsistentRead:            aws.Bool(true),
	}
	if prefix != "" {
		in.KeyConditionExpression = aws.String("#pk = :pk AND begins_with(#sk, :prefix)")
		in.ExpressionAttributeNames["#sk"] = platform.LedgerSortKey
		in.ExpressionAttributeValues[":prefix"] = s(prefix)
	}
	var out []Entry
	for {
		page, err := l.db.Query(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("query timeline %s in ledger %s: %w", pk, l.table, err)
		}
		for _, item := range page.Items {
			e := Entry{At: parseTime(str(item, "at")), EventID: str(item, "eventId"), Source: str(item, "source"), Kind: str(item, "eventKind"),
				Summary: str(item, "summary"), Status: str(item, "status"), Stage: str(item, "stage")}
			if m, ok := item["detail"].(*types.AttributeValueMemberM); ok {
				e.Detail = map[string]string{}
				for k := range m.Value {
					e.Detail[k] = str(m.Value, k)
				}
			}
			out = append(out, e)
		}
		if len(page.LastEvaluatedKey) == 0 {
			return out, nil
		}
		in.ExclusiveStartKey = page.LastEvaluatedKey
	}
}
