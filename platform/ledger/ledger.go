// Package ledger is the deployment ledger: one DynamoDB table, shared by the
// deploywatch Lambda and ship, that keeps every deployment of a service with
// its status transitions, lifecycle stages, rollback, triggered alarms and
// the enforcement actions taken, plus each deployment's timeline of events.
//
// # Keys
//
// The table has a string partition key pk and sort key sk
// (platform.LedgerPartitionKey, platform.LedgerSortKey):
//
//	pk = service#<cluster>/<service>   sk = deployment#<createdAt>#<id>   a deployment's record
//	pk = service#<cluster>/<service>   sk = legacy#<ecs-svc/…>            legacy id -> deployment
//	pk = service#<cluster>/<service>   sk = event#<time>#<event id>       an event of no one deployment
//	pk = service#<cluster>/<service>   sk = cooldown                      the last enforced rollback
//	pk = deployment#<ARN>              sk = <time>#<event id>             a deployment's timeline
//
// createdAt is ECS's createdAt of the service deployment, written as a
// fixed-width UTC time, so a query of a service's partition in reverse
// returns its deployments newest first, and a query of a deployment's
// partition its timeline in order.
//
// # Writes
//
// Delivery is at least once and out of order, and ship and the Lambda write
// the same records, so every write to a record is commutative and
// idempotent: facts are set only where absent (if_not_exists), sets grow
// (ADD), and each status or stage is its own set of sightings ("<time>|
// <reason>"), of which a read takes the earliest. The current status is the
// furthest one in ECS's order, computed on read, so no delivery order can
// move a deployment backwards, every order gives the same record, and no
// writer overwrites a field another wrote. Each event's timeline entry is
// written with a condition on its key: the event id makes a redelivery a
// no-op, and the write reports it as a duplicate.
package ledger

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/shipyard-ecs/shipyard/platform"
)

// dynamo is the part of the DynamoDB client the ledger uses.
type dynamo interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, optFns ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
}

// Ledger reads and writes the deployment ledger table.
type Ledger struct {
	db    dynamo
	table string
}

// New returns a ledger on table, through db (a *dynamodb.Client).
func New(db dynamo, table string) *Ledger {
	return &Ledger{db: db, table: table}
}

// ErrNotFound is returned for a deployment the ledger has no record of.
var ErrNotFound = errors.New("not in the ledger")

// timeKey is the fixed-width UTC form that sorts as the times do.
const timeKey = "2006-01-02T15:04:05.000000000Z"

func fmtTime(t time.Time) string { return t.UTC().Format(timeKey) }

func parseTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}
	}
	return t
}

// Key identifies a deployment in the ledger: its service, its service
// deployment ARN, and ECS's createdAt, which orders a service's deployments.
type Key struct {
	Cluster, Service string
	// Arn is the service deployment ARN.
	Arn       string
	CreatedAt time.Time
}

func (k Key) validate() error {
	switch {
	case k.Cluster == "" || k.Service == "":
		return fmt.Errorf("ledger key %q: missing the cluster or service", k.Arn)
	case k.Arn == "":
		return errors.New("ledger key: missing the service deployment ARN")
	case k.CreatedAt.IsZero():
		return fmt.Errorf("ledger key %q: missing createdAt", k.Arn)
	case strings.Contains(k.Cluster, "/") || strings.Contains(k.Service, "/"):
		return fmt.Errorf("ledger key %q: cluster and service names cannot contain /", k.Arn)
	}
	return nil
}

// ID is the last segment of the service deployment ARN.
func (k Key) ID() string { return k.Arn[strings.LastIndex(k.Arn, "/")+1:] }

func servicePK(cluster, service string) string { return "service#" + cluster + "/" + service }
func deploymentPK(arn string) string           { return "deployment#" + arn }

func (k Key) recordKey() map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		platform.LedgerPartitionKey: s(servicePK(k.Cluster, k.Service)),
		platform.LedgerSortKey:      s("deployment#" + fmtTime(k.CreatedAt) + "#" + k.ID()),
	}
}

func s(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }

// Statuses in ECS's order. A deployment's status is the furthest it has
// reached; the completed ones are final.
var statusRank = map[string]int{
	"PENDING":              0,
	"IN_PROGRESS":          1,
	"STOP_REQUESTED":       2,
	"ROLLBACK_REQUESTED":   2,
	"ROLLBACK_IN_PROGRESS": 3,
	"SUCCESSFUL":           4,
	"STOPPED":              4,
	"ROLLBACK_SUCCESSFUL":  4,
	"ROLLBACK_FAILED":      4,
}

// Final reports whether status is one a deployment ends in.
func Final(status string) bool { return statusRank[status] == 4 }

// Stages in the order a blue/green deployment goes through them.
var stageOrder = []string{
	"RECONCILE_SERVICE", "PRE_SCALE_UP", "SCALE_UP", "POST_SCALE_UP", "TEST_TRAFFIC_SHIFT", "POST_TEST_TRAFFIC_SHIFT",
	"PRE_PRODUCTION_TRAFFIC_SHIFT", "PRODUCTION_TRAFFIC_SHIFT", "POST_PRODUCTION_TRAFFIC_SHIFT", "BAKE_TIME", "CLEAN_UP",
}

func stageRank(stage string) int { return slices.Index(stageOrder, stage) }

// validName keeps statuses and stages, which become attribute names, to
// what ECS uses.
func validName(v string) bool {
	if v == "" || len(v) > 64 {
		return false
	}
	for _, c := range v {
		if !(c >= 'A' && c <= 'Z' || c == '_') {
			return false
		}
	}
	return true
}

const (
	attrTransition = "tr_"
	attrStage      = "stage_"
)

// isConditionFailed reports a failed condition expression.
func isConditionFailed(err error) bool {
	var cf *types.ConditionalCheckFailedException
	return errors.As(err, &cf)
}
