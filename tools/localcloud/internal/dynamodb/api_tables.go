package dynamodb

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/awsproto"
)

type tableNameInput struct{ TableName string }

type tableOutput struct {
	Table *TableDescription `json:"Table,omitempty"`
}

type createTableOutput struct{ TableDescription *TableDescription }

func enumViolation(field, value string, allowed ...string) awsproto.Violation {
	return awsproto.Violation{Field: field, Value: value, Constraint: "Member must satisfy enum value set: [" + strings.Join(allowed, ", ") + "]"}
}

// validateCreate applies CreateTable's rules, in DynamoDB's words.
func validateCreate(in *CreateTableInput) error {
	if err := checkTableName(in.TableName); err != nil {
		return err
	}
	var vs []awsproto.Violation
	if in.AttributeDefinitions == nil {
		vs = append(vs, awsproto.Required("attributeDefinitions"))
	}
	if in.KeySchema == nil {
		vs = append(vs, awsproto.Required("keySchema"))
	} else if len(in.KeySchema) < 1 || len(in.KeySchema) > 2 {
		c := "Member must have length less than or equal to 2"
		if len(in.KeySchema) < 1 {
			c = "Member must have length greater than or equal to 1"
		}
		vs = append(vs, awsproto.Violation{Field: "keySchema", Value: fmt.Sprint(in.KeySchema), Constraint: c})
	}
	for i, d := range in.AttributeDefinitions {
		if !slices.Contains([]string{"B", "N", "S"}, d.AttributeType) {
			vs = append(vs, enumViolation(fmt.Sprintf("attributeDefinitions.%d.member.attributeType", i+1), d.AttributeType, "B", "N", "S"))
		}
	}
	for i, k := range in.KeySchema {
		if k.KeyType != "HASH" && k.KeyType != "RANGE" {
			vs = append(vs, enumViolation(fmt.Sprintf("keySchema.%d.member.keyType", i+1), k.KeyType, "HASH", "RANGE"))
		}
	}
	if in.BillingMode != "" && in.BillingMode != "PROVISIONED" && in.BillingMode != "PAY_PER_REQUEST" {
		vs = append(vs, enumViolation("billingMode", in.BillingMode, "PROVISIONED", "PAY_PER_REQUEST"))
	}
	if len(vs) > 0 {
		return awsproto.Validation(CodeValidation, vs...)
	}
	if in.BillingMode == "PAY_PER_REQUEST" {
		if in.ProvisionedThroughput != nil {
			return validation("One or more parameter values were invalid: Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST")
		}
	} else if in.ProvisionedThroughput == nil || in.ProvisionedThroughput.ReadCapacityUnits < 1 || in.ProvisionedThroughput.WriteCapacityUnits < 1 {
		return validation("One or more parameter values were invalid: ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED")
	}
	defs := map[string]bool{}
	var defNames []string
	for _, d := range in.AttributeDefinitions {
		defs[d.AttributeName] = true
		defNames = append(defNames, d.AttributeName)
	}
	var keys []string
	for _, k := range in.KeySchema {
		keys = append(keys, k.AttributeName)
	}
	if len(keys) > len(defNames) {
		return validation("Invalid KeySchema: Some index key attribute have no definition")
	}
	for _, k := range keys {
		if !defs[k] {
			return validation("One or more parameter values were invalid: Some index key attributes are not defined in AttributeDefinitions. Keys: [%s], AttributeDefinitions: [%s]", strings.Join(keys, ", "), strings.Join(defNames, ", "))
		}
	}
	if len(keys) == 2 && keys[0] == keys[1] {
		return validation("Both the Hash Key and the Range Key element in the KeySchema have the same name")
	}
	if in.KeySchema[0].KeyType != "HASH" {
		return validation("Invalid KeySchema: The first KeySchemaElement is not a HASH key type")
	}
	if len(in.KeySchema) == 2 && in.KeySchema[1].KeyType != "RANGE" {
		return validation("Invalid KeySchema: The second KeySchemaElement is not a RANGE key type")
	}
	used := map[string]bool{}
	for _, k := range keys {
		used[k] = true
	}
	names := map[string]bool{}
	checkIndex := func(name string, schema []KeySchemaElement, proj Projection, local bool) error {
		if names[name] {
			return validation("One or more parameter values were invalid: Duplicate index name: %s", name)
		}
		names[name] = true
		if len(schema) == 0 || len(schema) > 2 {
			return validation("One or more parameter values were invalid: Invalid KeySchema for index: %s", name)
		}
		for _, k := range schema {
			if !defs[k.AttributeName] {
				return validation("One or more parameter values were invalid: Some index key attributes are not defined in AttributeDefinitions. Keys: [%s], AttributeDefinitions: [%s]", k.AttributeName, strings.Join(defNames, ", "))
			}
			used[k.AttributeName] = true
		}
		if schema[0].KeyType != "HASH" {
			return validation("Invalid KeySchema: The first KeySchemaElement is not a HASH key type")
		}
		if len(schema) == 2 && schema[1].KeyType != "RANGE" {
			return validation("Invalid KeySchema: The second KeySchemaElement is not a RANGE key type")
		}
		if local {
			if len(in.KeySchema) < 2 {
				return validation("One or more parameter values were invalid: Table KeySchema does not have a range key, which is required when specifying a LocalSecondaryIndex")
			}
			if schema[0].AttributeName != in.KeySchema[0].AttributeName {
				return validation("One or more parameter values were invalid: Index KeySchema does not have the same leading hash key as table KeySchema for index: %s. index hash key: %s, table hash key: %s", name, schema[0].AttributeName, in.KeySchema[0].AttributeName)
			}
			if len(schema) != 2 {
				return validation("One or more parameter values were invalid: Index KeySchema does not have a range key for index: %s", name)
			}
		}
		switch proj.ProjectionType {
		case "ALL", "KEYS_ONLY", "INCLUDE":
		default:
			return validation("One or more parameter values were invalid: Unknown ProjectionType: %s", orNull(proj.ProjectionType))
		}
		if proj.ProjectionType != "INCLUDE" && len(proj.NonKeyAttributes) > 0 {
			return validation("One or more parameter values were invalid: ProjectionType is %s, but NonKeyAttributes is specified", proj.ProjectionType)
		}
		return nil
	}
	for _, l := range in.LocalSecondaryIndexes {
		if err := checkIndex(l.IndexName, l.KeySchema, l.Projection, true); err != nil {
			return err
		}
	}
	for _, g := range in.GlobalSecondaryIndexes {
		if err := checkIndex(g.IndexName, g.KeySchema, g.Projection, false); err != nil {
			return err
		}
	}
	if len(used) != len(in.AttributeDefinitions) {
		return validation("One or more parameter values were invalid: Number of attributes in KeySchema does not exactly match number of attributes defined in AttributeDefinitions")
	}
	return nil
}

