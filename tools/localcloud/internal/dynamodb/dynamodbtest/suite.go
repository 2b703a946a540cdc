package dynamodbtest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/awsproto/awsprototest"
)

// Target is an endpoint the suite runs against, and what it lacks.
type Target struct {
	Name     string
	Endpoint string
	// NoTransactions: the target has no TransactWriteItems (dynalite).
	NoTransactions bool
	// NoBackups: the target has no UpdateContinuousBackups (dynalite).
	NoBackups bool
	// NoReturnOnFailure: the target ignores
	// ReturnValuesOnConditionCheckFailure (dynalite).
	NoReturnOnFailure bool
}

// Client returns an SDK client for the target, configured as every
// localcloud test's (awsprototest.Config: retries on, short waits).
func (tg Target) Client() *dynamodb.Client {
	return dynamodb.NewFromConfig(awsprototest.Config(tg.Endpoint))
}

type suite struct {
	t   *testing.T
	tg  Target
	c   *dynamodb.Client
	ctx context.Context
}

var tableSeq atomic.Int64

// Run runs every contract test against tg.
func Run(t *testing.T, tg Target) {
	s := &suite{t: t, tg: tg, c: tg.Client(), ctx: context.Background()}
	for _, tc := range []struct {
		name string
		f    func(t *testing.T)
	}{
		{"TableLifecycle", s.testTableLifecycle},
		{"ValueRoundTrip", s.testValueRoundTrip},
		{"Numbers", s.testNumbers},
		{"IdempotentPut", s.testIdempotentPut},
		{"Conditions", s.testConditions},
		{"Updates", s.testUpdates},
		{"ReturnValues", s.testReturnValues},
		{"MonotonicUpdates", s.testMonotonic},
		{"QueryNewestFirst", s.testQuery},
		{"ScanPaging", s.testScan},
		{"BatchWrite", s.testBatchWrite},
		{"Errors", s.testErrors},
		{"Transactions", s.testTransactions},
		{"ContinuousBackups", s.testBackups},
		{"ReturnOldOnConditionFailure", s.testReturnOnFailure},
		{"GlobalSecondaryIndex", s.testGSI},
	} {
		t.Run(tc.name, tc.f)
	}
}

// table creates a pk/sk (strings) PAY_PER_REQUEST table, or pk only.
func (s *suite) table(t *testing.T, withSort bool) string {
	t.Helper()
	name := fmt.Sprintf("contract-%d-%d", time.Now().UnixNano()%1e6, tableSeq.Add(1))
	in := &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		BillingMode:          types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
	}
	if withSort {
		in.AttributeDefinitions = append(in.AttributeDefinitions, types.AttributeDefinition{AttributeName: aws.String("sk"), AttributeType: types.ScalarAttributeTypeS})
		in.KeySchema = append(in.KeySchema, types.KeySchemaElement{AttributeName: aws.String("sk"), KeyType: types.KeyTypeRange})
	}
	if _, err := s.c.CreateTable(s.ctx, in); err != nil {
		t.Fatalf("CreateTable(%s): %v", name, err)
	}
	w := dynamodb.NewTableExistsWaiter(s.c, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay = 10 * time.Millisecond
		o.MaxDelay = 100 * time.Millisecond
	})
	if err := w.Wait(s.ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)}, 30*time.Second); err != nil {
		t.Fatalf("wait for table %s: %v", name, err)
	}
	t.Cleanup(func() { _, _ = s.c.DeleteTable(s.ctx, &dynamodb.DeleteTableInput{TableName: aws.String(name)}) })
	return name
}

func str(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
func num(v string) types.AttributeValue { return &types.AttributeValueMemberN{Value: v} }

func key(pk, sk string) map[string]types.AttributeValue {
	k := map[string]types.AttributeValue{"pk": str(pk)}
	if sk != "" {
		k["sk"] = str(sk)
	}
	return k
}

func (s *suite) put(t *testing.T, table string, item map[string]types.AttributeValue) {
	t.Helper()
	if _, err := s.c.PutItem(s.ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: item}); err != nil {
		t.Fatalf("PutItem: %v", err)
	}
}

func (s *suite) get(t *testing.T, table string, k map[string]types.AttributeValue) map[string]types.AttributeValue {
	t.Helper()
	out, err := s.c.GetItem(s.ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: k, ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatalf("GetItem: %v", err)
	}
	return out.Item
}

// code is the AWS error code of err, or "" for nil.
func code(err error) string {
	if err == nil {
		return ""
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return err.Error()
}

func message(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorMessage()
	}
	return ""
}

func (s *suite) testTableLifecycle(t *testing.T) {
	name := s.table(t, true)
	d, err := s.c.DescribeTable(s.ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
	if err != nil {
		t.Fatalf("DescribeTable: %v", err)
	}
	tb := d.Table
	if tb.TableStatus != types.TableStatusActive || aws.ToString(tb.TableName) != name || len(tb.KeySchema) != 2 ||
		tb.BillingModeSummary == nil || tb.BillingModeSummary.BillingMode != types.BillingModePayPerRequest ||
		!strings.HasSuffix(aws.ToString(tb.TableArn), ":table/"+name) {
		t.Errorf("DescribeTable = status %s name %s keys %v billing %+v arn %s", tb.TableStatus, aws.ToString(tb.TableName), tb.KeySchema, tb.BillingModeSummary, aws.ToString(tb.TableArn))
	}
	_, err = s.c.CreateTable(s.ctx, &dynamodb.CreateTableInput{
		TableName: aws.String(name), BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
	})
	var inUse *types.ResourceInUseException
	if !errors.As(err, &inUse) {
		t.Errorf("CreateTable(existing) error = %v, want ResourceInUseException", err)
	}
	if _, err := s.c.DeleteTable(s.ctx, &dynamodb.DeleteTableInput{TableName: aws.String(name)}); err != nil {
		t.Fatalf("DeleteTable: %v", err)
	}
	var nf *types.ResourceNotFoundException
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err = s.c.DescribeTable(s.ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
		if errors.As(err, &nf) || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !errors.As(err, &nf) {
		t.Errorf("DescribeTable(deleted) error = %v, want ResourceNotFoundException", err)
	}
	_, err = s.c.GetItem(s.ctx, &dynamodb.GetItemInput{TableName: aws.String(name), Key: key("a", "b")})
	if !errors.As(err, &nf) || message(err) != "Requested resource not found" {
		t.Errorf("GetItem(deleted table) error = %v, want ResourceNotFoundException: Requested resource not found", err)
	}
}

func (s *suite) testValueRoundTrip(t *testing.T) {
	table := s.table(t, false)
	item := map[string]types.AttributeValue{
		"pk":   str("all-types"),
		"s":    str("héllo"),
		"n":    num("-12.5"),
		"b":    &types.AttributeValueMemberB{Value: []byte{0, 1, 2, 255}},
		"t":    &types.AttributeValueMemberBOOL{Value: true},
		"null": &types.AttributeValueMemberNULL{Value: true},
		"ss":   &types.AttributeValueMemberSS{Value: []string{"a", "b"}},
		"ns":   &types.AttributeValueMemberNS{Value: []string{"1", "2.5"}},
		"bs":   &types.AttributeValueMemberBS{Value: [][]byte{{1}, {2}}},
		"l":    &types.AttributeValueMemberL{Value: []types.AttributeValue{str("x"), num("1"), &types.AttributeValueMemberL{Value: []types.AttributeValue{}}}},
		"m":    &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"k": str("v"), "deep": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"n": num("3")}}}},
		"es":   str(""),
	}
	s.put(t, table, item)
	got := s.get(t, table, key("all-types", ""))
	if !reflect.DeepEqual(normalize(got), normalize(item)) {
		t.Errorf("GetItem = %v, want %v", normalize(got), normalize(item))
	}
	// Projection of nested paths and list elements.
	out, err := s.c.GetItem(s.ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: key("all-types", ""),
		ProjectionExpression: aws.String("m.deep.n, l[1], #s"), ExpressionAttributeNames: map[string]string{"#s": "s"}})
	if err != nil {
		t.Fatalf("GetItem(projection): %v", err)
	}
	want := map[string]types.AttributeValue{
		"m": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"deep": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"n": num("3")}}}},
		"l": &types.AttributeValueMemberL{Value: []types.AttributeValue{num("1")}},
		"s": str("héllo"),
	}
	if !reflect.DeepEqual(normalize(out.Item), normalize(want)) {
		t.Errorf("GetItem(projection) = %v, want %v", normalize(out.Item), normalize(want))
	}
}

