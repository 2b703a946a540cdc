package dynamodb

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/awsproto"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/clock"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/state"
)

// TargetPrefix is DynamoDB's X-Amz-Target prefix.
const TargetPrefix = "DynamoDB_20120810"

// Config is what the backend needs.
type Config struct {
	Logger *slog.Logger
	Clock  clock.Clock
	Store  state.Store
	// Region and Account appear in table ARNs (defaults us-east-1,
	// 000000000000).
	Region, Account string
}

// Backend is the DynamoDB emulator; its methods are safe for concurrent use.
type Backend struct {
	cfg   Config
	log   *slog.Logger
	clock clock.Clock

	mu     sync.Mutex
	tables map[string]*table
	tokens map[string]txToken
}

type txToken struct {
	hash string
	at   time.Time
}

// tableMeta is a table's definition and settings, as persisted.
type tableMeta struct {
	Name                 string
	ARN                  string
	ID                   string
	AttributeDefinitions []AttributeDefinition
	KeySchema            []KeySchemaElement
	BillingMode          string
	Provisioned          *ProvisionedThroughput   `json:",omitempty"`
	GSIs                 []GlobalSecondaryIndex   `json:",omitempty"`
	LSIs                 []LocalSecondaryIndex    `json:",omitempty"`
	SSE                  *SSESpecification        `json:",omitempty"`
	Stream               *StreamSpecification     `json:",omitempty"`
	TTL                  *TimeToLiveSpecification `json:",omitempty"`
	DeletionProtection   bool
	TableClass           string `json:",omitempty"`
	Created              time.Time
	PITR                 bool
	PITRPeriod           int32
	PITRSince            time.Time `json:",omitzero"`
	Tags                 []Tag     `json:",omitempty"`
}

type table struct {
	meta  tableMeta
	key   keyDef
	items []Item // ordered by key
}

// keyDef names a key schema's attributes and types.
type keyDef struct {
	hash, rng   string
	hashT, rngT Type
}

func (k keyDef) names() []string {
	if k.rng == "" {
		return []string{k.hash}
	}
	return []string{k.hash, k.rng}
}

func keyDefOf(schema []KeySchemaElement, defs []AttributeDefinition) keyDef {
	typ := func(name string) Type {
		for _, d := range defs {
			if d.AttributeName == name {
				return Type(d.AttributeType)
			}
		}
		return ""
	}
	var k keyDef
	for _, e := range schema {
		if e.KeyType == "HASH" {
			k.hash, k.hashT = e.AttributeName, typ(e.AttributeName)
		} else {
			k.rng, k.rngT = e.AttributeName, typ(e.AttributeName)
		}
	}
	return k
}

// cmpKey orders items by hash, then range.
func (k keyDef) cmp(a, b Item) int {
	if c, _ := a[k.hash].compare(b[k.hash]); c != 0 {
		return c
	}
	if k.rng == "" {
		return 0
	}
	c, _ := a[k.rng].compare(b[k.rng])
	return c
}

func (k keyDef) extract(it Item) Item {
	out := Item{k.hash: it[k.hash]}
	if k.rng != "" {
		out[k.rng] = it[k.rng]
	}
	return out
}

// find returns the index of the item with it's key, and whether it is there.
func (t *table) find(key Item) (int, bool) {
	i := sort.Search(len(t.items), func(i int) bool { return t.key.cmp(t.items[i], key) >= 0 })
	return i, i < len(t.items) && t.key.cmp(t.items[i], key) == 0
}

func (t *table) get(key Item) Item {
	if i, ok := t.find(key); ok {
		return t.items[i]
	}
	return nil
}

// put stores an item (replacing one with the same key) or, for nil,
// deletes the item with key.
func (t *table) put(key Item, it Item) {
	i, ok := t.find(key)
	switch {
	case it == nil && ok:
		t.items = append(t.items[:i], t.items[i+1:]...)
	case it == nil:
	case ok:
		t.items[i] = it
	default:
		t.items = append(t.items, nil)
		copy(t.items[i+1:], t.items[i:])
		t.items[i] = it
	}
}

const (
	stateCatalog     = "dynamodb"
	stateTablePrefix = "dynamodb-table-"
)

type catalog struct {
	Tables []tableMeta
}

type tableItems struct {
	Items []Item
}