func orNull(s string) string {
	if s == "" {
		return "null"
	}
	return s
}

// CreateTable creates a table, for in-process callers (CloudFormation) and
// the API alike.
func (b *Backend) CreateTable(ctx context.Context, in *CreateTableInput) (*TableDescription, error) {
	if err := validateCreate(in); err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.tables[in.TableName]; ok {
		return nil, &awsproto.Error{Code: CodeResourceInUse, Message: "Table already exists: " + in.TableName}
	}
	mode := in.BillingMode
	if mode == "" {
		mode = "PROVISIONED"
	}
	m := tableMeta{
		Name: in.TableName, ARN: b.tableARN(in.TableName), ID: newID(),
		AttributeDefinitions: in.AttributeDefinitions, KeySchema: in.KeySchema,
		BillingMode: mode, Provisioned: in.ProvisionedThroughput,
		GSIs: in.GlobalSecondaryIndexes, LSIs: in.LocalSecondaryIndexes,
		SSE: in.SSESpecification, Stream: in.StreamSpecification,
		TableClass: in.TableClass, Created: b.clock.Now(), Tags: in.Tags,
	}
	if in.DeletionProtectionEnabled != nil {
		m.DeletionProtection = *in.DeletionProtectionEnabled
	}
	t := &table{meta: m, key: keyDefOf(m.KeySchema, m.AttributeDefinitions)}
	b.tables[in.TableName] = t
	if err := b.saveItemsLocked(t); err != nil {
		delete(b.tables, in.TableName)
		return nil, err
	}
	if err := b.saveCatalogLocked(); err != nil {
		delete(b.tables, in.TableName)
		return nil, err
	}
	b.log.Info("table created", "table", in.TableName)
	d := b.describeLocked(t)
	d.TableStatus = "CREATING"
	return d, nil
}

