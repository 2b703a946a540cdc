package dynamodb

import (
	"context"
	"hash/fnv"
	"slices"
	"sort"
	"strings"

	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/awsproto"
)

// indexInfo is a secondary index as reads see it.
type indexInfo struct {
	name  string
	key   keyDef
	proj  Projection
	local bool
}

func (t *table) indexes() []indexInfo {
	var out []indexInfo
	for _, l := range t.meta.LSIs {
		out = append(out, indexInfo{name: l.IndexName, key: keyDefOf(l.KeySchema, t.meta.AttributeDefinitions), proj: l.Projection, local: true})
	}
	for _, g := range t.meta.GSIs {
		out = append(out, indexInfo{name: g.IndexName, key: keyDefOf(g.KeySchema, t.meta.AttributeDefinitions), proj: g.Projection})
	}
	return out
}

// view is the ordered item list a read walks: the table itself, or a
// secondary index built on demand (items that carry the index's keys,
// ordered by index key, then table key).
type view struct {
	items []Item
	key   keyDef // the view's own key
	table keyDef
	index *indexInfo
}

func (v view) cmp(a, b Item) int {
	if c := v.key.cmp(a, b); c != 0 || v.index == nil {
		return c
	}
	return v.table.cmp(a, b)
}

// startKeyNames are the attributes of a LastEvaluatedKey in this view.
func (v view) startKeyNames() []string {
	names := v.table.names()
	if v.index != nil {
		for _, n := range v.key.names() {
			if !slices.Contains(names, n) {
				names = append(names, n)
			}
		}
	}
	return names
}

func (v view) lastKey(it Item) Item {
	out := Item{}
	for _, n := range v.startKeyNames() {
		out[n] = it[n]
	}
	return out
}

// shape applies the index's projection to an item read through it.
func (v view) shape(it Item) Item {
	if v.index == nil || v.index.proj.ProjectionType == "ALL" {
		return it.clone()
	}
	keep := v.startKeyNames()
	if v.index.proj.ProjectionType == "INCLUDE" {
		keep = append(keep, v.index.proj.NonKeyAttributes...)
	}
	out := Item{}
	for _, n := range keep {
		if x, ok := it[n]; ok {
			out[n] = x.clone()
		}
	}
	return out
}

func (t *table) baseView() view { return view{items: t.items, key: t.key, table: t.key} }

func (t *table) indexView(name string) view {
	for _, ix := range t.indexes() {
		if ix.name != name {
			continue
		}
		v := view{key: ix.key, table: t.key, index: &ix}
		for _, it := range t.items {
			ok := true
			for _, n := range ix.key.names() {
				typ := ix.key.hashT
				if n == ix.key.rng {
					typ = ix.key.rngT
				}
				if x, has := it[n]; !has || x.T != typ {
					ok = false
				}
			}
			if ok {
				v.items = append(v.items, it)
			}
		}
		sort.SliceStable(v.items, func(i, j int) bool { return v.cmp(v.items[i], v.items[j]) < 0 })
		return v
	}
	return view{}
}

// viewFor picks the table or the named index.
func (t *table) viewFor(index string, consistent bool) (view, error) {
	if index == "" {
		return t.baseView(), nil
	}
	for _, ix := range t.indexes() {
		if ix.name == index {
			if consistent && !ix.local {
				return view{}, validation("Consistent reads are not supported on global secondary indexes")
			}
			return t.indexView(index), nil
		}
	}
	return view{}, validation("The table does not have the specified index: %s", index)
}

// rangeCond is a key condition on the range key.
type rangeCond struct {
	op   string // =, <, <=, >, >=, BETWEEN, begins_with
	vals []Value
}

func (rc *rangeCond) match(v Value) bool {
	if rc == nil {
		return true
	}
	c, ok := v.compare(rc.vals[0])
	if !ok {
		return false
	}
	switch rc.op {
	case "=":
		return c == 0
	case "<":
		return c < 0
	case "<=":
		return c <= 0
	case ">":
		return c > 0
	case ">=":
		return c >= 0
	case "BETWEEN":
		d, _ := v.compare(rc.vals[1])
		return c >= 0 && d <= 0
	case "begins_with":
		return strings.HasPrefix(v.S, rc.vals[0].S)
	}
	return false
}

