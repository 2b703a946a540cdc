package ledger

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/shipyard-ecs/shipyard/platform"
)

// Initiator is who or what started a deployment; ship fills it in.
type Initiator struct {
	User, GitCommit, ManifestVersion string
	// Drill is the fault a drill injected (its APP_FAULT, such as
	// "errors=0.5"), empty for a real deployment: a drill is meant to roll
	// back, so a change failure rate leaves drills out.
	Drill string
}

// Rollback is ECS's rollback of a deployment.
type Rollback struct {
	Reason string
	// Revision is the service revision rolled back to.
	Revision  string
	StartedAt time.Time
}

// Observation is what one writer knows about a deployment at one moment.
// Zero fields are not written; Record merges the rest into the record.
type Observation struct {
	Key
	// EventID makes the write idempotent: the EventBridge event id, the
	// hook execution id with its answer, or a writer's own unique id.
	EventID string
	// At is when it happened (the event's time), for the timeline.
	At time.Time
	// Source is the writer: "ecs", "cloudwatch", "ship", "deploywatch".
	Source string
	// Kind and Summary describe the timeline entry, for people.
	Kind, Summary string

	LegacyIDs       []string
	TargetRevision  string
	SourceRevisions []string
	TaskDefinition  string
	Image           string
	ImageDigest     string
	Initiator       Initiator

	// Statuses are service deployment statuses seen, each with when it was
	// reached (Reason is the status reason).
	Statuses []Transition
	// Stages are lifecycle stages reached, each with when.
	Stages []Transition

	Rollback        *Rollback
	TriggeredAlarms []string
	StartedAt       time.Time
	FinishedAt      time.Time
	StoppedAt       time.Time

	// Detail is extra evidence for the timeline entry (hook results, an
	// alarm's reason).
	Detail map[string]string
}

func (o Observation) validate() error {
	if err := o.Key.validate(); err != nil {
		return err
	}
	if o.EventID == "" {
		return fmt.Errorf("record %s: missing the event id", o.Arn)
	}
	if o.At.IsZero() {
		return fmt.Errorf("record %s event %s: missing the time", o.Arn, o.EventID)
	}
	for _, tr := range append(append([]Transition(nil), o.Statuses...), o.Stages...) {
		if !validName(tr.Name) || tr.At.IsZero() {
			return fmt.Errorf("record %s event %s: status or stage %q needs a name of capitals and a time", o.Arn, o.EventID, tr.Name)
		}
	}
	return nil
}

// Result says what a Record changed.
type Result struct {
	// Duplicate is set when the event id was recorded before.
	Duplicate bool
	// NewStatuses are the statuses this write was the first to record: the
	// signal for counting a deployment started, succeeded or rolled back
	// exactly once.
	NewStatuses []string
	// Before is the record as it was before the write (zero if new).
	Before Deployment
}

// update builds an UpdateItem expression from clauses.
type update struct {
	set   []string
	add   []string
	grown map[string][]string
	order []string
	names map[string]string
	vals  map[string]types.AttributeValue
}

func newUpdate() *update {
	return &update{names: map[string]string{}, vals: map[string]types.AttributeValue{}}
}

func (u *update) name(n string) string {
	p := "#n" + strconv.Itoa(len(u.names))
	u.names[p] = n
	return p
}

func (u *update) val(v types.AttributeValue) string {
	p := ":v" + strconv.Itoa(len(u.vals))
	u.vals[p] = v
	return p
}

// once sets attr to v unless it is set: facts never change once known.
func (u *update) once(attr string, v types.AttributeValue) {
	n := u.name(attr)
	u.set = append(u.set, fmt.Sprintf("%s = if_not_exists(%s, %s)", n, n, u.val(v)))
}

func (u *update) onceS(attr, v string) {
	if v != "" {
		u.once(attr, s(v))
	}
}

func (u *update) onceT(attr string, t time.Time) {
	if !t.IsZero() {
		u.once(attr, s(fmtTime(t)))
	}
}

// grow adds members to a string set; repeated calls for one attribute
// merge, as an expression may name an attribute once.
func (u *update) grow(attr string, members []string) {
	if u.grown == nil {
		u.grown = map[string][]string{}
	}
	if _, seen := u.grown[attr]; !seen {
		u.order = append(u.order, attr)
	}
	u.grown[attr] = append(u.grown[attr], members...)
}