// normalize makes an item comparable: sets sorted, values as plain Go.
func normalize(item map[string]types.AttributeValue) map[string]any {
	out := map[string]any{}
	for k, v := range item {
		out[k] = plain(v)
	}
	return out
}

func plain(v types.AttributeValue) any {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return "S:" + v.Value
	case *types.AttributeValueMemberN:
		return "N:" + v.Value
	case *types.AttributeValueMemberB:
		return fmt.Sprintf("B:%x", v.Value)
	case *types.AttributeValueMemberBOOL:
		return v.Value
	case *types.AttributeValueMemberNULL:
		return nil
	case *types.AttributeValueMemberSS:
		s := append([]string(nil), v.Value...)
		sort.Strings(s)
		return "SS:" + strings.Join(s, ",")
	case *types.AttributeValueMemberNS:
		s := append([]string(nil), v.Value...)
		sort.Strings(s)
		return "NS:" + strings.Join(s, ",")
	case *types.AttributeValueMemberBS:
		var s []string
		for _, b := range v.Value {
			s = append(s, fmt.Sprintf("%x", b))
		}
		sort.Strings(s)
		return "BS:" + strings.Join(s, ",")
	case *types.AttributeValueMemberL:
		l := []any{}
		for _, e := range v.Value {
			l = append(l, plain(e))
		}
		return l
	case *types.AttributeValueMemberM:
		return normalize(v.Value)
	}
	return fmt.Sprintf("%T", v)
}

func (s *suite) testNumbers(t *testing.T) {
	table := s.table(t, false)
	big := "12345678901234567890123456789012345678"
	s.put(t, table, map[string]types.AttributeValue{"pk": str("n"), "canon": num("0001.500"), "exp": num("1.5e3"), "big": num(big), "ten": num("10"), "tiny": num("0.1")})
	got := s.get(t, table, key("n", ""))
	for attr, want := range map[string]string{"canon": "1.5", "exp": "1500", "big": big, "ten": "10"} {
		if n, ok := got[attr].(*types.AttributeValueMemberN); !ok || n.Value != want {
			t.Errorf("%s = %v, want N %s", attr, got[attr], want)
		}
	}
	// Numbers compare as decimals: 10 > 9, though "10" < "9" as strings.
	_, err := s.c.PutItem(s.ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: got,
		ConditionExpression: aws.String("ten > :nine AND big > :almost"), ExpressionAttributeValues: map[string]types.AttributeValue{
			":nine": num("9"), ":almost": num("12345678901234567890123456789012345677")}})
	if err != nil {
		t.Errorf("PutItem(ten > 9 AND big > big-1) = %v, want success", err)
	}
	// Exact decimal arithmetic: 0.1 + 0.2 is 0.3, and 38 digits survive +1.
	out, err := s.c.UpdateItem(s.ctx, &dynamodb.UpdateItemInput{TableName: aws.String(table), Key: key("n", ""),
		UpdateExpression:          aws.String("SET tiny = tiny + :two, big = big - :one ADD ten :one"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":two": num("0.2"), ":one": num("1")},
		ReturnValues:              types.ReturnValueUpdatedNew})
	if err != nil {
		t.Fatalf("UpdateItem(arithmetic): %v", err)
	}
	for attr, want := range map[string]string{"tiny": "0.3", "big": "12345678901234567890123456789012345677", "ten": "11"} {
		if n, ok := out.Attributes[attr].(*types.AttributeValueMemberN); !ok || n.Value != want {
			t.Errorf("after update %s = %v, want N %s", attr, out.Attributes[attr], want)
		}
	}
	for _, bad := range []string{"123456789012345678901234567890123456789", "1e126", "1e-131", "abc"} {
		_, err := s.c.PutItem(s.ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: map[string]types.AttributeValue{"pk": str("bad"), "n": num(bad)}})
		if code(err) != "ValidationException" {
			t.Errorf("PutItem(N %s) error = %v, want ValidationException", bad, err)
		}
	}
}

func (s *suite) testIdempotentPut(t *testing.T) {
	table := s.table(t, true)
	item := map[string]types.AttributeValue{"pk": str("evt"), "sk": str("e-1"), "v": str("first")}
	in := &dynamodb.PutItemInput{TableName: aws.String(table), Item: item, ConditionExpression: aws.String("attribute_not_exists(pk)")}
	if _, err := s.c.PutItem(s.ctx, in); err != nil {
		t.Fatalf("first conditional PutItem: %v", err)
	}
	item["v"] = str("second")
	_, err := s.c.PutItem(s.ctx, in)
	var ccf *types.ConditionalCheckFailedException
	if !errors.As(err, &ccf) || message(err) != "The conditional request failed" {
		t.Fatalf("second conditional PutItem error = %v, want ConditionalCheckFailedException: The conditional request failed", err)
	}
	if got := s.get(t, table, key("evt", "e-1")); plain(got["v"]) != "S:first" {
		t.Errorf("after failed put v = %v, want first", got["v"])
	}
}

