package dynamodb

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/awsproto"
)

// keyString identifies an item within a table, for duplicate checks.
func keyString(k keyDef, key Item) string {
	var sb strings.Builder
	for _, n := range k.names() {
		v := key[n]
		sb.WriteString(string(v.T))
		sb.WriteByte(':')
		fmt.Fprintf(&sb, "%q", v.S)
		sb.WriteByte('/')
	}
	return sb.String()
}

// BatchWriteItem puts and deletes up to 25 items across tables.
func (b *Backend) batchWriteItem(ctx context.Context, in *BatchWriteItemInput) (any, error) {
	if in.RequestItems == nil {
		return nil, awsproto.Validation(CodeValidation, awsproto.Required("requestItems"))
	}
	total := 0
	for _, name := range slices.Sorted(maps.Keys(in.RequestItems)) {
		reqs := in.RequestItems[name]
		if err := checkTableName(name); err != nil {
			return nil, err
		}
		if len(reqs) < 1 || len(reqs) > 25 {
			return nil, validation("1 validation error detected: Value at 'requestItems' failed to satisfy constraint: Map value must satisfy constraint: [Member must have length less than or equal to 25, Member must have length greater than or equal to 1]")
		}
		total += len(reqs)
		for _, r := range reqs {
			if (r.PutRequest == nil) == (r.DeleteRequest == nil) {
				return nil, validation("Supplied WriteRequest must have exactly one of PutRequest or DeleteRequest set")
			}
			if r.PutRequest != nil {
				if msg := validateItem(r.PutRequest.Item); msg != "" {
					return nil, validation("%s", msg)
				}
			} else if msg := validateItem(r.DeleteRequest.Key); msg != "" {
				return nil, validation("%s", msg)
			}
		}
	}
	if total > 25 {
		return nil, validation("Too many items requested for the BatchWriteItem call")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	type write struct {
		t        *table
		key, new Item
	}
	var writes []write
	for _, name := range slices.Sorted(maps.Keys(in.RequestItems)) {
		t, ok := b.tables[name]
		if !ok {
			return nil, tableNotFound()
		}
		seen := map[string]bool{}
		for _, r := range in.RequestItems[name] {
			var w write
			if r.PutRequest != nil {
				if err := t.checkItem(r.PutRequest.Item); err != nil {
					return nil, err
				}
				w = write{t, t.key.extract(r.PutRequest.Item), r.PutRequest.Item.clone()}
			} else {
				if err := t.checkKey(r.DeleteRequest.Key); err != nil {
					return nil, err
				}
				w = write{t, r.DeleteRequest.Key, nil}
			}
			ks := keyString(t.key, w.key)
			if seen[ks] {
				return nil, validation("Provided list of item keys contains duplicates")
			}
			seen[ks] = true
			writes = append(writes, w)
		}
	}
	if err := b.applyLocked(func(apply func(t *table, key, it Item)) {
		for _, w := range writes {
			apply(w.t, w.key, w.new)
		}
	}); err != nil {
		return nil, err
	}
	return map[string]any{"UnprocessedItems": map[string]any{}}, nil
}

// applyLocked runs a set of writes and saves every table they touched; if
// a save fails, every write is undone.
func (b *Backend) applyLocked(f func(apply func(t *table, key, it Item))) error {
	type undo struct {
		t        *table
		key, old Item
	}
	var undos []undo
	touched := map[*table]bool{}
	var order []*table
	f(func(t *table, key, it Item) {
		undos = append(undos, undo{t, key, t.get(key)})
		t.put(key, it)
		if !touched[t] {
			touched[t] = true
			order = append(order, t)
		}
	})
	for _, t := range order {
		if err := b.saveItemsLocked(t); err != nil {
			for i := len(undos) - 1; i >= 0; i-- {
				undos[i].t.put(undos[i].key, undos[i].old)
			}
			for _, t := range order {
				if err := b.saveItemsLocked(t); err != nil {
					b.log.Error("restore table after failed write", "table", t.meta.Name, "err", err)
				}
			}
			return err
		}
	}
	return nil
}

func (b *Backend) batchGetItem(ctx context.Context, in *BatchGetItemInput) (any, error) {
	if in.RequestItems == nil {
		return nil, awsproto.Validation(CodeValidation, awsproto.Required("requestItems"))
	}
	total := 0
	type get struct {
		keys []Item
		proj []docPath
	}
	gets := map[string]get{}
	for _, name := range slices.Sorted(maps.Keys(in.RequestItems)) {
		ka := in.RequestItems[name]
		if err := checkTableName(name); err != nil {
			return nil, err
		}
		total += len(ka.Keys)
		ex, err := prepare(exprIn{names: ka.ExpressionAttributeNames, projection: ka.ProjectionExpression})
		if err != nil {
			return nil, err
		}
		proj, err := projectionOf(ex.proj, ka.AttributesToGet)
		if err != nil {
			return nil, err
		}
		gets[name] = get{ka.Keys, proj}
	}
	if total > 100 {
		return nil, validation("Too many items requested for the BatchGetItem call")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	responses := map[string][]Item{}
	for _, name := range slices.Sorted(maps.Keys(gets)) {
		g := gets[name]
		t, ok := b.tables[name]
		if !ok {
			return nil, tableNotFound()
		}
		seen := map[string]bool{}
		items := []Item{}
		for _, k := range g.keys {
			if err := t.checkKey(k); err != nil {
				return nil, err
			}
			ks := keyString(t.key, k)
			if seen[ks] {
				return nil, validation("Provided list of item keys contains duplicates")
			}
			seen[ks] = true
			if it := t.get(k); it != nil {
				if g.proj != nil {
					items = append(items, project(it, g.proj))
				} else {
					items = append(items, it.clone())
				}
			}
		}
		responses[name] = items
	}
	return map[string]any{"Responses": responses, "UnprocessedKeys": map[string]any{}}, nil
}

// txAction is one prepared TransactWriteItems action.
type txAction struct {
	kind      string // ConditionCheck, Put, Delete, Update
	t         *table
	key, item Item
	ex        *exprSet
	onFailure string
}

// tokenTTL is how long a ClientRequestToken makes a retry a no-op.
const tokenTTL = 10 * time.Minute

// TransactWriteItems writes up to 100 items all or nothing.
func (b *Backend) transactWriteItems(ctx context.Context, in *TransactWriteItemsInput) (any, error) {
	if len(in.TransactItems) == 0 {
		return nil, awsproto.Validation(CodeValidation, awsproto.Required("transactItems"))
	}
	if len(in.TransactItems) > 100 {
		return nil, awsproto.Validation(CodeValidation, awsproto.Violation{Field: "transactItems", Value: fmt.Sprintf("[%d items]", len(in.TransactItems)), Constraint: "Member must have length less than or equal to 100"})
	}
	type pending struct {
		kind, table, onFailure string
		key, item              Item
		ex                     *exprSet
	}
	var ps []pending
	for _, ti := range in.TransactItems {
		n := 0
		var p pending
		var err error
		if c := ti.ConditionCheck; c != nil {
			n++
			if c.ConditionExpression == nil {
				return nil, awsproto.Validation(CodeValidation, awsproto.Required("transactItems.member.conditionCheck.conditionExpression"))
			}
			p = pending{kind: "ConditionCheck", table: c.TableName, key: c.Key, onFailure: c.ReturnValuesOnConditionCheckFailure}
			p.ex, err = prepare(exprIn{names: c.ExpressionAttributeNames, values: c.ExpressionAttributeValues, condition: c.ConditionExpression, valueExprs: []string{"ConditionExpression"}})
		}
		if c := ti.Put; c != nil {
			n++
			p = pending{kind: "Put", table: c.TableName, item: c.Item, onFailure: c.ReturnValuesOnConditionCheckFailure}
			if msg := validateItem(c.Item); msg != "" {
				return nil, validation("%s", msg)
			}
			p.ex, err = prepare(exprIn{names: c.ExpressionAttributeNames, values: c.ExpressionAttributeValues, condition: c.ConditionExpression, valueExprs: []string{"ConditionExpression"}})
		}
		if c := ti.Delete; c != nil {
			n++
			p = pending{kind: "Delete", table: c.TableName, key: c.Key, onFailure: c.ReturnValuesOnConditionCheckFailure}
			p.ex, err = prepare(exprIn{names: c.ExpressionAttributeNames, values: c.ExpressionAttributeValues, condition: c.ConditionExpression, valueExprs: []string{"ConditionExpression"}})
		}
		if c := ti.Update; c != nil {
			n++
			if c.UpdateExpression == nil {
				return nil, awsproto.Validation(CodeValidation, awsproto.Required("transactItems.member.update.updateExpression"))
			}
			p = pending{kind: "Update", table: c.TableName, key: c.Key, onFailure: c.ReturnValuesOnConditionCheckFailure}
			p.ex, err = prepare(exprIn{names: c.ExpressionAttributeNames, values: c.ExpressionAttributeValues, condition: c.ConditionExpression, update: c.UpdateExpression, valueExprs: []string{"UpdateExpression", "ConditionExpression"}})
		}
		if n != 1 {
			return nil, validation("TransactItems can only contain one of Check, Put, Update or Delete")
		}
		if err != nil {
			return nil, err
		}
		if err := checkTableName(p.table); err != nil {
			return nil, err
		}
		if err := checkOnFailure(p.onFailure); err != nil {
			return nil, err
		}
		ps = append(ps, p)
	}
	var reqHash string
	if in.ClientRequestToken != "" {
		body, _ := json.Marshal(in.TransactItems)
		sum := sha256.Sum256(body)
		reqHash = hex.EncodeToString(sum[:])
	}

	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.clock.Now()
	for tok, tt := range b.tokens {
		if now.Sub(tt.at) > tokenTTL {
			delete(b.tokens, tok)
		}
	}
	if in.ClientRequestToken != "" {
		if tt, ok := b.tokens[in.ClientRequestToken]; ok {
			if tt.hash != reqHash {
				return nil, &awsproto.Error{Code: CodeIdempotentParameterMatch, Message: "The request uses the same client token as a previous, but non-identical request."}
			}
			return struct{}{}, nil
		}
	}
	actions := make([]txAction, len(ps))
	seen := map[string]bool{}
	for i, p := range ps {
		t, ok := b.tables[p.table]
		if !ok {
			return nil, tableNotFound()
		}
		a := txAction{kind: p.kind, t: t, key: p.key, item: p.item, ex: p.ex, onFailure: p.onFailure}
		if p.kind == "Put" {
			if err := t.checkItem(p.item); err != nil {
				return nil, err
			}
			a.key = t.key.extract(p.item)
		} else if err := t.checkKey(p.key); err != nil {
			return nil, err
		}
		if p.kind == "Update" {
			if err := t.checkUpdatePaths(p.ex.update); err != nil {
				return nil, err
			}
		}
		id := p.table + "\x00" + keyString(t.key, a.key)
		if seen[id] {
			return nil, validation("Transaction request cannot include multiple operations on one item")
		}
		seen[id] = true
		actions[i] = a
	}

	reasons := make([]CancellationReason, len(actions))
	results := make([]Item, len(actions))
	failed := false
	for i, a := range actions {
		reasons[i] = CancellationReason{Code: ReasonNone}
		old := a.t.get(a.key)
		if a.ex.cond != nil && !evalCond(old, a.ex.cond) {
			reasons[i] = CancellationReason{Code: ReasonConditionalCheckFailed, Message: "The conditional request failed"}
			if a.onFailure == "ALL_OLD" && old != nil {
				reasons[i].Item = old.clone()
			}
			failed = true
			continue
		}
		switch a.kind {
		case "Put":
			results[i] = a.item.clone()
		case "Delete":
			results[i] = nil
		case "Update":
			nu, err := a.t.planUpdate(a.key, old, a.ex.update)
			if err != nil {
				msg := err.Error()
				var e *awsproto.Error
				if errors.As(err, &e) {
					msg = e.Message
				}
				reasons[i] = CancellationReason{Code: ReasonValidation, Message: msg}
				failed = true
				continue
			}
			results[i] = nu
		}
	}
	if failed {
		codes := make([]string, len(reasons))
		for i, r := range reasons {
			codes[i] = r.Code
		}
		return nil, &awsproto.Error{
			Code:    CodeTransactionCanceled,
			Message: "Transaction cancelled, please refer cancellation reasons for specific reasons [" + strings.Join(codes, ", ") + "]",
			Fields:  map[string]any{"CancellationReasons": reasons},
		}
	}
	if err := b.applyLocked(func(apply func(t *table, key, it Item)) {
		for i, a := range actions {
			if a.kind != "ConditionCheck" {
				apply(a.t, a.key, results[i])
			}
		}
	}); err != nil {
		return nil, err
	}
	if in.ClientRequestToken != "" {
		b.tokens[in.ClientRequestToken] = txToken{hash: reqHash, at: now}
	}
	return struct{}{}, nil
}

func (b *Backend) transactGetItems(ctx context.Context, in *TransactGetItemsInput) (any, error) {
	if len(in.TransactItems) == 0 || len(in.TransactItems) > 100 {
		return nil, awsproto.Validation(CodeValidation, awsproto.Violation{Field: "transactItems", Value: fmt.Sprintf("[%d items]", len(in.TransactItems)), Constraint: "Member must have length less than or equal to 100"})
	}
	type get struct {
		table string
		key   Item
		proj  []docPath
	}
	var gets []get
	for _, ti := range in.TransactItems {
		if ti.Get == nil {
			return nil, awsproto.Validation(CodeValidation, awsproto.Required("transactItems.member.get"))
		}
		if err := checkTableName(ti.Get.TableName); err != nil {
			return nil, err
		}
		ex, err := prepare(exprIn{names: ti.Get.ExpressionAttributeNames, projection: ti.Get.ProjectionExpression})
		if err != nil {
			return nil, err
		}
		gets = append(gets, get{ti.Get.TableName, ti.Get.Key, ex.proj})
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	type response struct {
		Item Item `json:",omitempty"`
	}
	out := make([]response, len(gets))
	for i, g := range gets {
		t, ok := b.tables[g.table]
		if !ok {
			return nil, tableNotFound()
		}
		if err := t.checkKey(g.key); err != nil {
			return nil, err
		}
		if it := t.get(g.key); it != nil {
			if g.proj != nil {
				out[i].Item = project(it, g.proj)
			} else {
				out[i].Item = it.clone()
			}
		}
	}
	return map[string]any{"Responses": out}, nil
}