func (b *Backend) createTable(ctx context.Context, in *CreateTableInput) (any, error) {
	d, err := b.CreateTable(ctx, in)
	if err != nil {
		return nil, err
	}
	return createTableOutput{d}, nil
}

func (b *Backend) tableARN(name string) string {
	return "arn:aws:dynamodb:" + b.cfg.Region + ":" + b.cfg.Account + ":table/" + name
}

func (b *Backend) describeLocked(t *table) *TableDescription {
	m := t.meta
	d := &TableDescription{
		TableName: m.Name, TableArn: m.ARN, TableId: m.ID, TableStatus: "ACTIVE",
		AttributeDefinitions: m.AttributeDefinitions, KeySchema: m.KeySchema,
		CreationDateTime: awsproto.NewTimestamp(m.Created), ItemCount: int64(len(t.items)),
		DeletionProtectionEnabled: m.DeletionProtection, StreamSpecification: m.Stream,
	}
	for _, it := range t.items {
		d.TableSizeBytes += int64(it.storageSize())
	}
	if m.Provisioned != nil {
		d.ProvisionedThroughput = ProvisionedThroughputDescription{ReadCapacityUnits: m.Provisioned.ReadCapacityUnits, WriteCapacityUnits: m.Provisioned.WriteCapacityUnits}
	}
	if m.BillingMode == "PAY_PER_REQUEST" {
		d.BillingModeSummary = &BillingModeSummary{BillingMode: m.BillingMode, LastUpdateToPayPerRequestDateTime: awsproto.TimestampPtr(m.Created)}
	}
	if m.SSE != nil && m.SSE.Enabled != nil && *m.SSE.Enabled {
		key := m.SSE.KMSMasterKeyId
		if key == "" {
			key = "arn:aws:kms:" + b.cfg.Region + ":" + b.cfg.Account + ":key/" + m.ID
		} else if !strings.HasPrefix(key, "arn:") {
			key = "arn:aws:kms:" + b.cfg.Region + ":" + b.cfg.Account + ":key/" + key
		}
		d.SSEDescription = &SSEDescription{Status: "ENABLED", SSEType: "KMS", KMSMasterKeyArn: key}
	}
	if m.Stream != nil && m.Stream.StreamEnabled {
		label := m.Created.UTC().Format("2006-01-02T15:04:05.000")
		d.LatestStreamLabel = label
		d.LatestStreamArn = m.ARN + "/stream/" + label
	}
	if m.TableClass != "" {
		d.TableClassSummary = &TableClassSummary{TableClass: m.TableClass}
	}
	for _, l := range m.LSIs {
		view := t.indexView(l.IndexName)
		d.LocalSecondaryIndexes = append(d.LocalSecondaryIndexes, IndexDescription{
			IndexName: l.IndexName, IndexArn: m.ARN + "/index/" + l.IndexName, KeySchema: l.KeySchema,
			Projection: l.Projection, ItemCount: int64(len(view.items)),
		})
	}
	for _, g := range m.GSIs {
		view := t.indexView(g.IndexName)
		id := IndexDescription{
			IndexName: g.IndexName, IndexArn: m.ARN + "/index/" + g.IndexName, KeySchema: g.KeySchema,
			Projection: g.Projection, IndexStatus: "ACTIVE", ItemCount: int64(len(view.items)),
			ProvisionedThroughput: &ProvisionedThroughputDescription{},
		}
		if g.ProvisionedThroughput != nil {
			id.ProvisionedThroughput.ReadCapacityUnits = g.ProvisionedThroughput.ReadCapacityUnits
			id.ProvisionedThroughput.WriteCapacityUnits = g.ProvisionedThroughput.WriteCapacityUnits
		}
		d.GlobalSecondaryIndexes = append(d.GlobalSecondaryIndexes, id)
	}
	return d
}