func (u *update) addSets() {
	for _, attr := range u.order {
		u.addSet(attr, u.grown[attr])
	}
	u.grown, u.order = nil, nil
}

func (u *update) addSet(attr string, members []string) {
	var m []string
	for _, v := range members {
		if v != "" {
			m = append(m, v)
		}
	}
	if len(m) == 0 {
		return
	}
	u.add = append(u.add, u.name(attr)+" "+u.val(&types.AttributeValueMemberSS{Value: dedupe(m)}))
}

func dedupe(v []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range v {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	sort.Strings(out)
	return out
}

func (u *update) expr() string {
	u.addSets()
	var b strings.Builder
	if len(u.set) > 0 {
		b.WriteString("SET " + strings.Join(u.set, ", "))
	}
	if len(u.add) > 0 {
		b.WriteString(" ADD " + strings.Join(u.add, ", "))
	}
	return strings.TrimSpace(b.String())
}

// identity writes a record's key facts, in every write to it, so whichever
// writer comes first creates a complete record.
func (u *update) identity(k Key) {
	u.onceS("kind", "deployment")
	u.onceS("cluster", k.Cluster)
	u.onceS("service", k.Service)
	u.onceS("arn", k.Arn)
	u.onceS("deploymentId", k.ID())
	u.onceT("createdAt", k.CreatedAt)
}

// Record merges an observation into the deployment's record and appends it
// to the deployment's timeline, once per event id. It is safe to call again
// with the same observation after any failure: the ledger converges.
func (l *Ledger) Record(ctx context.Context, o Observation) (Result, error) {
	if err := o.validate(); err != nil {
		return Result{}, err
	}
	var res Result
	dup, err := l.putEntry(ctx, deploymentPK(o.Arn), fmtTime(o.At)+"#"+o.EventID, o.entry())
	if err != nil {
		return res, err
	}
	res.Duplicate = dup
	// Applied even for a duplicate: an earlier attempt may have written
	// the entry and failed before the record.
	u := newUpdate()
	u.identity(o.Key)
	u.grow("legacyIds", o.LegacyIDs)
	u.onceS("targetRevision", o.TargetRevision)
	u.grow("sourceRevisions", o.SourceRevisions)
	u.onceS("taskDefinition", o.TaskDefinition)
	u.onceS("image", o.Image)
	u.onceS("imageDigest", o.ImageDigest)
	u.onceS("initiatorUser", o.Initiator.User)
	u.onceS("initiatorGitCommit", o.Initiator.GitCommit)
	u.onceS("initiatorManifestVersion", o.Initiator.ManifestVersion)
	u.onceS("initiatorDrill", o.Initiator.Drill)
	// Each status and stage is a set of when-it-was-seen values: adding to
	// a set commutes, and a read takes the earliest.
	for _, tr := range o.Statuses {
		u.grow(attrTransition+tr.Name, []string{fmtTime(tr.At) + "|" + tr.Reason})
	}
	for _, tr := range o.Stages {
		u.grow(attrStage+tr.Name, []string{fmtTime(tr.At)})
	}
	if r := o.Rollback; r != nil {
		u.onceS("rollbackReason", r.Reason)
		u.onceS("rollbackRevision", r.Revision)
		u.onceT("rollbackStartedAt", r.StartedAt)
	}
	u.grow("triggeredAlarms", o.TriggeredAlarms)
	u.onceT("startedAt", o.StartedAt)
	u.onceT("finishedAt", o.FinishedAt)
	u.onceT("stoppedAt", o.StoppedAt)
	out, err := l.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(l.table), Key: o.recordKey(),
		UpdateExpression:         aws.String(u.expr()),
		ExpressionAttributeNames: u.names, ExpressionAttributeValues: u.vals,
		ReturnValues: types.ReturnValueAllOld,
	})
	if err != nil {
		return res, fmt.Errorf("update deployment %s in ledger %s: %w", o.Arn, l.table, err)
	}
	if len(out.Attributes) > 0 {
		res.Before = decodeDeployment(out.Attributes)
	}
	for _, tr := range o.Statuses {
		if _, had := out.Attributes[attrTransition+tr.Name]; !had && !slices.Contains(res.NewStatuses, tr.Name) {
			res.NewStatuses = append(res.NewStatuses, tr.Name)
		}
	}
	for _, id := range o.LegacyIDs {
		if err := l.putLegacy(ctx, o.Key, id); err != nil {
			return res, err
		}
	}
	return res, nil
}