var flipped = map[string]string{"=": "=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}

// analyzeKeyCond turns a KeyConditionExpression into the hash value and
// range condition, with DynamoDB's messages for what it refuses.
func analyzeKeyCond(c *cond, k keyDef) (Value, *rangeCond, error) {
	type leaf struct {
		attr string
		rc   rangeCond
	}
	var leaves []leaf
	var walk func(c *cond) error
	walk = func(c *cond) error {
		switch c.kind {
		case condAnd:
			if err := walk(c.subs[0]); err != nil {
				return err
			}
			return walk(c.subs[1])
		case condOr:
			return validation("Invalid operator used in KeyConditionExpression: OR")
		case condNot:
			return validation("Invalid operator used in KeyConditionExpression: NOT")
		case condIn:
			return validation("Invalid operator used in KeyConditionExpression: IN")
		case condFunc:
			if c.op != "begins_with" {
				return validation("Invalid operator used in KeyConditionExpression: %s", c.op)
			}
		case condCmp:
			if c.op == "<>" {
				return validation("Invalid operator used in KeyConditionExpression: <>")
			}
		}
		op := c.op
		if c.kind == condBetween {
			op = "BETWEEN"
		}
		var attr string
		var vals []Value
		for i, a := range c.args {
			switch a.kind {
			case opFunc:
				return validation("KeyConditionExpressions cannot contain nested operations")
			case opPath:
				if attr != "" {
					return validation("Invalid condition in KeyConditionExpression: Multiple attribute names used in one condition")
				}
				if len(a.path) > 1 {
					return validation("KeyConditionExpressions cannot have conditions on nested attributes")
				}
				if i != 0 && (op == "BETWEEN" || op == "begins_with") {
					return validation("Invalid condition in KeyConditionExpression: %s operator must have the key attribute as its first operand", op)
				}
				if i != 0 {
					op = flipped[op]
				}
				attr = a.path[0].name
			default:
				vals = append(vals, a.val)
			}
		}
		if attr == "" {
			return validation("Invalid condition in KeyConditionExpression: No key attribute specified")
		}
		for _, l := range leaves {
			if l.attr == attr {
				return validation("KeyConditionExpressions must only contain one condition per key")
			}
		}
		leaves = append(leaves, leaf{attr, rangeCond{op, vals}})
		return nil
	}
	if err := walk(c); err != nil {
		return Value{}, nil, err
	}
	if len(leaves) > 2 {
		return Value{}, nil, validation("Conditions can be of length 1 or 2 only")
	}
	var hash Value
	var rng *rangeCond
	found := map[string]bool{}
	for _, l := range leaves {
		found[l.attr] = true
	}
	for _, n := range k.names() {
		if !found[n] && (n == k.hash || len(leaves) > 1) {
			return Value{}, nil, validation("Query condition missed key schema element: %s", n)
		}
	}
	for _, l := range leaves {
		typ := k.hashT
		if l.attr == k.rng {
			typ = k.rngT
		} else if l.attr != k.hash {
			return Value{}, nil, validation("Query condition missed key schema element: %s", k.hash)
		}
		for _, v := range l.rc.vals {
			if v.T != typ {
				return Value{}, nil, validation("One or more parameter values were invalid: Condition parameter type does not match schema type")
			}
		}
		if l.attr == k.hash {
			if l.rc.op != "=" {
				return Value{}, nil, validation("Query key condition not supported")
			}
			hash = l.rc.vals[0]
		} else {
			rc := l.rc
			rng = &rc
		}
	}
	return hash, rng, nil
}

// readProjection is a Query's or Scan's projection (from
// ProjectionExpression or AttributesToGet), checked against its Select.
func readProjection(ex *exprSet, attrs []string, sel, index string) ([]docPath, error) {
	proj, err := projectionOf(ex.proj, attrs)
	if err != nil {
		return nil, err
	}
	if err := checkSelect(sel, proj, index); err != nil {
		return nil, err
	}
	return proj, nil
}

func checkSelect(sel string, proj []docPath, index string) error {
	all := []string{"ALL_ATTRIBUTES", "ALL_PROJECTED_ATTRIBUTES", "SPECIFIC_ATTRIBUTES", "COUNT"}
	if sel == "" {
		return nil
	}
	if !slices.Contains(all, sel) {
		return awsproto.Validation(CodeValidation, enumViolation("select", sel, all...))
	}
	if proj != nil && sel != "SPECIFIC_ATTRIBUTES" {
		return validation("Cannot specify the ProjectionExpression when choosing to get %s", sel)
	}
	if sel == "ALL_PROJECTED_ATTRIBUTES" && index == "" {
		return validation("One or more parameter values were invalid: Select type ALL_PROJECTED_ATTRIBUTES is supported only for Query and Scan on an index")
	}
	return nil
}

// viewLocked finds the table a Query or Scan reads and the view of it (the
// table itself or the named index).
func (b *Backend) viewLocked(name, index string, consistent bool) (*table, view, error) {
	t, err := b.tableLocked(name)
	if err != nil {
		return nil, view{}, err
	}
	v, err := t.viewFor(index, consistent)
	if err != nil {
		return nil, view{}, err
	}
	return t, v, nil
}

func checkLimit(l *int32) error {
	if l != nil && *l < 1 {
		return awsproto.Validation(CodeValidation, awsproto.Violation{Field: "limit", Value: *l, Constraint: "Member must have value greater than or equal to 1"})
	}
	return nil
}

// checkStartKey validates an ExclusiveStartKey for a view.
func (v view) checkStartKey(esk Item) error {
	if esk == nil {
		return nil
	}
	if msg := validateItem(esk); msg != "" {
		return validation("The provided starting key is invalid: %s", msg)
	}
	names := v.startKeyNames()
	if len(esk) != len(names) {
		return validation("The provided starting key is invalid: The provided key element does not match the schema")
	}
	for _, n := range names {
		x, ok := esk[n]
		typ := v.table.hashT
		switch n {
		case v.table.rng:
			typ = v.table.rngT
		case v.key.hash:
			typ = v.key.hashT
		case v.key.rng:
			typ = v.key.rngT
		}
		if !ok || x.T != typ {
			return validation("The provided starting key is invalid: The provided key element does not match the schema")
		}
	}
	return nil
}

// maxPage is DynamoDB's 1 MB page limit.
const maxPage = 1 << 20

// page walks items (already restricted to what the key condition allows,
// in read order) after the start key, applying Limit, the 1 MB page
// limit, the filter and the projection.
type page struct {
	v       view
	limit   int
	filter  *cond
	proj    []docPath
	count   bool
	matches func(Item) bool
}

func (p page) run(items []Item) QueryOutput {
	var out QueryOutput
	size := 0
	for i, it := range items {
		if p.matches != nil && !p.matches(it) {
			continue
		}
		out.ScannedCount++
		size += it.storageSize()
		if p.filter == nil || evalCond(it, p.filter) {
			out.Count++
			if !p.count {
				shaped := p.v.shape(it)
				if p.proj != nil {
					shaped = project(shaped, p.proj)
				}
				out.Items = append(out.Items, shaped)
			}
		}
		if (p.limit > 0 && int(out.ScannedCount) >= p.limit) || size >= maxPage {
			if p.more(items[i+1:]) {
				out.LastEvaluatedKey = p.v.lastKey(it)
			}
			break
		}
	}
	if !p.count && out.Items == nil {
		out.Items = []Item{}
	}
	return out
}

func (p page) more(rest []Item) bool {
	for _, it := range rest {
		if p.matches == nil || p.matches(it) {
			return true
		}
	}
	return false
}

// Query reads one partition of a table or index.
func (b *Backend) Query(ctx context.Context, in *QueryInput) (*QueryOutput, error) {
	if err := legacy(map[string]bool{"KeyConditions": in.KeyConditions != nil, "QueryFilter": in.QueryFilter != nil, "ConditionalOperator": in.ConditionalOperator != ""}); err != nil {
		return nil, err
	}
	if err := checkTableName(in.TableName); err != nil {
		return nil, err
	}
	if err := checkLimit(in.Limit); err != nil {
		return nil, err
	}
	if in.KeyConditionExpression == nil {
		return nil, validation("Either the KeyConditions or KeyConditionExpression parameter must be specified in the request.")
	}
	ex, err := prepare(exprIn{names: in.ExpressionAttributeNames, values: in.ExpressionAttributeValues, keyCond: in.KeyConditionExpression, filter: in.FilterExpression, projection: in.ProjectionExpression, valueExprs: []string{"FilterExpression", "KeyConditionExpression"}})
	if err != nil {
		return nil, err
	}
	proj, err := readProjection(ex, in.AttributesToGet, in.Select, in.IndexName)
	if err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	t, v, err := b.viewLocked(in.TableName, in.IndexName, in.ConsistentRead)
	if err != nil {
		return nil, err
	}
	hash, rc, err := analyzeKeyCond(ex.key, v.key)
	if err != nil {
		return nil, err
	}
	for _, p := range ex.filterPaths {
		if slices.Contains(v.key.names(), p[0].name) {
			return nil, validation("Filter Expression can only contain non-primary key attributes: Primary key attribute: %s", p[0].name)
		}
	}
	if err := v.checkStartKey(in.ExclusiveStartKey); err != nil {
		return nil, err
	}
	if in.ExclusiveStartKey != nil {
		if !in.ExclusiveStartKey[v.key.hash].equal(hash) {
			return nil, validation("The provided starting key is outside query boundaries based on provided conditions")
		}
	}
	// The partition: items whose view hash key equals the condition's.
	lo := sort.Search(len(v.items), func(i int) bool { c, _ := v.items[i][v.key.hash].compare(hash); return c >= 0 })
	hi := sort.Search(len(v.items), func(i int) bool { c, _ := v.items[i][v.key.hash].compare(hash); return c > 0 })
	part := v.items[lo:hi]
	forward := in.ScanIndexForward == nil || *in.ScanIndexForward
	if esk := in.ExclusiveStartKey; esk != nil {
		if forward {
			part = part[sort.Search(len(part), func(i int) bool { return v.cmp(part[i], esk) > 0 }):]
		} else {
			part = part[:sort.Search(len(part), func(i int) bool { return v.cmp(part[i], esk) >= 0 })]
		}
	}
	ordered := part
	if !forward {
		ordered = slices.Clone(part)
		slices.Reverse(ordered)
	}
	p := page{v: v, filter: ex.filter, proj: proj, count: in.Select == "COUNT"}
	if in.Limit != nil {
		p.limit = int(*in.Limit)
	}
	if rc != nil {
		p.matches = func(it Item) bool { return rc.match(it[v.key.rng]) }
	}
	out := p.run(ordered)
	out.ConsumedCapacity = consumed(t, in.ReturnConsumedCapacity, readUnits(in.ConsistentRead, out.Items...))
	return &out, nil
}

func (b *Backend) query(ctx context.Context, in *QueryInput) (any, error) {
	return b.Query(ctx, in)
}

// segmentOf places an item in one of n parallel-scan segments by its hash
// key, so a partition never straddles segments.
func segmentOf(it Item, hash string, n int) int {
	h := fnv.New32a()
	v := it[hash]
	h.Write([]byte(v.T))
	h.Write([]byte(v.S))
	return int(h.Sum32() % uint32(n))
}

// Scan reads a whole table or index.
func (b *Backend) Scan(ctx context.Context, in *ScanInput) (*QueryOutput, error) {
	if err := legacy(map[string]bool{"ScanFilter": in.ScanFilter != nil, "ConditionalOperator": in.ConditionalOperator != ""}); err != nil {
		return nil, err
	}
	if err := checkTableName(in.TableName); err != nil {
		return nil, err
	}
	if err := checkLimit(in.Limit); err != nil {
		return nil, err
	}
	if in.Segment != nil && in.TotalSegments == nil {
		return nil, validation("The TotalSegments parameter is required but was not present in the request when Segment parameter is present")
	}
	if in.TotalSegments != nil {
		if *in.TotalSegments < 1 || *in.TotalSegments > 1000000 {
			return nil, awsproto.Validation(CodeValidation, awsproto.Violation{Field: "totalSegments", Value: *in.TotalSegments, Constraint: "Member must have value less than or equal to 1000000"})
		}
		if in.Segment == nil {
			return nil, validation("The Segment parameter is required but was not present in the request when parameter TotalSegments is present")
		}
		if *in.Segment < 0 || *in.Segment >= *in.TotalSegments {
			return nil, validation("The Segment parameter is zero-based and must be less than parameter TotalSegments: Segment: %d is not less than TotalSegments: %d", *in.Segment, *in.TotalSegments)
		}
	}
	ex, err := prepare(exprIn{names: in.ExpressionAttributeNames, values: in.ExpressionAttributeValues, filter: in.FilterExpression, projection: in.ProjectionExpression, valueExprs: []string{"FilterExpression"}})
	if err != nil {
		return nil, err
	}
	proj, err := readProjection(ex, in.AttributesToGet, in.Select, in.IndexName)
	if err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	t, v, err := b.viewLocked(in.TableName, in.IndexName, in.ConsistentRead)
	if err != nil {
		return nil, err
	}
	if err := v.checkStartKey(in.ExclusiveStartKey); err != nil {
		return nil, err
	}
	items := v.items
	if esk := in.ExclusiveStartKey; esk != nil {
		items = items[sort.Search(len(items), func(i int) bool { return v.cmp(items[i], esk) > 0 }):]
	}
	p := page{v: v, filter: ex.filter, proj: proj, count: in.Select == "COUNT"}
	if in.Limit != nil {
		p.limit = int(*in.Limit)
	}
	if in.TotalSegments != nil {
		seg, n := int(*in.Segment), int(*in.TotalSegments)
		p.matches = func(it Item) bool { return segmentOf(it, v.key.hash, n) == seg }
	}
	out := p.run(items)
	out.ConsumedCapacity = consumed(t, in.ReturnConsumedCapacity, readUnits(in.ConsistentRead, out.Items...))
	return &out, nil
}

func (b *Backend) scan(ctx context.Context, in *ScanInput) (any, error) {
	return b.Scan(ctx, in)
}
