package dynamodb

import (
	"fmt"
	"regexp"

	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/awsproto"
)

// The DynamoDB error codes this emulator answers, as the SDK's types name
// them (the JSON __type).
const (
	CodeValidation               = "ValidationException"
	CodeResourceNotFound         = "ResourceNotFoundException"
	CodeResourceInUse            = "ResourceInUseException"
	CodeConditionalCheckFailed   = "ConditionalCheckFailedException"
	CodeTransactionCanceled      = "TransactionCanceledException"
	CodeIdempotentParameterMatch = "IdempotentParameterMismatchException"
	CodeTableNotFound            = "TableNotFoundException"
)

// Cancellation reason codes of TransactionCanceledException.
const (
	ReasonNone                   = "None"
	ReasonConditionalCheckFailed = "ConditionalCheckFailed"
	ReasonValidation             = "ValidationError"
)

func validation(format string, args ...any) *awsproto.Error {
	return &awsproto.Error{Code: CodeValidation, Message: fmt.Sprintf(format, args...)}
}

func resourceNotFound(msg string) *awsproto.Error {
	return &awsproto.Error{Code: CodeResourceNotFound, Message: msg}
}

// tableNotFound is the item operations' answer for a missing table.
func tableNotFound() *awsproto.Error { return resourceNotFound("Requested resource not found") }

// noSuchTable is the table operations' answer for a missing table (Describe,
// Update, Delete, TimeToLive): unlike the item operations', it names it.
func noSuchTable(name string) *awsproto.Error {
	return resourceNotFound("Requested resource not found: Table: " + name + " not found")
}

// noBackupsTable is the continuous-backups operations' answer for a missing
// table, a TableNotFoundException of their own.
func noBackupsTable(name string) *awsproto.Error {
	return &awsproto.Error{Code: CodeTableNotFound, Message: "Table not found: " + name}
}

func conditionalCheckFailed(item Item) *awsproto.Error {
	e := &awsproto.Error{Code: CodeConditionalCheckFailed, Message: "The conditional request failed"}
	if item != nil {
		e.Fields = map[string]any{"Item": item}
	}
	return e
}

var tableNameRE = regexp.MustCompile(`^[a-zA-Z0-9_.-]+$`)

// checkTableName applies the framework's constraints on a table name, in its
// words ('tableName' is the member's wire name in messages).
func checkTableName(name string) error {
	var vs []awsproto.Violation
	switch name {
	case "":
		vs = append(vs, awsproto.Required("tableName"))
	default:
		if len(name) < 3 {
			vs = append(vs, awsproto.Violation{Field: "tableName", Value: name, Constraint: "Member must have length greater than or equal to 3"})
		}
		if len(name) > 255 {
			vs = append(vs, awsproto.Violation{Field: "tableName", Value: name, Constraint: "Member must have length less than or equal to 255"})
		}
		if !tableNameRE.MatchString(name) {
			vs = append(vs, awsproto.Violation{Field: "tableName", Value: name, Constraint: "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"})
		}
	}
	if len(vs) > 0 {
		return awsproto.Validation(CodeValidation, vs...)
	}
	return nil
}
