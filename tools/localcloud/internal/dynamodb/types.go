package dynamodb

import "github.com/shipyard-ecs/shipyard/tools/localcloud/internal/awsproto"

// Wire shapes, named and spelled as in the DynamoDB API reference.

type AttributeDefinition struct {
	AttributeName string
	AttributeType string
}

type KeySchemaElement struct {
	AttributeName string
	KeyType       string
}

type ProvisionedThroughput struct {
	ReadCapacityUnits  int64
	WriteCapacityUnits int64
}

type Projection struct {
	ProjectionType   string   `json:",omitempty"`
	NonKeyAttributes []string `json:",omitempty"`
}

type GlobalSecondaryIndex struct {
	IndexName             string
	KeySchema             []KeySchemaElement
	Projection            Projection
	ProvisionedThroughput *ProvisionedThroughput `json:",omitempty"`
}

type LocalSecondaryIndex struct {
	IndexName  string
	KeySchema  []KeySchemaElement
	Projection Projection
}

type SSESpecification struct {
	Enabled        *bool  `json:",omitempty"`
	SSEType        string `json:",omitempty"`
	KMSMasterKeyId string `json:",omitempty"`
}

type StreamSpecification struct {
	StreamEnabled  bool
	StreamViewType string `json:",omitempty"`
}

type Tag struct {
	Key   string
	Value string
}

type PointInTimeRecoverySpecification struct {
	PointInTimeRecoveryEnabled *bool
	RecoveryPeriodInDays       *int32 `json:",omitempty"`
}

type TimeToLiveSpecification struct {
	AttributeName string
	Enabled       bool
}

// CreateTableInput is CreateTable's request.
type CreateTableInput struct {
	TableName                 string
	AttributeDefinitions      []AttributeDefinition
	KeySchema                 []KeySchemaElement
	BillingMode               string
	ProvisionedThroughput     *ProvisionedThroughput
	GlobalSecondaryIndexes    []GlobalSecondaryIndex
	LocalSecondaryIndexes     []LocalSecondaryIndex
	SSESpecification          *SSESpecification
	StreamSpecification       *StreamSpecification
	Tags                      []Tag
	DeletionProtectionEnabled *bool
	TableClass                string
}

type ProvisionedThroughputDescription struct {
	NumberOfDecreasesToday int64
	ReadCapacityUnits      int64
	WriteCapacityUnits     int64
}

type BillingModeSummary struct {
	BillingMode                       string
	LastUpdateToPayPerRequestDateTime *awsproto.Timestamp `json:",omitempty"`
}

type SSEDescription struct {
	Status          string
	SSEType         string `json:",omitempty"`
	KMSMasterKeyArn string `json:",omitempty"`
}

type IndexDescription struct {
	IndexName             string
	IndexArn              string
	KeySchema             []KeySchemaElement
	Projection            Projection
	IndexStatus           string                            `json:",omitempty"`
	IndexSizeBytes        int64                             `json:"IndexSizeBytes"`
	ItemCount             int64                             `json:"ItemCount"`
	ProvisionedThroughput *ProvisionedThroughputDescription `json:",omitempty"`
}

type TableClassSummary struct {
	TableClass string
}

// TableDescription is DescribeTable's (and CreateTable's, DeleteTable's)
// table.
type TableDescription struct {
	TableName                 string
	TableArn                  string
	TableId                   string
	TableStatus               string
	AttributeDefinitions      []AttributeDefinition
	KeySchema                 []KeySchemaElement
	CreationDateTime          awsproto.Timestamp
	ItemCount                 int64
	TableSizeBytes            int64
	ProvisionedThroughput     ProvisionedThroughputDescription
	BillingModeSummary        *BillingModeSummary  `json:",omitempty"`
	GlobalSecondaryIndexes    []IndexDescription   `json:",omitempty"`
	LocalSecondaryIndexes     []IndexDescription   `json:",omitempty"`
	SSEDescription            *SSEDescription      `json:",omitempty"`
	StreamSpecification       *StreamSpecification `json:",omitempty"`
	LatestStreamArn           string               `json:",omitempty"`
	LatestStreamLabel         string               `json:",omitempty"`
	TableClassSummary         *TableClassSummary   `json:",omitempty"`
	DeletionProtectionEnabled bool
}

type PointInTimeRecoveryDescription struct {
	PointInTimeRecoveryStatus  string
	RecoveryPeriodInDays       int32               `json:",omitempty"`
	EarliestRestorableDateTime *awsproto.Timestamp `json:",omitempty"`
	LatestRestorableDateTime   *awsproto.Timestamp `json:",omitempty"`
}

type ContinuousBackupsDescription struct {
	ContinuousBackupsStatus        string
	PointInTimeRecoveryDescription PointInTimeRecoveryDescription
}

type ConsumedCapacity struct {
	TableName     string
	CapacityUnits float64
}

// Item operations' requests.

type GetItemInput struct {
	TableName                string
	Key                      Item
	ProjectionExpression     *string
	ExpressionAttributeNames map[string]string
	AttributesToGet          []string
	ConsistentRead           bool
	ReturnConsumedCapacity   string
}

type PutItemInput struct {
	TableName                           string
	Item                                Item
	ConditionExpression                 *string
	ExpressionAttributeNames            map[string]string
	ExpressionAttributeValues           map[string]Value
	ReturnValues                        string
	ReturnValuesOnConditionCheckFailure string
	ReturnConsumedCapacity              string
	ReturnItemCollectionMetrics         string
	Expected                            map[string]any
	ConditionalOperator                 string
}