// DescribeTable describes a table.
func (b *Backend) DescribeTable(ctx context.Context, name string) (*TableDescription, error) {
	if err := checkTableName(name); err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	t, ok := b.tables[name]
	if !ok {
		return nil, noSuchTable(name)
	}
	return b.describeLocked(t), nil
}

func (b *Backend) describeTable(ctx context.Context, in *tableNameInput) (any, error) {
	d, err := b.DescribeTable(ctx, in.TableName)
	if err != nil {
		return nil, err
	}
	return tableOutput{d}, nil
}

// DeleteTable deletes a table and its items.
func (b *Backend) DeleteTable(ctx context.Context, name string) (*TableDescription, error) {
	if err := checkTableName(name); err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	t, ok := b.tables[name]
	if !ok {
		return nil, noSuchTable(name)
	}
	if t.meta.DeletionProtection {
		return nil, validation("Resource cannot be deleted as it is currently protected against deletion. Disable deletion protection first.")
	}
	d := b.describeLocked(t)
	d.TableStatus = "DELETING"
	delete(b.tables, name)
	if err := b.saveCatalogLocked(); err != nil {
		b.tables[name] = t
		return nil, err
	}
	t.items = nil
	if err := b.cfg.Store.Delete(stateTablePrefix + name); err != nil {
		b.log.Error("remove deleted table's items", "table", name, "err", err)
	}
	b.log.Info("table deleted", "table", name)
	return d, nil
}

func (b *Backend) deleteTable(ctx context.Context, in *tableNameInput) (any, error) {
	d, err := b.DeleteTable(ctx, in.TableName)
	if err != nil {
		return nil, err
	}
	return createTableOutput{d}, nil
}

type updateTableInput struct {
	TableName                   string
	BillingMode                 string
	ProvisionedThroughput       *ProvisionedThroughput
	SSESpecification            *SSESpecification
	StreamSpecification         *StreamSpecification
	DeletionProtectionEnabled   *bool
	TableClass                  string
	AttributeDefinitions        []AttributeDefinition
	GlobalSecondaryIndexUpdates []any
	ReplicaUpdates              []any
}

