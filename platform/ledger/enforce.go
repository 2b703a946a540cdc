package ledger

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/shipyard-ecs/shipyard/platform"
)

// Action kinds.
const (
	// ActionStopRollback is StopServiceDeployment(ROLLBACK) of a deployment
	// in flight.
	ActionStopRollback = "stop-rollback"
	// ActionRedeploy is UpdateService back to the previous good task
	// definition, after a deployment finished.
	ActionRedeploy = "redeploy-previous"
)

// Action is an enforced rollback decided for a deployment.
type Action struct {
	Kind   string
	DryRun bool
	Reason string
	// Alarm is the alarm that triggered it.
	Alarm string
	// EventID is the alarm event's id.
	EventID string
	At      time.Time
	// TaskDefinition is what a redeploy goes back to.
	TaskDefinition string
	// Outcome is what came of it ("stopped", "dry-run", "ecs already rolling
	// back", an error), set by FinishEnforcement.
	Outcome string
}

func decodeAction(m map[string]types.AttributeValue) *Action {
	return &Action{Kind: str(m, "kind"), DryRun: str(m, "dryRun") == "true", Reason: str(m, "reason"), Alarm: str(m, "alarm"),
		EventID: str(m, "eventId"), At: parseTime(str(m, "at")), TaskDefinition: str(m, "taskDefinition")}
}

// ClaimEnforcement records action as the one enforced rollback of the
// deployment. It returns false, and the action already claimed, when there
// was one: at most one enforced rollback per deployment, whatever the
// number of alarms, deliveries or concurrent invocations.
func (l *Ledger) ClaimEnforcement(ctx context.Context, k Key, a Action) (bool, *Action, error) {
	if err := k.validate(); err != nil {
		return false, nil, err
	}
	dry := "false"
	if a.DryRun {
		dry = "true"
	}
	m := map[string]types.AttributeValue{"kind": s(a.Kind), "dryRun": s(dry), "at": s(fmtTime(a.At))}
	for attr, v := range map[string]string{"reason": a.Reason, "alarm": a.Alarm, "eventId": a.EventID, "taskDefinition": a.TaskDefinition} {
		if v != "" {
			m[attr] = s(v)
		}
	}
	u := newUpdate()
	u.identity(k)
	enf := u.name("enforcement")
	u.set = append(u.set, enf+" = "+u.val(&types.AttributeValueMemberM{Value: m}))
	_, err := l.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(l.table), Key: k.recordKey(),
		UpdateExpression:         aws.String(u.expr()),
		ConditionExpression:      aws.String("attribute_not_exists(" + enf + ")"),
		ExpressionAttributeNames: u.names, ExpressionAttributeValues: u.vals,
	})
	if isConditionFailed(err) {
		d, gerr := l.Get(ctx, k)
		if gerr != nil {
			return false, nil, gerr
		}
		return false, d.Enforcement, nil
	}
	if err != nil {
		return false, nil, fmt.Errorf("claim enforcement of %s in ledger %s: %w", k.Arn, l.table, err)
	}
	return true, nil, nil
}

// FinishEnforcement records what came of the claimed action.
func (l *Ledger) FinishEnforcement(ctx context.Context, k Key, outcome string) error {
	if err := k.validate(); err != nil {
		return err
	}
	_, err := l.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(l.table), Key: k.recordKey(),
		UpdateExpression:          aws.String("SET #o = :o"),
		ConditionExpression:       aws.String("attribute_exists(#e)"),
		ExpressionAttributeNames:  map[string]string{"#o": "enforcementOutcome", "#e": "enforcement"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":o": s(outcome)},
	})
	if err != nil {
		return fmt.Errorf("record enforcement outcome of %s in ledger %s: %w", k.Arn, l.table, err)
	}
	return nil
}

// ReleaseEnforcement gives up the claim eventID took and left unfinished
// (its action failed in a way a retry may fix), so the retry can claim it
// again. Another event's claim, or a finished one, is left alone.
func (l *Ledger) ReleaseEnforcement(ctx context.Context, k Key, eventID string) error {
	if err := k.validate(); err != nil {
		return err
	}
	_, err := l.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(l.table), Key: k.recordKey(),
		UpdateExpression:          aws.String("REMOVE #e"),
		ConditionExpression:       aws.String("#e.#id = :id AND attribute_not_exists(#o)"),
		ExpressionAttributeNames:  map[string]string{"#e": "enforcement", "#id": "eventId", "#o": "enforcementOutcome"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":id": s(eventID)},
	})
	if err != nil && !isConditionFailed(err) {
		return fmt.Errorf("release enforcement claim of %s in ledger %s: %w", k.Arn, l.table, err)
	}
	return nil
}

// ClaimCooldown takes the service's enforcement cooldown at now for the
// deployment arn: it returns false, and when the last enforced rollback
// was, if one of another deployment happened less than cooldown before.
func (l *Ledger) ClaimCooldown(ctx context.Context, cluster, service, arn string, now time.Time, cooldown time.Duration) (bool, time.Time, error) {
	key := map[string]types.AttributeValue{
		platform.LedgerPartitionKey: s(servicePK(cluster, service)),
		platform.LedgerSortKey:      s("cooldown"),
	}
	_, err := l.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(l.table), Key: key,
		UpdateExpression:         aws.String("SET #last = :now, #dep = :arn, #kind = :kind"),
		ConditionExpression:      aws.String("attribute_not_exists(#last) OR #last <= :cutoff OR #dep = :arn"),
		ExpressionAttributeNames: map[string]string{"#last": "lastActionAt", "#dep": "arn", "#kind": "kind"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":now": s(fmtTime(now)), ":arn": s(arn), ":kind": s("cooldown"), ":cutoff": s(fmtTime(now.Add(-cooldown))),
		},
	})
	if isConditionFailed(err) {
		out, gerr := l.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(l.table), Key: key, ConsistentRead: aws.Bool(true)})
		if gerr != nil {
			return false, time.Time{}, fmt.Errorf("get cooldown of %s/%s from ledger %s: %w", cluster, service, l.table, gerr)
		}
		return false, parseTime(str(out.Item, "lastActionAt")), nil
	}
	if err != nil {
		return false, time.Time{}, fmt.Errorf("claim cooldown of %s/%s in ledger %s: %w", cluster, service, l.table, err)
	}
	return true, time.Time{}, nil
}