func (s *suite) testConditions(t *testing.T) {
	table := s.table(t, false)
	item := map[string]types.AttributeValue{
		"pk":     str("c"),
		"status": str("IN_PROGRESS"),
		"s":      str("service-deployment/abc"),
		"n":      num("5"),
		"ss":     &types.AttributeValueMemberSS{Value: []string{"red", "blue"}},
		"l":      &types.AttributeValueMemberL{Value: []types.AttributeValue{str("x"), num("2"), str("z")}},
		"m":      &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"k": str("v")}},
		"f":      &types.AttributeValueMemberBOOL{Value: false},
	}
	s.put(t, table, item)
	vals := map[string]types.AttributeValue{
		":S": str("S"), ":SS": str("SS"), ":pre": str("service-"), ":red": str("red"), ":sub": str("deployment"),
		":x": str("x"), ":three": num("3"), ":lo": num("1"), ":hi": num("5"), ":five": num("5"), ":six": num("6"),
		":v": str("v"), ":ip": str("IN_PROGRESS"), ":ok": str("SUCCESSFUL"), ":fivestr": str("5"), ":false": &types.AttributeValueMemberBOOL{Value: false},
	}
	tests := []struct {
		cond string
		want bool
	}{
		{"attribute_exists(pk)", true},
		{"attribute_not_exists(pk)", false},
		{"attribute_not_exists(nope)", true},
		{"attribute_type(s, :S)", true},
		{"attribute_type(ss, :S)", false},
		{"attribute_type(ss, :SS)", true},
		{"begins_with(s, :pre)", true},
		{"begins_with(s, :sub)", false},
		{"contains(s, :sub)", true},
		{"contains(ss, :red)", true},
		{"contains(l, :x)", true},
		{"contains(ss, :x)", false},
		{"size(l) = :three", true},
		{"size(s) > :three", true},
		{"n BETWEEN :lo AND :hi", true},
		{"n BETWEEN :lo AND :three", false},
		{"n IN (:three, :five)", true},
		{"n IN (:three, :six)", false},
		{"n = :fivestr", false},
		{"n <> :fivestr", true},
		{"nope <> :five", true},
		{"nope = :five", false},
		{"n < :fivestr", false},
		{"m.k = :v", true},
		{"l[0] = :x", true},
		{"l[9] = :x", false},
		{"#st = :ip", true},
		{"NOT #st = :ok", true},
		{"#st = :ok OR (n >= :five AND n <= :five)", true},
		{"#st = :ok OR n > :five AND n < :six", false},
		{"(#st = :ok OR n > :lo) AND NOT attribute_exists(nope)", true},
		{"f = :false", true},
	}
	for _, tt := range tests {
		t.Run(tt.cond, func(t *testing.T) {
			in := &dynamodb.PutItemInput{TableName: aws.String(table), Item: item, ConditionExpression: aws.String(tt.cond)}
			// Only the placeholders the condition uses (unused ones are an error).
			in.ExpressionAttributeValues = usedValues(tt.cond, vals)
			if len(in.ExpressionAttributeValues) == 0 {
				in.ExpressionAttributeValues = nil
			}
			if strings.Contains(tt.cond, "#st") {
				in.ExpressionAttributeNames = map[string]string{"#st": "status"}
			}
			_, err := s.c.PutItem(s.ctx, in)
			var ccf *types.ConditionalCheckFailedException
			switch {
			case tt.want && err != nil:
				t.Errorf("condition %q: error %v, want it to hold", tt.cond, err)
			case !tt.want && !errors.As(err, &ccf):
				t.Errorf("condition %q: error %v, want ConditionalCheckFailedException", tt.cond, err)
			}
		})
	}
}

// usedValues picks the placeholders that occur in expr as whole tokens.
func usedValues(expr string, vals map[string]types.AttributeValue) map[string]types.AttributeValue {
	out := map[string]types.AttributeValue{}
	for k, v := range vals {
		for i := 0; ; {
			j := strings.Index(expr[i:], k)
			if j < 0 {
				break
			}
			end := i + j + len(k)
			if end == len(expr) || !isWordChar(expr[end]) {
				out[k] = v
				break
			}
			i = end
		}
	}
	return out
}

func isWordChar(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
}

func (s *suite) update(t *testing.T, table string, k map[string]types.AttributeValue, expr string, vals map[string]types.AttributeValue, names map[string]string) (map[string]types.AttributeValue, error) {
	t.Helper()
	in := &dynamodb.UpdateItemInput{TableName: aws.String(table), Key: k, UpdateExpression: aws.String(expr), ReturnValues: types.ReturnValueAllNew, ExpressionAttributeNames: names}
	if len(vals) > 0 {
		in.ExpressionAttributeValues = vals
	}
	out, err := s.c.UpdateItem(s.ctx, in)
	if err != nil {
		return nil, err
	}
	return out.Attributes, nil
}

