// Package dynamodb emulates Amazon DynamoDB over awsJson1_0 (target prefix
// DynamoDB_20120810), the protocol every SDK and the aws CLI speak to it.
//
// The rules, as on DynamoDB:
//   - Tables have a HASH key and an optional RANGE key of type S, N or B.
//     Items are kept ordered by hash key, then range key: strings by UTF-8
//     bytes, numbers by value, binaries by unsigned bytes. Query reads one
//     partition in range-key order (ScanIndexForward false reverses it);
//     Scan reads every partition in hash-key order.
//   - Numbers are exact decimals of up to 38 significant digits (magnitude
//     1e-130 to 1e126), compared and added as decimals, and returned in
//     canonical form ("1.50" comes back as "1.5").
//   - Condition, filter, key-condition, update and projection expressions
//     follow the documented grammar, with ExpressionAttributeNames and
//     ExpressionAttributeValues; every placeholder must be defined and used,
//     and reserved words need a placeholder. Errors are ValidationException
//     with DynamoDB's messages ("Invalid UpdateExpression: …").
//   - A failed ConditionExpression is ConditionalCheckFailedException and
//     changes nothing (with the old item when
//     ReturnValuesOnConditionCheckFailure is ALL_OLD).
//   - UpdateItem creates the item when it is missing; all SET values are
//     computed from the item as it was before the update.
//   - Limit counts items evaluated before the filter; LastEvaluatedKey is
//     returned when a page stops early (Limit or 1 MB) and more items
//     remain; ExclusiveStartKey resumes after it.
//   - TransactWriteItems is all or nothing: when any condition fails,
//     nothing is written and TransactionCanceledException lists a
//     CancellationReason per item, in request order. A ClientRequestToken
//     makes a repeated request a no-op for ten minutes.
//   - Every write is atomic and serialised per backend, so a conditional
//     write is a compare-and-set across concurrent clients.
//   - BillingMode, SSE, point-in-time recovery (UpdateContinuousBackups),
//     time to live, streams and tags are recorded and described, not acted
//     on; tables are ACTIVE as soon as CreateTable returns (its answer says
//     CREATING, as AWS's does).
//   - Tables and items persist in the state store, one document per table,
//     written before a write is acknowledged.
//
// The legacy parameters (Expected, AttributeUpdates, KeyConditions,
// QueryFilter, ScanFilter, ConditionalOperator) are refused with a
// ValidationException that names the expression to use instead.
package dynamodb