// New returns a backend with the tables saved in cfg.Store.
func New(cfg Config) (*Backend, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.New(1)
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	if cfg.Account == "" {
		cfg.Account = "000000000000"
	}
	b := &Backend{cfg: cfg, log: cfg.Logger, clock: cfg.Clock, tables: map[string]*table{}, tokens: map[string]txToken{}}
	var cat catalog
	ok, err := cfg.Store.Load(stateCatalog, &cat)
	if err != nil {
		return nil, fmt.Errorf("restore dynamodb: %w", err)
	}
	if !ok {
		return b, nil
	}
	items := 0
	for _, m := range cat.Tables {
		t := &table{meta: m, key: keyDefOf(m.KeySchema, m.AttributeDefinitions)}
		var ti tableItems
		if _, err := cfg.Store.Load(stateTablePrefix+m.Name, &ti); err != nil {
			return nil, fmt.Errorf("restore dynamodb table %s: %w", m.Name, err)
		}
		for _, it := range ti.Items {
			if msg := validateItem(it); msg != "" {
				return nil, fmt.Errorf("restore dynamodb table %s: %s", m.Name, msg)
			}
		}
		t.items = ti.Items
		sort.SliceStable(t.items, func(i, j int) bool { return t.key.cmp(t.items[i], t.items[j]) < 0 })
		b.tables[m.Name] = t
		items += len(t.items)
	}
	b.log.Info("restored dynamodb", "tables", len(cat.Tables), "items", items)
	return b, nil
}

// Register adds DynamoDB (JSON 1.0) to the mux.
func (b *Backend) Register(m *awsproto.Mux) {
	m.HandleJSON(awsproto.JSONService{TargetPrefix: TargetPrefix, Version: "1.0", Ops: map[string]awsproto.JSONOp{
		"CreateTable":               awsproto.Op[CreateTableInput](b.createTable).JSON(),
		"DescribeTable":             awsproto.Op[tableNameInput](b.describeTable).JSON(),
		"DeleteTable":               awsproto.Op[tableNameInput](b.deleteTable).JSON(),
		"UpdateTable":               awsproto.Op[updateTableInput](b.updateTable).JSON(),
		"ListTables":                awsproto.Op[listTablesInput](b.listTables).JSON(),
		"UpdateContinuousBackups":   awsproto.Op[updateBackupsInput](b.updateContinuousBackups).JSON(),
		"DescribeContinuousBackups": awsproto.Op[tableNameInput](b.describeContinuousBackups).JSON(),
		"UpdateTimeToLive":          awsproto.Op[updateTTLInput](b.updateTimeToLive).JSON(),
		"DescribeTimeToLive":        awsproto.Op[tableNameInput](b.describeTimeToLive).JSON(),
		"TagResource":               awsproto.Op[tagInput](b.tagResource).JSON(),
		"UntagResource":             awsproto.Op[untagInput](b.untagResource).JSON(),
		"ListTagsOfResource":        awsproto.Op[listTagsInput](b.listTagsOfResource).JSON(),
		"PutItem":                   awsproto.Op[PutItemInput](b.putItem).JSON(),
		"GetItem":                   awsproto.Op[GetItemInput](b.getItem).JSON(),
		"UpdateItem":                awsproto.Op[UpdateItemInput](b.updateItem).JSON(),
		"DeleteItem":                awsproto.Op[DeleteItemInput](b.deleteItem).JSON(),
		"Query":                     awsproto.Op[QueryInput](b.query).JSON(),
		"Scan":                      awsproto.Op[ScanInput](b.scan).JSON(),
		"BatchWriteItem":            awsproto.Op[BatchWriteItemInput](b.batchWriteItem).JSON(),
		"BatchGetItem":              awsproto.Op[BatchGetItemInput](b.batchGetItem).JSON(),
		"TransactWriteItems":        awsproto.Op[TransactWriteItemsInput](b.transactWriteItems).JSON(),
		"TransactGetItems":          awsproto.Op[TransactGetItemsInput](b.transactGetItems).JSON(),
		"DescribeEndpoints":         awsproto.Op[struct{}](b.describeEndpoints).JSON(),
	}})
}

func (b *Backend) saveCatalogLocked() error {
	var cat catalog
	for _, name := range slices.Sorted(maps.Keys(b.tables)) {
		cat.Tables = append(cat.Tables, b.tables[name].meta)
	}
	if err := b.cfg.Store.Save(stateCatalog, cat); err != nil {
		return fmt.Errorf("save dynamodb tables: %w", err)
	}
	return nil
}

func (b *Backend) saveItemsLocked(t *table) error {
	items := t.items
	if items == nil {
		items = []Item{}
	}
	if err := b.cfg.Store.Save(stateTablePrefix+t.meta.Name, tableItems{Items: items}); err != nil {
		return fmt.Errorf("save dynamodb table %s: %w", t.meta.Name, err)
	}
	return nil
}

// tableLocked finds a table for an item operation.
func (b *Backend) tableLocked(name string) (*table, error) {
	if err := checkTableName(name); err != nil {
		return nil, err
	}
	t, ok := b.tables[name]
	if !ok {
		return nil, tableNotFound()
	}
	return t, nil
}

func newID() string {
	var r [16]byte
	rand.Read(r[:])
	h := hex.EncodeToString(r[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func (b *Backend) describeEndpoints(context.Context, *struct{}) (any, error) {
	return map[string]any{"Endpoints": []map[string]any{{"Address": "dynamodb." + b.cfg.Region + ".amazonaws.com", "CachePeriodInMinutes": 1440}}}, nil
}