func (s *suite) testUpdates(t *testing.T) {
	table := s.table(t, false)
	k := key("u", "")
	// UpdateItem creates a missing item.
	got, err := s.update(t, table, k, "SET created = if_not_exists(created, :now), hist = list_append(if_not_exists(hist, :empty), :h1), cnt = :zero",
		map[string]types.AttributeValue{":now": str("t0"), ":empty": &types.AttributeValueMemberL{Value: []types.AttributeValue{}}, ":h1": &types.AttributeValueMemberL{Value: []types.AttributeValue{str("a")}}, ":zero": num("0")}, nil)
	if err != nil {
		t.Fatalf("UpdateItem(create): %v", err)
	}
	want := map[string]any{"pk": "S:u", "created": "S:t0", "hist": []any{"S:a"}, "cnt": "N:0"}
	if !reflect.DeepEqual(normalize(got), want) {
		t.Errorf("after create = %v, want %v", normalize(got), want)
	}
	// if_not_exists keeps the first value; list_append appends; arithmetic.
	got, err = s.update(t, table, k, "SET created = if_not_exists(created, :later), hist = list_append(hist, :h2), cnt = cnt + :one, m = :m",
		map[string]types.AttributeValue{":later": str("t1"), ":h2": &types.AttributeValueMemberL{Value: []types.AttributeValue{str("b")}}, ":one": num("1"),
			":m": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"a": num("1")}}}, nil)
	if err != nil {
		t.Fatalf("UpdateItem(second): %v", err)
	}
	want = map[string]any{"pk": "S:u", "created": "S:t0", "hist": []any{"S:a", "S:b"}, "cnt": "N:1", "m": map[string]any{"a": "N:1"}}
	if !reflect.DeepEqual(normalize(got), want) {
		t.Errorf("after second = %v, want %v", normalize(got), want)
	}
	// Nested SET, REMOVE of an attribute and a list element, ADD to a
	// number and a set, DELETE from a set.
	got, err = s.update(t, table, k, "SET m.b = :two, hist[5] = :c REMOVE created, hist[0] ADD cnt :five, tags :ab DELETE gone :x",
		map[string]types.AttributeValue{":two": num("2"), ":c": str("c"), ":five": num("5"), ":ab": &types.AttributeValueMemberSS{Value: []string{"a", "b"}}, ":x": &types.AttributeValueMemberSS{Value: []string{"x"}}}, nil)
	if err != nil {
		t.Fatalf("UpdateItem(third): %v", err)
	}
	want = map[string]any{"pk": "S:u", "hist": []any{"S:b", "S:c"}, "cnt": "N:6", "m": map[string]any{"a": "N:1", "b": "N:2"}, "tags": "SS:a,b"}
	if !reflect.DeepEqual(normalize(got), want) {
		t.Errorf("after third = %v, want %v", normalize(got), want)
	}
	got, err = s.update(t, table, k, "DELETE tags :a ADD tags :c", nil, nil)
	if err == nil {
		t.Errorf("UpdateItem with undefined placeholders = %v, want ValidationException", got)
	}
	got, err = s.update(t, table, k, "DELETE tags :ab", map[string]types.AttributeValue{":ab": &types.AttributeValueMemberSS{Value: []string{"a", "b"}}}, nil)
	if err != nil {
		t.Fatalf("UpdateItem(delete all): %v", err)
	}
	if _, ok := got["tags"]; ok {
		t.Errorf("DELETE of every element left tags = %v, want the attribute removed", got["tags"])
	}
	// Runtime errors: arithmetic on a string, a path under a missing map.
	for _, tc := range []struct{ expr, msg string }{
		{"SET pk2 = hist + :one", "An operand in the update expression has an incorrect data type"},
		{"SET nomap.a = :one", "The document path provided in the update expression is invalid for update"},
		{"SET x = nope + :one", "The provided expression refers to an attribute that does not exist in the item"},
	} {
		_, err := s.update(t, table, k, tc.expr, map[string]types.AttributeValue{":one": num("1")}, nil)
		if code(err) != "ValidationException" || message(err) != tc.msg {
			t.Errorf("UpdateItem(%q) error = %v, want ValidationException: %s", tc.expr, err, tc.msg)
		}
	}
}

func (s *suite) testReturnValues(t *testing.T) {
	table := s.table(t, false)
	k := key("r", "")
	s.put(t, table, map[string]types.AttributeValue{"pk": str("r"), "a": num("1"), "b": str("keep")})
	one := map[string]types.AttributeValue{":v": num("2")}
	for _, tc := range []struct {
		rv   types.ReturnValue
		want map[string]any
	}{
		{types.ReturnValueAllOld, map[string]any{"pk": "S:r", "a": "N:1", "b": "S:keep"}},
		{types.ReturnValueUpdatedOld, map[string]any{"a": "N:3"}},
		{types.ReturnValueUpdatedNew, map[string]any{"a": "N:7"}},
		{types.ReturnValueAllNew, map[string]any{"pk": "S:r", "a": "N:9", "b": "S:keep"}},
	} {
		out, err := s.c.UpdateItem(s.ctx, &dynamodb.UpdateItemInput{TableName: aws.String(table), Key: k, UpdateExpression: aws.String("SET a = a + :v"), ExpressionAttributeValues: one, ReturnValues: tc.rv})
		if err != nil {
			t.Fatalf("UpdateItem(%s): %v", tc.rv, err)
		}
		if !reflect.DeepEqual(normalize(out.Attributes), tc.want) {
			t.Errorf("UpdateItem(%s).Attributes = %v, want %v", tc.rv, normalize(out.Attributes), tc.want)
		}
	}
	out, err := s.c.PutItem(s.ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: map[string]types.AttributeValue{"pk": str("r")}, ReturnValues: types.ReturnValueAllOld})
	if err != nil || plain(out.Attributes["a"]) != "N:9" {
		t.Errorf("PutItem(ALL_OLD) = %v, %v, want the old item", out, err)
	}
	del, err := s.c.DeleteItem(s.ctx, &dynamodb.DeleteItemInput{TableName: aws.String(table), Key: k, ReturnValues: types.ReturnValueAllOld})
	if err != nil || plain(del.Attributes["pk"]) != "S:r" || len(del.Attributes) != 1 {
		t.Errorf("DeleteItem(ALL_OLD) = %v, %v, want {pk: r}", del, err)
	}
	_, err = s.c.PutItem(s.ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: map[string]types.AttributeValue{"pk": str("r")}, ReturnValues: types.ReturnValueAllNew})
	if code(err) != "ValidationException" || message(err) != "ReturnValues can only be ALL_OLD or NONE" {
		t.Errorf("PutItem(ALL_NEW) error = %v, want ValidationException: ReturnValues can only be ALL_OLD or NONE", err)
	}
}

// testMonotonic applies status transitions out of order with a guard on a
// sequence number, as the deployment ledger does: duplicates and stale
// updates are refused, and the record converges on the newest.
func (s *suite) testMonotonic(t *testing.T) {
	table := s.table(t, true)
	k := key("svc#web", "dep#1")
	apply := func(seq, status string) error {
		_, err := s.c.UpdateItem(s.ctx, &dynamodb.UpdateItemInput{
			TableName: aws.String(table), Key: k,
			UpdateExpression:          aws.String("SET #st = :st, seq = :seq, transitions = list_append(if_not_exists(transitions, :none), :t)"),
			ConditionExpression:       aws.String("attribute_not_exists(seq) OR seq < :seq"),
			ExpressionAttributeNames:  map[string]string{"#st": "status"},
			ExpressionAttributeValues: map[string]types.AttributeValue{":st": str(status), ":seq": num(seq), ":none": &types.AttributeValueMemberL{Value: []types.AttributeValue{}}, ":t": &types.AttributeValueMemberL{Value: []types.AttributeValue{str(status)}}},
		})
		return err
	}
	steps := []struct {
		seq, status string
		applied     bool
	}{
		{"2", "IN_PROGRESS", true},
		{"1", "PENDING", false},
		{"10", "SUCCESSFUL", true},
		{"2", "IN_PROGRESS", false},
		{"9", "IN_PROGRESS", false},
	}
	for _, st := range steps {
		err := apply(st.seq, st.status)
		var ccf *types.ConditionalCheckFailedException
		if st.applied && err != nil || !st.applied && !errors.As(err, &ccf) {
			t.Errorf("apply(seq %s, %s) error = %v, want applied=%v", st.seq, st.status, err, st.applied)
		}
	}
	got := s.get(t, table, k)
	if plain(got["status"]) != "S:SUCCESSFUL" || plain(got["seq"]) != "N:10" || !reflect.DeepEqual(plain(got["transitions"]), []any{"S:IN_PROGRESS", "S:SUCCESSFUL"}) {
		t.Errorf("record = %v, want SUCCESSFUL at seq 10 with two transitions", normalize(got))
	}
}