// Entry is one event in a timeline.
type Entry struct {
	At      time.Time
	EventID string
	Source  string
	Kind    string
	Summary string
	Status  string
	Stage   string
	Detail  map[string]string
}

func (o Observation) entry() Entry {
	e := Entry{At: o.At, EventID: o.EventID, Source: o.Source, Kind: o.Kind, Summary: o.Summary, Detail: o.Detail}
	if n := len(o.Statuses); n > 0 {
		e.Status = o.Statuses[n-1].Name
	}
	if n := len(o.Stages); n > 0 {
		e.Stage = o.Stages[n-1].Name
	}
	return e
}

// putEntry writes a timeline entry unless its key exists; it reports a
// duplicate.
func (l *Ledger) putEntry(ctx context.Context, pk, sk string, e Entry) (bool, error) {
	item := map[string]types.AttributeValue{
		platform.LedgerPartitionKey: s(pk), platform.LedgerSortKey: s(sk),
		"kind": s("event"), "at": s(fmtTime(e.At)), "eventId": s(e.EventID),
	}
	for attr, v := range map[string]string{"source": e.Source, "eventKind": e.Kind, "summary": e.Summary, "status": e.Status, "stage": e.Stage} {
		if v != "" {
			item[attr] = s(v)
		}
	}
	if len(e.Detail) > 0 {
		m := map[string]types.AttributeValue{}
		for k, v := range e.Detail {
			if v != "" {
				m[k] = s(v)
			}
		}
		if len(m) > 0 {
			item["detail"] = &types.AttributeValueMemberM{Value: m}
		}
	}
	_, err := l.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(l.table), Item: item,
		ConditionExpression:      aws.String("attribute_not_exists(#pk)"),
		ExpressionAttributeNames: map[string]string{"#pk": platform.LedgerPartitionKey},
	})
	if isConditionFailed(err) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("put event %s in ledger %s: %w", e.EventID, l.table, err)
	}
	return false, nil
}

func (l *Ledger) putLegacy(ctx context.Context, k Key, legacyID string) error {
	_, err := l.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(l.table),
		Item: map[string]types.AttributeValue{
			platform.LedgerPartitionKey: s(servicePK(k.Cluster, k.Service)),
			platform.LedgerSortKey:      s("legacy#" + legacyID),
			"kind":                      s("legacy"), "arn": s(k.Arn), "createdAt": s(fmtTime(k.CreatedAt)),
		},
	})
	if err != nil {
		return fmt.Errorf("put legacy id %s in ledger %s: %w", legacyID, l.table, err)
	}
	return nil
}

// RecordServiceEvent appends an event that belongs to no one deployment
// (an alarm between deployments, a service action, an event that could
// not be resolved) to the service's own timeline, once per event id.
func (l *Ledger) RecordServiceEvent(ctx context.Context, cluster, service string, e Entry) (duplicate bool, err error) {
	if cluster == "" || service == "" || e.EventID == "" || e.At.IsZero() {
		return false, errors.New("record service event: want a cluster, a service, an event id and a time")
	}
	return l.putEntry(ctx, servicePK(cluster, service), "event#"+fmtTime(e.At)+"#"+e.EventID, e)
}

// ResolveLegacy finds the deployment an ecs-svc/… id was recorded with.
func (l *Ledger) ResolveLegacy(ctx context.Context, cluster, service, legacyID string) (Key, error) {
	out, err := l.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(l.table), ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{
			platform.LedgerPartitionKey: s(servicePK(cluster, service)),
			platform.LedgerSortKey:      s("legacy#" + legacyID),
		},
	})
	if err != nil {
		return Key{}, fmt.Errorf("get legacy id %s from ledger %s: %w", legacyID, l.table, err)
	}
	if len(out.Item) == 0 {
		return Key{}, fmt.Errorf("legacy id %s: %w", legacyID, ErrNotFound)
	}
	return Key{Cluster: cluster, Service: service, Arn: str(out.Item, "arn"), CreatedAt: parseTime(str(out.Item, "createdAt"))}, nil
}
