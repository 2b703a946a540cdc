package cloudformation

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"strings"
)

// Request is what a provisioner gets to create or update one resource.
type Request struct {
	StackName, StackID string
	LogicalID          string
	Type               string
	// Properties are evaluated: no intrinsic functions remain.
	Properties map[string]any
	Region     string
	Account    string
}

// Result is a provisioned resource: its physical id (what Ref returns) and
// the attributes Fn::GetAtt reads.
type Result struct {
	PhysicalID string
	Attributes map[string]any
}

// Provisioner creates, updates in place and deletes one resource type.
// Errors are the reason the stack events show.
type Provisioner interface {
	Create(ctx context.Context, r *Request) (Result, error)
	// Update changes the resource in place; prev is what Create or the last
	// Update returned, old the properties it was made with.
	Update(ctx context.Context, r *Request, prev Result, old map[string]any) (Result, error)
	Delete(ctx context.Context, r *Request, prev Result) error
}

// awsError is an error worded as CloudFormation words it in stack events
// and API answers (capitalised, punctuated), so callers and tests see AWS's
// text.
type awsError struct{ err error }

func (e awsError) Error() string { return e.err.Error() }
func (e awsError) Unwrap() error { return errors.Unwrap(e.err) }

// msgf is fmt.Errorf for CloudFormation's own messages; %w wraps as usual.
func msgf(format string, args ...any) error { return awsError{fmt.Errorf(format, args...)} }

// notSupported is the failure of a resource whose service this localcloud
// does not serve (yet).
func notSupported(typ, why string) error {
	return msgf("%s is not supported yet by localcloud: %s", typ, why)
}

// physicalName is the name CloudFormation generates for a resource whose
// name property is unset: stack-logical-RANDOM, cut to max characters.
func physicalName(stack, logical string, limit int, lower bool) string {
	suffix := randomUpper(12)
	if lower {
		suffix = strings.ToLower(suffix)
	}
	base := stack + "-" + logical
	if room := limit - len(suffix) - 1; len(base) > room && room > 0 {
		base = base[:room]
	}
	name := base + "-" + suffix
	if lower {
		name = strings.ToLower(name)
	}
	return name
}

const upperAlnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

func randomUpper(n int) string {
	b := make([]byte, n)
	for i := range b {
		j, _ := rand.Int(rand.Reader, big.NewInt(int64(len(upperAlnum))))
		b[i] = upperAlnum[j.Int64()]
	}
	return string(b)
}

func randomHex(n int) string {
	b := make([]byte, (n+1)/2)
	rand.Read(b)
	return hex.EncodeToString(b)[:n]
}

func newUUID() string {
	h := randomHex(32)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// str reads a string property.
func str(props map[string]any, key string) string {
	v, ok := props[key]
	if !ok {
		return ""
	}
	return scalarString(v)
}