func (s *suite) testQuery(t *testing.T) {
	table := s.table(t, true)
	for i := 1; i <= 7; i++ {
		s.put(t, table, map[string]types.AttributeValue{"pk": str("svc#web"), "sk": str(fmt.Sprintf("dep#2026-01-0%dT00:00:00Z", i)), "n": num(fmt.Sprint(i)), "odd": &types.AttributeValueMemberBOOL{Value: i%2 == 1}})
	}
	s.put(t, table, map[string]types.AttributeValue{"pk": str("svc#web"), "sk": str("meta")})
	s.put(t, table, map[string]types.AttributeValue{"pk": str("svc#api"), "sk": str("dep#2026-01-09T00:00:00Z")})
	query := func(in *dynamodb.QueryInput) ([]string, *dynamodb.QueryOutput) {
		t.Helper()
		in.TableName = aws.String(table)
		out, err := s.c.Query(s.ctx, in)
		if err != nil {
			t.Fatalf("Query(%s): %v", aws.ToString(in.KeyConditionExpression), err)
		}
		var sks []string
		for _, it := range out.Items {
			if v, ok := it["sk"].(*types.AttributeValueMemberS); ok && strings.HasPrefix(v.Value, "dep#2026-01-0") {
				sks = append(sks, strings.TrimPrefix(v.Value, "dep#2026-01-0")[:1])
			} else {
				sks = append(sks, "?")
			}
		}
		return sks, out
	}
	pfx := map[string]types.AttributeValue{":pk": str("svc#web"), ":p": str("dep#")}
	// Newest first, paged three at a time.
	var all []string
	var start map[string]types.AttributeValue
	pages := 0
	for {
		sks, out := query(&dynamodb.QueryInput{KeyConditionExpression: aws.String("pk = :pk AND begins_with(sk, :p)"), ExpressionAttributeValues: pfx,
			ScanIndexForward: aws.Bool(false), Limit: aws.Int32(3), ExclusiveStartKey: start})
		all = append(all, sks...)
		pages++
		if out.LastEvaluatedKey == nil || pages > 5 {
			break
		}
		if plain(out.LastEvaluatedKey["pk"]) != "S:svc#web" || len(out.LastEvaluatedKey) != 2 {
			t.Errorf("LastEvaluatedKey = %v, want the table key of the last item", normalize(out.LastEvaluatedKey))
		}
		start = out.LastEvaluatedKey
	}
	if strings.Join(all, "") != "7654321" || pages != 3 {
		t.Errorf("newest-first pages = %v in %d pages, want 7654321 in 3", all, pages)
	}
	for _, tc := range []struct {
		cond string
		vals map[string]types.AttributeValue
		want string
	}{
		{"pk = :pk AND sk BETWEEN :a AND :b", map[string]types.AttributeValue{":pk": str("svc#web"), ":a": str("dep#2026-01-02"), ":b": str("dep#2026-01-05")}, "234"},
		{"pk = :pk AND sk < :a", map[string]types.AttributeValue{":pk": str("svc#web"), ":a": str("dep#2026-01-03")}, "12"},
		{"pk = :pk AND sk >= :a", map[string]types.AttributeValue{":pk": str("svc#web"), ":a": str("dep#2026-01-06")}, "67?"},
		{"sk = :a AND pk = :pk", map[string]types.AttributeValue{":pk": str("svc#web"), ":a": str("meta")}, "?"},
		{":a > sk AND pk = :pk", map[string]types.AttributeValue{":pk": str("svc#web"), ":a": str("dep#2026-01-02")}, "1"},
		{"pk = :pk", map[string]types.AttributeValue{":pk": str("svc#api")}, "9"},
	} {
		sks, _ := query(&dynamodb.QueryInput{KeyConditionExpression: aws.String(tc.cond), ExpressionAttributeValues: tc.vals})
		if strings.Join(sks, "") != tc.want {
			t.Errorf("Query(%s) = %v, want %s", tc.cond, sks, tc.want)
		}
	}
	// Limit counts items evaluated before the filter.
	_, out := query(&dynamodb.QueryInput{KeyConditionExpression: aws.String("pk = :pk AND begins_with(sk, :p)"), FilterExpression: aws.String("odd = :t"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str("svc#web"), ":p": str("dep#"), ":t": &types.AttributeValueMemberBOOL{Value: true}}, Limit: aws.Int32(4),
		ProjectionExpression: aws.String("sk, n")})
	if out.Count != 2 || out.ScannedCount != 4 || out.LastEvaluatedKey == nil || len(out.Items[0]) != 2 {
		t.Errorf("filtered query = Count %d ScannedCount %d LEK %v items %v, want 2, 4, a key, items of sk and n", out.Count, out.ScannedCount, out.LastEvaluatedKey, out.Items)
	}
	cnt, err := s.c.Query(s.ctx, &dynamodb.QueryInput{TableName: aws.String(table), KeyConditionExpression: aws.String("pk = :pk"), ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str("svc#web")}, Select: types.SelectCount})
	if err != nil || cnt.Count != 8 || len(cnt.Items) != 0 {
		t.Errorf("Query(COUNT) = %+v, %v, want Count 8 and no items", cnt, err)
	}
}

func (s *suite) testScan(t *testing.T) {
	table := s.table(t, true)
	for i := range 10 {
		s.put(t, table, map[string]types.AttributeValue{"pk": str(fmt.Sprintf("p%d", i%3)), "sk": str(fmt.Sprintf("s%02d", i)), "n": num(fmt.Sprint(i))})
	}
	seen := map[string]bool{}
	var start map[string]types.AttributeValue
	matched := int32(0)
	for range 20 {
		out, err := s.c.Scan(s.ctx, &dynamodb.ScanInput{TableName: aws.String(table), Limit: aws.Int32(3), ExclusiveStartKey: start,
			FilterExpression: aws.String("n >= :five"), ExpressionAttributeValues: map[string]types.AttributeValue{":five": num("5")}})
		if err != nil {
			t.Fatalf("Scan: %v", err)
		}
		matched += out.Count
		for _, it := range out.Items {
			seen[plain(it["sk"]).(string)] = true
		}
		if out.LastEvaluatedKey == nil {
			break
		}
		start = out.LastEvaluatedKey
	}
	if matched != 5 || len(seen) != 5 {
		t.Errorf("paged filtered scan matched %d (%v), want 5 items", matched, seen)
	}
}

