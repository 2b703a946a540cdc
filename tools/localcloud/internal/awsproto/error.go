package awsproto

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// ErrorType says whose fault an error is, as query errors' <Type> does.
type ErrorType string

// The two fault types AWS reports.
const (
	Sender   ErrorType = "Sender"
	Receiver ErrorType = "Receiver"
)

// Error is an AWS API error. Backends return it for every failure a client
// should see; the protocol layer renders it.
type Error struct {
	// Code is the error code on the wire: the JSON __type of a JSON service,
	// the query <Code> (awsQueryError code) of a query service.
	Code    string
	Message string
	// Status is the HTTP status; 0 means 400.
	Status int
	// Type is Sender (the default) or Receiver.
	Type ErrorType
	// Shape is the error shape's name when it differs from Code, as it does
	// for query-compatible services (CloudWatch: shape
	// InvalidParameterValueException, code InvalidParameterValue). JSON and
	// CBOR then carry Shape as __type and Code in X-Amzn-Query-Error.
	Shape string
	// Fields are the error shape's other members (DynamoDB's
	// CancellationReasons, a failed condition's Item), rendered beside
	// __type and message in JSON and CBOR bodies.
	Fields map[string]any
}

func (e *Error) Error() string {
	if e.Message == "" {
		return e.Code
	}
	return e.Code + ": " + e.Message
}

// HTTPStatus is the status the error is answered with.
func (e *Error) HTTPStatus() int {
	if e.Status == 0 {
		return http.StatusBadRequest
	}
	return e.Status
}

func (e *Error) fault() ErrorType {
	if e.Type == "" {
		if e.HTTPStatus() >= 500 {
			return Receiver
		}
		return Sender
	}
	return e.Type
}

// body is the JSON or CBOR error document: __type, message and Fields.
func (e *Error) body(typ string) map[string]any {
	b := map[string]any{"__type": typ, "message": e.Message}
	for k, v := range e.Fields {
		if _, taken := b[k]; !taken {
			b[k] = v
		}
	}
	return b
}

// Errorf is a client (400, Sender) error with a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// asError turns any error into the *Error to render: backend errors pass
// through (also when wrapped), anything else is an internal failure.
func asError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Code: CodeInternalFailure, Message: "We encountered an internal error. Please try again.", Status: http.StatusInternalServerError, Type: Receiver}
}

// Codes the protocol layer itself answers with.
const (
	CodeUnknownOperation = "UnknownOperationException"
	CodeInvalidAction    = "InvalidAction"
	CodeMissingAction    = "MissingAction"
	CodeSerialization    = "SerializationException"
	CodeInternalFailure  = "InternalFailure"
	CodeValidation       = "ValidationException"
)

// UnknownOperation is the JSON and CBOR protocols' answer to an operation the
// service does not have.
func UnknownOperation() *Error {
	return &Error{Code: CodeUnknownOperation}
}

// InvalidAction is the query protocol's answer to an Action the service does
// not have.
func InvalidAction(action string) *Error {
	return Errorf(CodeInvalidAction, "The action %s is not valid for this web service.", action)
}

// Serialization reports a body that does not decode into the operation's input.
func Serialization(format string, args ...any) *Error {
	return Errorf(CodeSerialization, format, args...)
}

// Violation is one failed constraint in AWS's validation message.
type Violation struct {
	// Field is the member's wire name, as AWS prints it ('name', 'port').
	Field string
	// Value is the offending value; nil prints as null.
	Value any
	// Constraint completes "failed to satisfy constraint: ".
	Constraint string
}

// Required is the violation of a missing required member.
func Required(field string) Violation {
	return Violation{Field: field, Constraint: "Member must not be null"}
}

// Validation is AWS's framework validation error, e.g.
//
//	1 validation error detected: Value null at 'name' failed to satisfy
//	constraint: Member must not be null
//
// code is the service's code for it: ValidationError for ELBv2 and STS,
// ValidationException for JSON services.
func Validation(code string, vs ...Violation) *Error {
	parts := make([]string, len(vs))
	for i, v := range vs {
		val := "null"
		if v.Value != nil {
			val = fmt.Sprintf("'%v'", v.Value)
		}
		parts[i] = fmt.Sprintf("Value %s at '%s' failed to satisfy constraint: %s", val, v.Field, v.Constraint)
	}
	noun := "errors"
	if len(vs) == 1 {
		noun = "error"
	}
	return Errorf(code, "%d validation %s detected: %s", len(vs), noun, strings.Join(parts, "; "))
}
