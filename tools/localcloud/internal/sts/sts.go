// Package sts emulates the AWS Security Token Service's GetCallerIdentity
// over awsQuery. Every request is accepted with any credentials and answered
// as the account's root user.
package sts

import (
	"context"
	"net/url"

	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/awsproto"
)

// Account is the one account localcloud pretends to be.
const Account = "000000000000"

// Backend answers STS calls.
type Backend struct{}

// Register adds STS (query, 2011-06-15) to the mux.
func (b *Backend) Register(m *awsproto.Mux) {
	m.HandleQuery(awsproto.QueryService{
		Version:        "2011-06-15",
		SigningName:    "sts",
		XMLNamespace:   "https://sts.amazonaws.com/doc/2011-06-15/",
		ValidationCode: "ValidationError",
		Ops: map[string]awsproto.QueryOp{
			"GetCallerIdentity": b.getCallerIdentity,
		},
	})
}

type callerIdentity struct {
	Arn     string
	UserId  string
	Account string
}

func (b *Backend) getCallerIdentity(context.Context, url.Values) (any, error) {
	return callerIdentity{Arn: "arn:aws:iam::" + Account + ":root", UserId: Account, Account: Account}, nil
}