func (s *suite) testBatchWrite(t *testing.T) {
	table := s.table(t, true)
	var reqs []types.WriteRequest
	for i := range 25 {
		reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: key("b", fmt.Sprintf("%02d", i))}})
	}
	out, err := s.c.BatchWriteItem(s.ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{table: reqs}})
	if err != nil || len(out.UnprocessedItems) != 0 {
		t.Fatalf("BatchWriteItem(25 puts) = %v, %v", out, err)
	}
	reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: key("b", "25")}})
	if _, err := s.c.BatchWriteItem(s.ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{table: reqs}}); code(err) != "ValidationException" {
		t.Errorf("BatchWriteItem(26) error = %v, want ValidationException", err)
	}
	dup := []types.WriteRequest{{PutRequest: &types.PutRequest{Item: key("b", "x")}}, {DeleteRequest: &types.DeleteRequest{Key: key("b", "x")}}}
	_, err = s.c.BatchWriteItem(s.ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{table: dup}})
	if code(err) != "ValidationException" || message(err) != "Provided list of item keys contains duplicates" {
		t.Errorf("BatchWriteItem(duplicate keys) error = %v, want ValidationException: Provided list of item keys contains duplicates", err)
	}
	del := []types.WriteRequest{{DeleteRequest: &types.DeleteRequest{Key: key("b", "00")}}, {DeleteRequest: &types.DeleteRequest{Key: key("b", "01")}}}
	if _, err := s.c.BatchWriteItem(s.ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{table: del}}); err != nil {
		t.Fatalf("BatchWriteItem(deletes): %v", err)
	}
	cnt, err := s.c.Scan(s.ctx, &dynamodb.ScanInput{TableName: aws.String(table), Select: types.SelectCount})
	if err != nil || cnt.Count != 23 {
		t.Errorf("Scan(COUNT) = %v, %v, want 23", cnt, err)
	}
}

func (s *suite) testErrors(t *testing.T) {
	table := s.table(t, true)
	s.put(t, table, map[string]types.AttributeValue{"pk": str("e"), "sk": str("1"), "status": str("x")})
	tb := aws.String(table)
	tests := []struct {
		name     string
		call     func() error
		wantCode string
		wantMsg  string // empty: only the code is compared
	}{
		{"reserved word", func() error {
			_, err := s.c.PutItem(s.ctx, &dynamodb.PutItemInput{TableName: tb, Item: key("e", "2"), ConditionExpression: aws.String("attribute_not_exists(status)")})
			return err
		}, "ValidationException", "Invalid ConditionExpression: Attribute name is a reserved keyword; reserved keyword: status"},
		{"undefined value", func() error {
			_, err := s.c.PutItem(s.ctx, &dynamodb.PutItemInput{TableName: tb, Item: key("e", "2"), ConditionExpression: aws.String("a = :nope"), ExpressionAttributeValues: map[string]types.AttributeValue{":x": str("1")}})
			return err
		}, "ValidationException", "Invalid ConditionExpression: An expression attribute value used in expression is not defined; attribute value: :nope"},
		{"undefined name", func() error {
			_, err := s.c.PutItem(s.ctx, &dynamodb.PutItemInput{TableName: tb, Item: key("e", "2"), ConditionExpression: aws.String("attribute_exists(#n)")})
			return err
		}, "ValidationException", "Invalid ConditionExpression: An expression attribute name used in the document path is not defined; attribute name: #n"},
		{"unused value", func() error {
			_, err := s.c.PutItem(s.ctx, &dynamodb.PutItemInput{TableName: tb, Item: key("e", "2"), ConditionExpression: aws.String("attribute_not_exists(pk)"), ExpressionAttributeValues: map[string]types.AttributeValue{":x": str("1")}})
			return err
		}, "ValidationException", "Value provided in ExpressionAttributeValues unused in expressions: keys: {:x}"},
		{"syntax error", func() error {
			_, err := s.c.PutItem(s.ctx, &dynamodb.PutItemInput{TableName: tb, Item: key("e", "2"), ConditionExpression: aws.String("a = = b")})
			return err
		}, "ValidationException", ""},
		{"unknown function", func() error {
			_, err := s.c.PutItem(s.ctx, &dynamodb.PutItemInput{TableName: tb, Item: key("e", "2"), ConditionExpression: aws.String("nope(a)")})
			return err
		}, "ValidationException", "Invalid ConditionExpression: Invalid function name; function: nope"},
		{"key mismatch", func() error {
			_, err := s.c.GetItem(s.ctx, &dynamodb.GetItemInput{TableName: tb, Key: key("e", "")})
			return err
		}, "ValidationException", "The provided key element does not match the schema"},
		{"missing key in item", func() error {
			_, err := s.c.PutItem(s.ctx, &dynamodb.PutItemInput{TableName: tb, Item: map[string]types.AttributeValue{"pk": str("e")}})
			return err
		}, "ValidationException", "One or more parameter values were invalid: Missing the key sk in the item"},
		{"key type mismatch", func() error {
			_, err := s.c.PutItem(s.ctx, &dynamodb.PutItemInput{TableName: tb, Item: map[string]types.AttributeValue{"pk": str("e"), "sk": num("1")}})
			return err
		}, "ValidationException", "One or more parameter values were invalid: Type mismatch for key sk expected: S actual: N"},
		{"update key attribute", func() error {
			_, err := s.c.UpdateItem(s.ctx, &dynamodb.UpdateItemInput{TableName: tb, Key: key("e", "1"), UpdateExpression: aws.String("SET sk = :v"), ExpressionAttributeValues: map[string]types.AttributeValue{":v": str("2")}})
			return err
		}, "ValidationException", "One or more parameter values were invalid: Cannot update attribute sk. This attribute is part of the key"},
		{"overlapping update paths", func() error {
			_, err := s.c.UpdateItem(s.ctx, &dynamodb.UpdateItemInput{TableName: tb, Key: key("e", "1"), UpdateExpression: aws.String("SET a = :v REMOVE a"), ExpressionAttributeValues: map[string]types.AttributeValue{":v": str("2")}})
			return err
		}, "ValidationException", "Invalid UpdateExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [a], path two: [a]"},
		{"query without hash", func() error {
			_, err := s.c.Query(s.ctx, &dynamodb.QueryInput{TableName: tb, KeyConditionExpression: aws.String("sk = :v"), ExpressionAttributeValues: map[string]types.AttributeValue{":v": str("2")}})
			return err
		}, "ValidationException", "Query condition missed key schema element: pk"},
		{"query hash not equal", func() error {
			_, err := s.c.Query(s.ctx, &dynamodb.QueryInput{TableName: tb, KeyConditionExpression: aws.String("pk > :v"), ExpressionAttributeValues: map[string]types.AttributeValue{":v": str("2")}})
			return err
		}, "ValidationException", "Query key condition not supported"},
		{"query with OR", func() error {
			_, err := s.c.Query(s.ctx, &dynamodb.QueryInput{TableName: tb, KeyConditionExpression: aws.String("pk = :v OR sk = :v"), ExpressionAttributeValues: map[string]types.AttributeValue{":v": str("2")}})
			return err
		}, "ValidationException", "Invalid operator used in KeyConditionExpression: OR"},
		{"query key type", func() error {
			_, err := s.c.Query(s.ctx, &dynamodb.QueryInput{TableName: tb, KeyConditionExpression: aws.String("pk = :v"), ExpressionAttributeValues: map[string]types.AttributeValue{":v": num("2")}})
			return err
		}, "ValidationException", "One or more parameter values were invalid: Condition parameter type does not match schema type"},
		{"filter on key", func() error {
			_, err := s.c.Query(s.ctx, &dynamodb.QueryInput{TableName: tb, KeyConditionExpression: aws.String("pk = :v"), FilterExpression: aws.String("sk = :v"), ExpressionAttributeValues: map[string]types.AttributeValue{":v": str("e")}})
			return err
		}, "ValidationException", "Filter Expression can only contain non-primary key attributes: Primary key attribute: sk"},
		{"missing table", func() error {
			_, err := s.c.PutItem(s.ctx, &dynamodb.PutItemInput{TableName: aws.String("no-such-table"), Item: key("e", "1")})
			return err
		}, "ResourceNotFoundException", "Requested resource not found"},
		{"empty set", func() error {
			_, err := s.c.PutItem(s.ctx, &dynamodb.PutItemInput{TableName: tb, Item: map[string]types.AttributeValue{"pk": str("e"), "sk": str("3"), "ss": &types.AttributeValueMemberSS{Value: []string{}}}})
			return err
		}, "ValidationException", "One or more parameter values were invalid: An string set  may not be empty"},
		{"empty string key", func() error {
			_, err := s.c.PutItem(s.ctx, &dynamodb.PutItemInput{TableName: tb, Item: map[string]types.AttributeValue{"pk": str("e"), "sk": str("")}})
			return err
		}, "ValidationException", "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value. Key: sk"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if code(err) != tt.wantCode || (tt.wantMsg != "" && message(err) != tt.wantMsg) {
				t.Errorf("error = %v, want %s: %s", err, tt.wantCode, tt.wantMsg)
			}
		})
	}
	// None of them changed the item.
	if got := s.get(t, table, key("e", "1")); len(got) != 3 {
		t.Errorf("item after the failed calls = %v, want it unchanged", normalize(got))
	}
}