// UpdateTable changes a table's settings (billing, throughput, SSE,
// streams, deletion protection, class).
func (b *Backend) UpdateTable(ctx context.Context, in *updateTableInput) (*TableDescription, error) {
	if err := checkTableName(in.TableName); err != nil {
		return nil, err
	}
	if len(in.GlobalSecondaryIndexUpdates) > 0 || len(in.ReplicaUpdates) > 0 {
		return nil, validation("localcloud does not support GlobalSecondaryIndexUpdates or ReplicaUpdates; delete and re-create the table")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	t, ok := b.tables[in.TableName]
	if !ok {
		return nil, noSuchTable(in.TableName)
	}
	m := t.meta
	if in.BillingMode != "" {
		if in.BillingMode != "PROVISIONED" && in.BillingMode != "PAY_PER_REQUEST" {
			return nil, awsproto.Validation(CodeValidation, enumViolation("billingMode", in.BillingMode, "PROVISIONED", "PAY_PER_REQUEST"))
		}
		m.BillingMode = in.BillingMode
		if in.BillingMode == "PAY_PER_REQUEST" {
			m.Provisioned = nil
		}
	}
	if in.ProvisionedThroughput != nil {
		if m.BillingMode == "PAY_PER_REQUEST" {
			return nil, validation("One or more parameter values were invalid: Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST")
		}
		m.Provisioned = in.ProvisionedThroughput
	} else if m.BillingMode == "PROVISIONED" && m.Provisioned == nil {
		return nil, validation("One or more parameter values were invalid: ProvisionedThroughput must be specified when BillingMode is PROVISIONED")
	}
	if in.SSESpecification != nil {
		m.SSE = in.SSESpecification
	}
	if in.StreamSpecification != nil {
		m.Stream = in.StreamSpecification
	}
	if in.DeletionProtectionEnabled != nil {
		m.DeletionProtection = *in.DeletionProtectionEnabled
	}
	if in.TableClass != "" {
		m.TableClass = in.TableClass
	}
	old := t.meta
	t.meta = m
	if err := b.saveCatalogLocked(); err != nil {
		t.meta = old
		return nil, err
	}
	d := b.describeLocked(t)
	d.TableStatus = "UPDATING"
	return d, nil
}

func (b *Backend) updateTable(ctx context.Context, in *updateTableInput) (any, error) {
	d, err := b.UpdateTable(ctx, in)
	if err != nil {
		return nil, err
	}
	return map[string]any{"TableDescription": d}, nil
}

type listTablesInput struct {
	ExclusiveStartTableName string
	Limit                   *int32
}

func (b *Backend) listTables(ctx context.Context, in *listTablesInput) (any, error) {
	limit := 100
	if in.Limit != nil {
		if *in.Limit < 1 || *in.Limit > 100 {
			return nil, awsproto.Validation(CodeValidation, awsproto.Violation{Field: "limit", Value: *in.Limit, Constraint: "Member must have value less than or equal to 100"})
		}
		limit = int(*in.Limit)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	names := []string{}
	var last string
	for _, n := range slices.Sorted(maps.Keys(b.tables)) {
		if n <= in.ExclusiveStartTableName {
			continue
		}
		if len(names) == limit {
			last = names[len(names)-1]
			break
		}
		names = append(names, n)
	}
	out := map[string]any{"TableNames": names}
	if last != "" {
		out["LastEvaluatedTableName"] = last
	}
	return out, nil
}

type updateBackupsInput struct {
	TableName                        string
	PointInTimeRecoverySpecification *PointInTimeRecoverySpecification
}

// UpdateContinuousBackups turns point-in-time recovery on or off (recorded
// only: there is nothing to restore from).
func (b *Backend) UpdateContinuousBackups(ctx context.Context, table string, enabled bool, periodDays int32) (*ContinuousBackupsDescription, error) {
	if err := checkTableName(table); err != nil {
		return nil, err
	}
	if periodDays != 0 && (periodDays < 1 || periodDays > 35) {
		return nil, validation("RecoveryPeriodInDays must be between 1 and 35")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	t, ok := b.tables[table]
	if !ok {
		return nil, noBackupsTable(table)
	}
	old := t.meta
	if enabled && !t.meta.PITR {
		t.meta.PITRSince = b.clock.Now()
	}
	t.meta.PITR = enabled
	if enabled {
		if periodDays == 0 {
			periodDays = 35
		}
		t.meta.PITRPeriod = periodDays
	}
	if err := b.saveCatalogLocked(); err != nil {
		t.meta = old
		return nil, err
	}
	return b.backupsLocked(t), nil
}

func (b *Backend) backupsLocked(t *table) *ContinuousBackupsDescription {
	d := &ContinuousBackupsDescription{ContinuousBackupsStatus: "ENABLED", PointInTimeRecoveryDescription: PointInTimeRecoveryDescription{PointInTimeRecoveryStatus: "DISABLED"}}
	if t.meta.PITR {
		now := b.clock.Now()
		d.PointInTimeRecoveryDescription = PointInTimeRecoveryDescription{
			PointInTimeRecoveryStatus:  "ENABLED",
			RecoveryPeriodInDays:       t.meta.PITRPeriod,
			EarliestRestorableDateTime: awsproto.TimestampPtr(t.meta.PITRSince),
			LatestRestorableDateTime:   awsproto.TimestampPtr(now),
		}
	}
	return d
}

func (b *Backend) updateContinuousBackups(ctx context.Context, in *updateBackupsInput) (any, error) {
	if in.PointInTimeRecoverySpecification == nil || in.PointInTimeRecoverySpecification.PointInTimeRecoveryEnabled == nil {
		return nil, awsproto.Validation(CodeValidation, awsproto.Required("pointInTimeRecoverySpecification.pointInTimeRecoveryEnabled"))
	}
	var period int32
	if p := in.PointInTimeRecoverySpecification.RecoveryPeriodInDays; p != nil {
		period = *p
		if period == 0 {
			period = -1
		}
	}
	d, err := b.UpdateContinuousBackups(ctx, in.TableName, *in.PointInTimeRecoverySpecification.PointInTimeRecoveryEnabled, period)
	if err != nil {
		return nil, err
	}
	return map[string]any{"ContinuousBackupsDescription": d}, nil
}

func (b *Backend) describeContinuousBackups(ctx context.Context, in *tableNameInput) (any, error) {
	if err := checkTableName(in.TableName); err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	t, ok := b.tables[in.TableName]
	if !ok {
		return nil, noBackupsTable(in.TableName)
	}
	return map[string]any{"ContinuousBackupsDescription": b.backupsLocked(t)}, nil
}

type updateTTLInput struct {
	TableName               string
	TimeToLiveSpecification *TimeToLiveSpecification
}

func (b *Backend) updateTimeToLive(ctx context.Context, in *updateTTLInput) (any, error) {
	if err := checkTableName(in.TableName); err != nil {
		return nil, err
	}
	if in.TimeToLiveSpecification == nil || in.TimeToLiveSpecification.AttributeName == "" {
		return nil, awsproto.Validation(CodeValidation, awsproto.Required("timeToLiveSpecification.attributeName"))
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	t, ok := b.tables[in.TableName]
	if !ok {
		return nil, noSuchTable(in.TableName)
	}
	if t.meta.TTL != nil && t.meta.TTL.Enabled == in.TimeToLiveSpecification.Enabled {
		if in.TimeToLiveSpecification.Enabled {
			return nil, validation("TimeToLive is already enabled")
		}
		return nil, validation("TimeToLive is already disabled")
	}
	old := t.meta.TTL
	spec := *in.TimeToLiveSpecification
	t.meta.TTL = &spec
	if err := b.saveCatalogLocked(); err != nil {
		t.meta.TTL = old
		return nil, err
	}
	return map[string]any{"TimeToLiveSpecification": spec}, nil
}

func (b *Backend) describeTimeToLive(ctx context.Context, in *tableNameInput) (any, error) {
	if err := checkTableName(in.TableName); err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	t, ok := b.tables[in.TableName]
	if !ok {
		return nil, noSuchTable(in.TableName)
	}
	d := map[string]any{"TimeToLiveStatus": "DISABLED"}
	if t.meta.TTL != nil && t.meta.TTL.Enabled {
		d = map[string]any{"TimeToLiveStatus": "ENABLED", "AttributeName": t.meta.TTL.AttributeName}
	}
	return map[string]any{"TimeToLiveDescription": d}, nil
}

type tagInput struct {
	ResourceArn string
	Tags        []Tag
}

type untagInput struct {
	ResourceArn string
	TagKeys     []string
}

type listTagsInput struct {
	ResourceArn string
	NextToken   string
}

func (b *Backend) tableByARNLocked(arn string) (*table, error) {
	for _, t := range b.tables {
		if t.meta.ARN == arn {
			return t, nil
		}
	}
	return nil, resourceNotFound("Requested resource not found: ResourcArn: " + arn + " not found")
}

func (b *Backend) tagResource(ctx context.Context, in *tagInput) (any, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	t, err := b.tableByARNLocked(in.ResourceArn)
	if err != nil {
		return nil, err
	}
	old := t.meta.Tags
	tags := slices.Clone(old)
	for _, nt := range in.Tags {
		tags = slices.DeleteFunc(tags, func(x Tag) bool { return x.Key == nt.Key })
		tags = append(tags, nt)
	}
	t.meta.Tags = tags
	if err := b.saveCatalogLocked(); err != nil {
		t.meta.Tags = old
		return nil, err
	}
	return struct{}{}, nil
}

func (b *Backend) untagResource(ctx context.Context, in *untagInput) (any, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	t, err := b.tableByARNLocked(in.ResourceArn)
	if err != nil {
		return nil, err
	}
	old := t.meta.Tags
	t.meta.Tags = slices.DeleteFunc(slices.Clone(old), func(x Tag) bool { return slices.Contains(in.TagKeys, x.Key) })
	if err := b.saveCatalogLocked(); err != nil {
		t.meta.Tags = old
		return nil, err
	}
	return struct{}{}, nil
}

func (b *Backend) listTagsOfResource(ctx context.Context, in *listTagsInput) (any, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	t, err := b.tableByARNLocked(in.ResourceArn)
	if err != nil {
		return nil, err
	}
	return map[string]any{"Tags": nonNil(t.meta.Tags)}, nil
}
