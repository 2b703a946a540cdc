package dynamodb

import (
	"context"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/awsproto"
)

// exprIn is a request's expressions and placeholders.
type exprIn struct {
	names                                          map[string]string
	values                                         map[string]Value
	condition, update, keyCond, filter, projection *string
	// valueExprs names the request's expressions that can use values, in
	// DynamoDB's order, for "ExpressionAttributeValues can only be
	// specified when using expressions: … is null".
	valueExprs []string
}

// exprSet is a request's parsed expressions.
type exprSet struct {
	cond, filter, key      *cond
	update                 []updateAction
	proj                   []docPath
	filterPaths, condPaths []docPath
}

var (
	nameKeyRE  = regexp.MustCompile(`^#[0-9a-zA-Z_]+$`)
	valueKeyRE = regexp.MustCompile(`^:[0-9a-zA-Z_]+$`)
)

// prepare validates placeholders and parses every expression of a request,
// in the order and words DynamoDB uses.
func prepare(in exprIn) (*exprSet, error) {
	anyExpr := in.condition != nil || in.update != nil || in.keyCond != nil || in.filter != nil || in.projection != nil
	if in.names != nil && !anyExpr {
		return nil, validation("ExpressionAttributeNames can only be specified when using expressions")
	}
	valueExpr := in.condition != nil || in.update != nil || in.keyCond != nil || in.filter != nil
	if in.values != nil && !valueExpr && len(in.valueExprs) > 0 {
		verb := "is"
		if len(in.valueExprs) > 1 {
			verb = "are"
		}
		return nil, validation("ExpressionAttributeValues can only be specified when using expressions: %s %s null", strings.Join(in.valueExprs, " and "), verb)
	}
	if in.names != nil {
		if len(in.names) == 0 {
			return nil, validation("ExpressionAttributeNames must not be empty")
		}
		for _, k := range slices.Sorted(maps.Keys(in.names)) {
			if !nameKeyRE.MatchString(k) {
				return nil, validation("ExpressionAttributeNames contains invalid key: Syntax error; key: \"%s\"", k)
			}
		}
	}
	if in.values != nil {
		if len(in.values) == 0 {
			return nil, validation("ExpressionAttributeValues must not be empty")
		}
		for _, k := range slices.Sorted(maps.Keys(in.values)) {
			if !valueKeyRE.MatchString(k) {
				return nil, validation("ExpressionAttributeValues contains invalid key: Syntax error; key: \"%s\"", k)
			}
		}
		for _, k := range slices.Sorted(maps.Keys(in.values)) {
			v := in.values[k]
			if msg := v.validate(); msg != "" {
				return nil, validation("ExpressionAttributeValues contains invalid value: %s for key %s", msg, k)
			}
			in.values[k] = v
		}
	}
	ctx := newExprContext(in.names, in.values)
	s := &exprSet{}
	var msg string
	if in.update != nil {
		if s.update, msg = parseUpdate(ctx, *in.update); msg != "" {
			return nil, validation("Invalid UpdateExpression: %s", msg)
		}
	}
	if in.condition != nil {
		if s.cond, s.condPaths, msg = parseCondition(ctx, *in.condition); msg != "" {
			return nil, validation("Invalid ConditionExpression: %s", msg)
		}
	}
	if in.keyCond != nil {
		if s.key, _, msg = parseCondition(ctx, *in.keyCond); msg != "" {
			return nil, validation("Invalid KeyConditionExpression: %s", msg)
		}
	}
	if in.filter != nil {
		if s.filter, s.filterPaths, msg = parseCondition(ctx, *in.filter); msg != "" {
			return nil, validation("Invalid FilterExpression: %s", msg)
		}
	}
	if in.projection != nil {
		if s.proj, msg = parseProjection(ctx, *in.projection); msg != "" {
			return nil, validation("Invalid ProjectionExpression: %s", msg)
		}
	}
	var unusedNames, unusedValues []string
	for _, k := range slices.Sorted(maps.Keys(in.names)) {
		if !ctx.usedNames[k] {
			unusedNames = append(unusedNames, k)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(in.values)) {
		if !ctx.usedValues[k] {
			unusedValues = append(unusedValues, k)
		}
	}
	if len(unusedNames) > 0 {
		return nil, validation("Value provided in ExpressionAttributeNames unused in expressions: keys: {%s}", strings.Join(unusedNames, ", "))
	}
	if len(unusedValues) > 0 {
		return nil, validation("Value provided in ExpressionAttributeValues unused in expressions: keys: {%s}", strings.Join(unusedValues, ", "))
	}
	return s, nil
}

// legacy refuses the pre-expression parameters.
func legacy(params map[string]bool) error {
	for _, name := range []string{"AttributeUpdates", "Expected", "KeyConditions", "QueryFilter", "ScanFilter", "ConditionalOperator"} {
		if params[name] {
			return validation("localcloud does not support the legacy parameter %s; use ConditionExpression, UpdateExpression, KeyConditionExpression or FilterExpression", name)
		}
	}
	return nil
}

func projectionOf(paths []docPath, attrs []string) ([]docPath, error) {
	if len(attrs) == 0 {
		return paths, nil
	}
	if paths != nil {
		return nil, validation("Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {AttributesToGet} Expression parameters: {ProjectionExpression}")
	}
	if dup(attrs) {
		return nil, validation("One or more parameter values were invalid: Duplicate value in attribute name: %s", attrs[0])
	}
	for _, a := range attrs {
		paths = append(paths, docPath{{name: a}})
	}
	return paths, nil
}

// checkKey validates a Key against the table's schema.
func (t *table) checkKey(key Item) error {
	if msg := validateItem(key); msg != "" {
		return validation("%s", msg)
	}
	k := t.key
	if len(key) != len(k.names()) {
		return validation("The provided key element does not match the schema")
	}
	for _, n := range k.names() {
		v, ok := key[n]
		typ := k.hashT
		if n == k.rng {
			typ = k.rngT
		}
		if !ok || v.T != typ {
			return validation("The provided key element does not match the schema")
		}
		if err := checkKeyValue(n, v, n == k.hash); err != nil {
			return err
		}
	}
	return nil
}

func checkKeyValue(name string, v Value, hash bool) error {
	if (v.T == TypeS || v.T == TypeB) && v.S == "" {
		kind := "string"
		if v.T == TypeB {
			kind = "binary"
		}
		return validation("One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty %s value. Key: %s", kind, name)
	}
	if hash && len(v.S) > 2048 {
		return validation("One or more parameter values were invalid: Size of hashkey has exceeded the maximum size limit of2048 bytes")
	}
	if !hash && len(v.S) > 1024 {
		return validation("One or more parameter values were invalid: Aggregated size of all range keys has exceeded the size limit of 1024 bytes")
	}
	return nil
}

// checkItem validates an item to store against the table's key schema and
// its indexes' key types.
func (t *table) checkItem(it Item) error {
	k := t.key
	for _, n := range k.names() {
		typ := k.hashT
		if n == k.rng {
			typ = k.rngT
		}
		v, ok := it[n]
		if !ok {
			return validation("One or more parameter values were invalid: Missing the key %s in the item", n)
		}
		if v.T != typ {
			return validation("One or more parameter values were invalid: Type mismatch for key %s expected: %s actual: %s", n, typ, v.T)
		}
		if err := checkKeyValue(n, v, n == k.hash); err != nil {
			return err
		}
	}
	for _, ix := range t.indexes() {
		for _, n := range ix.key.names() {
			typ := ix.key.hashT
			if n == ix.key.rng {
				typ = ix.key.rngT
			}
			if v, ok := it[n]; ok && v.T != typ {
				return validation("One or more parameter values were invalid: Type mismatch for Index Key %s Expected: %s Actual: %s IndexName: %s", n, typ, v.T, ix.name)
			}
		}
	}
	if it.storageSize() > maxItemSize {
		return validation("Item size has exceeded the maximum allowed size")
	}
	return nil
}

func checkReturnValues(rv string, updateOp bool) error {
	all := []string{"ALL_NEW", "UPDATED_OLD", "ALL_OLD", "NONE", "UPDATED_NEW"}
	if rv == "" {
		return nil
	}
	if !slices.Contains(all, rv) {
		return awsproto.Validation(CodeValidation, enumViolation("returnValues", rv, all...))
	}
	if !updateOp && rv != "NONE" && rv != "ALL_OLD" {
		return validation("ReturnValues can only be ALL_OLD or NONE")
	}
	return nil
}

func checkOnFailure(rv string) error {
	if rv != "" && rv != "NONE" && rv != "ALL_OLD" {
		return awsproto.Validation(CodeValidation, enumViolation("returnValuesOnConditionCheckFailure", rv, "ALL_OLD", "NONE"))
	}
	return nil
}

// writeParams are the parameters PutItem, UpdateItem and DeleteItem share.
type writeParams struct {
	legacy       map[string]bool // the legacy parameters the request set
	table        string
	target       string // the required member: "item" (PutItem) or "key"
	hasTarget    bool
	returnValues string
	updateOp     bool // UpdateItem, which allows every ReturnValues
	onFailure    string
}

// check validates a single-item write before it parses its expressions,
// in the order DynamoDB reports the first problem.
func (p writeParams) check() error {
	if err := legacy(p.legacy); err != nil {
		return err
	}
	if err := checkTableName(p.table); err != nil {
		return err
	}
	if !p.hasTarget {
		return awsproto.Validation(CodeValidation, awsproto.Required(p.target))
	}
	if err := checkReturnValues(p.returnValues, p.updateOp); err != nil {
		return err
	}
	return checkOnFailure(p.onFailure)
}

// failedCondition is the error for a condition that did not hold.
func failedCondition(old Item, onFailure string) error {
	if onFailure == "ALL_OLD" && old != nil {
		return conditionalCheckFailed(old)
	}
	return conditionalCheckFailed(nil)
}

func consumed(t *table, mode string, units float64) *ConsumedCapacity {
	if mode != "TOTAL" && mode != "INDEXES" {
		return nil
	}
	return &ConsumedCapacity{TableName: t.meta.Name, CapacityUnits: units}
}

func writeUnits(items ...Item) float64 {
	n := 0
	for _, it := range items {
		n = max(n, it.storageSize())
	}
	return float64(max(1, (n+1023)/1024))
}

type itemOutput struct {
	Attributes       Item              `json:",omitempty"`
	ConsumedCapacity *ConsumedCapacity `json:",omitempty"`
}

// commitLocked stores a new version of one item (nil deletes it) and saves
// the table before the write is acknowledged.
func (b *Backend) commitLocked(t *table, key, it Item) error {
	old := t.get(key)
	t.put(key, it)
	if err := b.saveItemsLocked(t); err != nil {
		t.put(key, old)
		return err
	}
	return nil
}

// PutItem writes an item, for in-process callers and the API alike.
func (b *Backend) PutItem(ctx context.Context, in *PutItemInput) (any, error) {
	return b.putItem(ctx, in)
}

func (b *Backend) putItem(ctx context.Context, in *PutItemInput) (any, error) {
	if err := (writeParams{
		legacy: map[string]bool{"Expected": in.Expected != nil, "ConditionalOperator": in.ConditionalOperator != ""},
		table:  in.TableName, target: "item", hasTarget: in.Item != nil,
		returnValues: in.ReturnValues, onFailure: in.ReturnValuesOnConditionCheckFailure,
	}).check(); err != nil {
		return nil, err
	}
	if msg := validateItem(in.Item); msg != "" {
		return nil, validation("%s", msg)
	}
	ex, err := prepare(exprIn{names: in.ExpressionAttributeNames, values: in.ExpressionAttributeValues, condition: in.ConditionExpression, valueExprs: []string{"ConditionExpression"}})
	if err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	t, err := b.tableLocked(in.TableName)
	if err != nil {
		return nil, err
	}
	if err := t.checkItem(in.Item); err != nil {
		return nil, err
	}
	key := t.key.extract(in.Item)
	old := t.get(key)
	if ex.cond != nil && !evalCond(old, ex.cond) {
		return nil, failedCondition(old, in.ReturnValuesOnConditionCheckFailure)
	}
	if err := b.commitLocked(t, key, in.Item.clone()); err != nil {
		return nil, err
	}
	out := itemOutput{ConsumedCapacity: consumed(t, in.ReturnConsumedCapacity, writeUnits(in.Item, old))}
	if in.ReturnValues == "ALL_OLD" && old != nil {
		out.Attributes = old
	}
	return out, nil
}

// GetItem reads one item.
func (b *Backend) GetItem(ctx context.Context, in *GetItemInput) (any, error) {
	return b.getItem(ctx, in)
}

func (b *Backend) getItem(ctx context.Context, in *GetItemInput) (any, error) {
	if err := checkTableName(in.TableName); err != nil {
		return nil, err
	}
	if in.Key == nil {
		return nil, awsproto.Validation(CodeValidation, awsproto.Required("key"))
	}
	ex, err := prepare(exprIn{names: in.ExpressionAttributeNames, projection: in.ProjectionExpression})
	if err != nil {
		return nil, err
	}
	paths, err := projectionOf(ex.proj, in.AttributesToGet)
	if err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	t, err := b.tableLocked(in.TableName)
	if err != nil {
		return nil, err
	}
	if err := t.checkKey(in.Key); err != nil {
		return nil, err
	}
	it := t.get(in.Key)
	out := struct {
		Item             Item              `json:",omitempty"`
		ConsumedCapacity *ConsumedCapacity `json:",omitempty"`
	}{ConsumedCapacity: consumed(t, in.ReturnConsumedCapacity, readUnits(in.ConsistentRead, it))}
	if it != nil {
		if paths != nil {
			out.Item = project(it, paths)
		} else {
			out.Item = it.clone()
		}
	}
	return out, nil
}

func readUnits(consistent bool, items ...Item) float64 {
	n := 0
	for _, it := range items {
		n += it.storageSize()
	}
	u := float64(max(1, (n+4095)/4096))
	if !consistent {
		u /= 2
	}
	return u
}

// DeleteItem deletes one item.
func (b *Backend) DeleteItem(ctx context.Context, in *DeleteItemInput) (any, error) {
	return b.deleteItem(ctx, in)
}

func (b *Backend) deleteItem(ctx context.Context, in *DeleteItemInput) (any, error) {
	if err := (writeParams{
		legacy: map[string]bool{"Expected": in.Expected != nil, "ConditionalOperator": in.ConditionalOperator != ""},
		table:  in.TableName, target: "key", hasTarget: in.Key != nil,
		returnValues: in.ReturnValues, onFailure: in.ReturnValuesOnConditionCheckFailure,
	}).check(); err != nil {
		return nil, err
	}
	ex, err := prepare(exprIn{names: in.ExpressionAttributeNames, values: in.ExpressionAttributeValues, condition: in.ConditionExpression, valueExprs: []string{"ConditionExpression"}})
	if err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	t, err := b.tableLocked(in.TableName)
	if err != nil {
		return nil, err
	}
	if err := t.checkKey(in.Key); err != nil {
		return nil, err
	}
	old := t.get(in.Key)
	if ex.cond != nil && !evalCond(old, ex.cond) {
		return nil, failedCondition(old, in.ReturnValuesOnConditionCheckFailure)
	}
	if old != nil {
		if err := b.commitLocked(t, in.Key, nil); err != nil {
			return nil, err
		}
	}
	out := itemOutput{ConsumedCapacity: consumed(t, in.ReturnConsumedCapacity, writeUnits(old))}
	if in.ReturnValues == "ALL_OLD" && old != nil {
		out.Attributes = old
	}
	return out, nil
}

// checkUpdatePaths refuses updates of key attributes, as DynamoDB does.
func (t *table) checkUpdatePaths(actions []updateAction) error {
	for _, n := range t.key.names() {
		for _, a := range actions {
			if a.path[0].name == n {
				if len(a.path) > 1 {
					return validation("Key attributes must be scalars; list random access '[]' and map lookup '.' are not allowed: Key: %s", n)
				}
				return validation("One or more parameter values were invalid: Cannot update attribute %s. This attribute is part of the key", n)
			}
		}
	}
	for _, ix := range t.indexes() {
		for _, n := range ix.key.names() {
			typ := ix.key.hashT
			if n == ix.key.rng {
				typ = ix.key.rngT
			}
			for _, a := range actions {
				if a.path[0].name != n {
					continue
				}
				if len(a.path) > 1 {
					return validation("Key attributes must be scalars; list random access '[]' and map lookup '.' are not allowed: IndexKey: %s", n)
				}
				if a.kind == updSet {
					if st := a.value.staticType(); st != "" && st != typ {
						return validation("One or more parameter values were invalid: Type mismatch for Index Key %s Expected: %s Actual: %s IndexName: %s", n, typ, st, ix.name)
					}
				}
			}
		}
	}
	return nil
}

// planUpdate computes an UpdateItem's new item from the old one (nil when
// missing); the message is the runtime ValidationException's.
func (t *table) planUpdate(key, old Item, actions []updateAction) (Item, error) {
	base := old
	if base == nil {
		base = key.clone()
	}
	nu, msg := applyUpdate(base, actions)
	if msg != "" {
		return nil, validation("%s", msg)
	}
	for _, ix := range t.indexes() {
		for _, n := range ix.key.names() {
			typ := ix.key.hashT
			if n == ix.key.rng {
				typ = ix.key.rngT
			}
			if v, ok := nu[n]; ok && v.T != typ {
				return nil, validation("The update expression attempted to update the secondary index key to unsupported type")
			}
		}
	}
	if nu.storageSize() > maxItemSize {
		return nil, validation("Item size to update has exceeded the maximum allowed size")
	}
	return nu, nil
}

// UpdateItem updates (or creates) one item.
func (b *Backend) UpdateItem(ctx context.Context, in *UpdateItemInput) (any, error) {
	return b.updateItem(ctx, in)
}

func (b *Backend) updateItem(ctx context.Context, in *UpdateItemInput) (any, error) {
	if err := (writeParams{
		legacy: map[string]bool{"AttributeUpdates": in.AttributeUpdates != nil, "Expected": in.Expected != nil, "ConditionalOperator": in.ConditionalOperator != ""},
		table:  in.TableName, target: "key", hasTarget: in.Key != nil,
		returnValues: in.ReturnValues, updateOp: true, onFailure: in.ReturnValuesOnConditionCheckFailure,
	}).check(); err != nil {
		return nil, err
	}
	ex, err := prepare(exprIn{names: in.ExpressionAttributeNames, values: in.ExpressionAttributeValues, condition: in.ConditionExpression, update: in.UpdateExpression, valueExprs: []string{"UpdateExpression", "ConditionExpression"}})
	if err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	t, err := b.tableLocked(in.TableName)
	if err != nil {
		return nil, err
	}
	if err := t.checkKey(in.Key); err != nil {
		return nil, err
	}
	if err := t.checkUpdatePaths(ex.update); err != nil {
		return nil, err
	}
	old := t.get(in.Key)
	if ex.cond != nil && !evalCond(old, ex.cond) {
		return nil, failedCondition(old, in.ReturnValuesOnConditionCheckFailure)
	}
	nu, err := t.planUpdate(in.Key, old, ex.update)
	if err != nil {
		return nil, err
	}
	if err := b.commitLocked(t, in.Key, nu); err != nil {
		return nil, err
	}
	out := itemOutput{ConsumedCapacity: consumed(t, in.ReturnConsumedCapacity, writeUnits(nu, old))}
	var paths []docPath
	for _, a := range ex.update {
		paths = append(paths, a.path)
	}
	switch in.ReturnValues {
	case "ALL_OLD":
		out.Attributes = old
	case "ALL_NEW":
		out.Attributes = nu
	case "UPDATED_OLD":
		out.Attributes = project(old, paths)
	case "UPDATED_NEW":
		out.Attributes = project(nu, paths)
	}
	if len(out.Attributes) == 0 {
		out.Attributes = nil
	}
	return out, nil
}