func (s *suite) testTransactions(t *testing.T) {
	if s.tg.NoTransactions {
		t.Skipf("%s has no TransactWriteItems", s.tg.Name)
	}
	table := s.table(t, true)
	tb := aws.String(table)
	s.put(t, table, map[string]types.AttributeValue{"pk": str("t"), "sk": str("guard"), "v": num("1")})
	items := func(guard string) []types.TransactWriteItem {
		return []types.TransactWriteItem{
			{Put: &types.Put{TableName: tb, Item: map[string]types.AttributeValue{"pk": str("t"), "sk": str("a"), "v": str("new")}, ConditionExpression: aws.String("attribute_not_exists(pk)")}},
			{ConditionCheck: &types.ConditionCheck{TableName: tb, Key: key("t", "guard"), ConditionExpression: aws.String("v = :g"), ExpressionAttributeValues: map[string]types.AttributeValue{":g": num(guard)}}},
			{Update: &types.Update{TableName: tb, Key: key("t", "c"), UpdateExpression: aws.String("ADD n :one"), ExpressionAttributeValues: map[string]types.AttributeValue{":one": num("1")}}},
		}
	}
	_, err := s.c.TransactWriteItems(s.ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items("2")})
	var tce *types.TransactionCanceledException
	if !errors.As(err, &tce) {
		t.Fatalf("TransactWriteItems(failing guard) error = %v, want TransactionCanceledException", err)
	}
	var codes []string
	for _, r := range tce.CancellationReasons {
		codes = append(codes, aws.ToString(r.Code))
	}
	if strings.Join(codes, ",") != "None,ConditionalCheckFailed,None" {
		t.Errorf("CancellationReasons = %v, want None,ConditionalCheckFailed,None", codes)
	}
	if got := s.get(t, table, key("t", "a")); got != nil {
		t.Errorf("cancelled transaction wrote %v", normalize(got))
	}
	if _, err := s.c.TransactWriteItems(s.ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items("1"), ClientRequestToken: aws.String("tok-1")}); err != nil {
		t.Fatalf("TransactWriteItems: %v", err)
	}
	// The same token again is a no-op, not a failed condition.
	if _, err := s.c.TransactWriteItems(s.ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items("1"), ClientRequestToken: aws.String("tok-1")}); err != nil {
		t.Errorf("TransactWriteItems(repeated token) = %v, want success", err)
	}
	if got := s.get(t, table, key("t", "c")); plain(got["n"]) != "N:1" {
		t.Errorf("counter after transaction and retry = %v, want 1", got["n"])
	}
	_, err = s.c.TransactWriteItems(s.ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items("1")[:1], ClientRequestToken: aws.String("tok-1")})
	var mismatch *types.IdempotentParameterMismatchException
	if !errors.As(err, &mismatch) {
		t.Errorf("TransactWriteItems(reused token, other request) error = %v, want IdempotentParameterMismatchException", err)
	}
	twice := []types.TransactWriteItem{
		{Put: &types.Put{TableName: tb, Item: key("t", "z")}},
		{Delete: &types.Delete{TableName: tb, Key: key("t", "z")}},
	}
	if _, err := s.c.TransactWriteItems(s.ctx, &dynamodb.TransactWriteItemsInput{TransactItems: twice}); code(err) != "ValidationException" {
		t.Errorf("TransactWriteItems(two ops on one item) error = %v, want ValidationException", err)
	}
}

