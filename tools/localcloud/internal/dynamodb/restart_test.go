package dynamodb_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/dynamodb/dynamodbtest"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/state"
)

func TestStateSurvivesRestart(t *testing.T) {
	ctx := context.Background()
	store := state.Store{Dir: t.TempDir()}
	_, url := serve(t, store)
	c := dynamodbtest.Target{Endpoint: url}.Client()
	_, err := c.CreateTable(ctx, &ddb.CreateTableInput{
		TableName: aws.String("ledger"), BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}, {AttributeName: aws.String("sk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}, {AttributeName: aws.String("sk"), KeyType: types.KeyTypeRange}},
		SSESpecification:     &types.SSESpecification{Enabled: aws.Bool(true)},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.UpdateContinuousBackups(ctx, &ddb.UpdateContinuousBackupsInput{TableName: aws.String("ledger"), PointInTimeRecoverySpecification: &types.PointInTimeRecoverySpecification{PointInTimeRecoveryEnabled: aws.Bool(true)}}); err != nil {
		t.Fatal(err)
	}
	for _, sk := range []string{"b", "a", "c"} {
		if _, err := c.PutItem(ctx, &ddb.PutItemInput{TableName: aws.String("ledger"), Item: map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: "svc"}, "sk": &types.AttributeValueMemberS{Value: sk}, "n": &types.AttributeValueMemberN{Value: "1.50"}}}); err != nil {
			t.Fatal(err)
		}
	}

	_, url2 := serve(t, store)
	c2 := dynamodbtest.Target{Endpoint: url2}.Client()
	out, err := c2.Query(ctx, &ddb.QueryInput{TableName: aws.String("ledger"), KeyConditionExpression: aws.String("pk = :p"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": &types.AttributeValueMemberS{Value: "svc"}}, ScanIndexForward: aws.Bool(false)})
	if err != nil {
		t.Fatalf("Query after restart: %v", err)
	}
	var sks []string
	for _, it := range out.Items {
		sks = append(sks, it["sk"].(*types.AttributeValueMemberS).Value)
		if n := it["n"].(*types.AttributeValueMemberN).Value; n != "1.5" {
			t.Errorf("n after restart = %s, want 1.5", n)
		}
	}
	if len(sks) != 3 || sks[0] != "c" || sks[2] != "a" {
		t.Errorf("items after restart = %v, want [c b a]", sks)
	}
	d, err := c2.DescribeTable(ctx, &ddb.DescribeTableInput{TableName: aws.String("ledger")})
	if err != nil || d.Table.SSEDescription == nil || d.Table.SSEDescription.Status != types.SSEStatusEnabled || d.Table.ItemCount == nil || *d.Table.ItemCount != 3 {
		t.Errorf("DescribeTable after restart = %+v, %v, want SSE enabled and 3 items", d, err)
	}
	b, err := c2.DescribeContinuousBackups(ctx, &ddb.DescribeContinuousBackupsInput{TableName: aws.String("ledger")})
	if err != nil || b.ContinuousBackupsDescription.PointInTimeRecoveryDescription.PointInTimeRecoveryStatus != types.PointInTimeRecoveryStatusEnabled {
		t.Errorf("PITR after restart = %+v, %v, want ENABLED", b, err)
	}
}