type DeleteItemInput struct {
	TableName                           string
	Key                                 Item
	ConditionExpression                 *string
	ExpressionAttributeNames            map[string]string
	ExpressionAttributeValues           map[string]Value
	ReturnValues                        string
	ReturnValuesOnConditionCheckFailure string
	ReturnConsumedCapacity              string
	ReturnItemCollectionMetrics         string
	Expected                            map[string]any
	ConditionalOperator                 string
}

type UpdateItemInput struct {
	TableName                           string
	Key                                 Item
	UpdateExpression                    *string
	ConditionExpression                 *string
	ExpressionAttributeNames            map[string]string
	ExpressionAttributeValues           map[string]Value
	ReturnValues                        string
	ReturnValuesOnConditionCheckFailure string
	ReturnConsumedCapacity              string
	ReturnItemCollectionMetrics         string
	AttributeUpdates                    map[string]any
	Expected                            map[string]any
	ConditionalOperator                 string
}

type QueryInput struct {
	TableName                 string
	IndexName                 string
	KeyConditionExpression    *string
	FilterExpression          *string
	ProjectionExpression      *string
	ExpressionAttributeNames  map[string]string
	ExpressionAttributeValues map[string]Value
	ScanIndexForward          *bool
	Limit                     *int32
	ExclusiveStartKey         Item
	Select                    string
	ConsistentRead            bool
	ReturnConsumedCapacity    string
	AttributesToGet           []string
	KeyConditions             map[string]any
	QueryFilter               map[string]any
	ConditionalOperator       string
}

type ScanInput struct {
	TableName                 string
	IndexName                 string
	FilterExpression          *string
	ProjectionExpression      *string
	ExpressionAttributeNames  map[string]string
	ExpressionAttributeValues map[string]Value
	Limit                     *int32
	ExclusiveStartKey         Item
	Select                    string
	Segment                   *int32
	TotalSegments             *int32
	ConsistentRead            bool
	ReturnConsumedCapacity    string
	AttributesToGet           []string
	ScanFilter                map[string]any
	ConditionalOperator       string
}

type QueryOutput struct {
	Items            []Item `json:",omitempty"`
	Count            int32
	ScannedCount     int32
	LastEvaluatedKey Item              `json:",omitempty"`
	ConsumedCapacity *ConsumedCapacity `json:",omitempty"`
}

type WriteRequest struct {
	PutRequest    *struct{ Item Item } `json:",omitempty"`
	DeleteRequest *struct{ Key Item }  `json:",omitempty"`
}

type BatchWriteItemInput struct {
	RequestItems                map[string][]WriteRequest
	ReturnConsumedCapacity      string
	ReturnItemCollectionMetrics string
}

type KeysAndAttributes struct {
	Keys                     []Item
	ProjectionExpression     *string
	ExpressionAttributeNames map[string]string
	AttributesToGet          []string
	ConsistentRead           bool
}

type BatchGetItemInput struct {
	RequestItems           map[string]KeysAndAttributes
	ReturnConsumedCapacity string
}

// TransactWriteItem is one action of TransactWriteItems; exactly one
// member is set.
type TransactWriteItem struct {
	ConditionCheck *TransactCondition `json:",omitempty"`
	Put            *TransactPut       `json:",omitempty"`
	Delete         *TransactDelete    `json:",omitempty"`
	Update         *TransactUpdate    `json:",omitempty"`
}

type TransactCondition struct {
	TableName                           string
	Key                                 Item
	ConditionExpression                 *string
	ExpressionAttributeNames            map[string]string
	ExpressionAttributeValues           map[string]Value
	ReturnValuesOnConditionCheckFailure string
}

type TransactPut struct {
	TableName                           string
	Item                                Item
	ConditionExpression                 *string
	ExpressionAttributeNames            map[string]string
	ExpressionAttributeValues           map[string]Value
	ReturnValuesOnConditionCheckFailure string
}

type TransactDelete struct {
	TableName                           string
	Key                                 Item
	ConditionExpression                 *string
	ExpressionAttributeNames            map[string]string
	ExpressionAttributeValues           map[string]Value
	ReturnValuesOnConditionCheckFailure string
}

type TransactUpdate struct {
	TableName                           string
	Key                                 Item
	UpdateExpression                    *string
	ConditionExpression                 *string
	ExpressionAttributeNames            map[string]string
	ExpressionAttributeValues           map[string]Value
	ReturnValuesOnConditionCheckFailure string
}

type TransactWriteItemsInput struct {
	TransactItems               []TransactWriteItem
	ClientRequestToken          string
	ReturnConsumedCapacity      string
	ReturnItemCollectionMetrics string
}

type TransactGetItem struct {
	Get *struct {
		TableName                string
		Key                      Item
		ProjectionExpression     *string
		ExpressionAttributeNames map[string]string
	}
}

type TransactGetItemsInput struct {
	TransactItems          []TransactGetItem
	ReturnConsumedCapacity string
}

// CancellationReason is one entry of TransactionCanceledException's
// CancellationReasons, in the order of the request's items.
type CancellationReason struct {
	Code    string
	Message string `json:",omitempty"`
	Item    Item   `json:",omitempty"`
}