func (s *suite) testBackups(t *testing.T) {
	if s.tg.NoBackups {
		t.Skipf("%s has no UpdateContinuousBackups", s.tg.Name)
	}
	table := s.table(t, true)
	out, err := s.c.UpdateContinuousBackups(s.ctx, &dynamodb.UpdateContinuousBackupsInput{TableName: aws.String(table),
		PointInTimeRecoverySpecification: &types.PointInTimeRecoverySpecification{PointInTimeRecoveryEnabled: aws.Bool(true)}})
	if err != nil {
		t.Fatalf("UpdateContinuousBackups: %v", err)
	}
	if out.ContinuousBackupsDescription.PointInTimeRecoveryDescription.PointInTimeRecoveryStatus != types.PointInTimeRecoveryStatusEnabled {
		t.Errorf("PITR status = %s, want ENABLED", out.ContinuousBackupsDescription.PointInTimeRecoveryDescription.PointInTimeRecoveryStatus)
	}
	d, err := s.c.DescribeContinuousBackups(s.ctx, &dynamodb.DescribeContinuousBackupsInput{TableName: aws.String(table)})
	if err != nil || d.ContinuousBackupsDescription.PointInTimeRecoveryDescription.PointInTimeRecoveryStatus != types.PointInTimeRecoveryStatusEnabled {
		t.Errorf("DescribeContinuousBackups = %+v, %v, want ENABLED", d, err)
	}
	_, err = s.c.DescribeContinuousBackups(s.ctx, &dynamodb.DescribeContinuousBackupsInput{TableName: aws.String("no-such-table")})
	var tnf *types.TableNotFoundException
	if !errors.As(err, &tnf) {
		t.Errorf("DescribeContinuousBackups(missing) error = %v, want TableNotFoundException", err)
	}
}

func (s *suite) testReturnOnFailure(t *testing.T) {
	if s.tg.NoReturnOnFailure {
		t.Skipf("%s ignores ReturnValuesOnConditionCheckFailure", s.tg.Name)
	}
	table := s.table(t, true)
	s.put(t, table, map[string]types.AttributeValue{"pk": str("f"), "sk": str("1"), "v": str("old")})
	_, err := s.c.PutItem(s.ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: key("f", "1"), ConditionExpression: aws.String("attribute_not_exists(pk)"),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld})
	var ccf *types.ConditionalCheckFailedException
	if !errors.As(err, &ccf) || plain(ccf.Item["v"]) != "S:old" {
		t.Errorf("PutItem error = %v (item %v), want ConditionalCheckFailedException carrying the old item", err, ccf)
	}
}

func (s *suite) testGSI(t *testing.T) {
	name := fmt.Sprintf("contract-gsi-%d-%d", time.Now().UnixNano()%1e6, tableSeq.Add(1))
	sattr := func(n string) types.AttributeDefinition {
		return types.AttributeDefinition{AttributeName: aws.String(n), AttributeType: types.ScalarAttributeTypeS}
	}
	_, err := s.c.CreateTable(s.ctx, &dynamodb.CreateTableInput{
		TableName: aws.String(name), BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{sattr("pk"), sattr("sk"), sattr("svc"), sattr("at")},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}, {AttributeName: aws.String("sk"), KeyType: types.KeyTypeRange}},
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{IndexName: aws.String("by-service"),
			KeySchema:  []types.KeySchemaElement{{AttributeName: aws.String("svc"), KeyType: types.KeyTypeHash}, {AttributeName: aws.String("at"), KeyType: types.KeyTypeRange}},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeKeysOnly}}},
	})
	if err != nil {
		t.Fatalf("CreateTable(GSI): %v", err)
	}
	w := dynamodb.NewTableExistsWaiter(s.c, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay = 10 * time.Millisecond
		o.MaxDelay = 100 * time.Millisecond
	})
	if err := w.Wait(s.ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)}, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = s.c.DeleteTable(s.ctx, &dynamodb.DeleteTableInput{TableName: aws.String(name)}) })
	for i, at := range []string{"2026-01-02", "2026-01-03", "2026-01-01"} {
		s.put(t, name, map[string]types.AttributeValue{"pk": str(fmt.Sprintf("dep#%d", i)), "sk": str("meta"), "svc": str("web"), "at": str(at), "extra": str("x")})
	}
	s.put(t, name, map[string]types.AttributeValue{"pk": str("dep#9"), "sk": str("meta")}) // not in the index
	out, err := s.c.Query(s.ctx, &dynamodb.QueryInput{TableName: aws.String(name), IndexName: aws.String("by-service"),
		KeyConditionExpression: aws.String("svc = :s"), ExpressionAttributeValues: map[string]types.AttributeValue{":s": str("web")}, ScanIndexForward: aws.Bool(false), Limit: aws.Int32(2)})
	if err != nil {
		t.Fatalf("Query(GSI): %v", err)
	}
	var ats []string
	for _, it := range out.Items {
		ats = append(ats, plain(it["at"]).(string))
		if _, ok := it["extra"]; ok {
			t.Errorf("KEYS_ONLY index returned a non-key attribute: %v", normalize(it))
		}
	}
	if strings.Join(ats, ",") != "S:2026-01-03,S:2026-01-02" || len(out.LastEvaluatedKey) != 4 {
		t.Errorf("Query(GSI newest first, limit 2) = %v, LEK %v; want 03,02 and a four-attribute key", ats, normalize(out.LastEvaluatedKey))
	}
	next, err := s.c.Query(s.ctx, &dynamodb.QueryInput{TableName: aws.String(name), IndexName: aws.String("by-service"), ExclusiveStartKey: out.LastEvaluatedKey,
		KeyConditionExpression: aws.String("svc = :s"), ExpressionAttributeValues: map[string]types.AttributeValue{":s": str("web")}, ScanIndexForward: aws.Bool(false)})
	if err != nil || len(next.Items) != 1 || plain(next.Items[0]["at"]) != "S:2026-01-01" {
		t.Errorf("Query(GSI page 2) = %+v, %v, want the oldest", next, err)
	}
	_, err = s.c.Query(s.ctx, &dynamodb.QueryInput{TableName: aws.String(name), IndexName: aws.String("nope"),
		KeyConditionExpression: aws.String("svc = :s"), ExpressionAttributeValues: map[string]types.AttributeValue{":s": str("web")}})
	if code(err) != "ValidationException" || message(err) != "The table does not have the specified index: nope" {
		t.Errorf("Query(missing index) error = %v", err)
	}
}
