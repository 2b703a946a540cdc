package awsproto

import (
	"context"
	"net/url"
)

// Op is an operation with a typed input, for services that answer more than
// one protocol (CloudWatch speaks query, JSON 1.0 and CBOR): one function,
// adapted to each. Input members decode by Go field name in every protocol
// (json/cbor tags may rename them; query uses `query` tags).
type Op[In any] func(ctx context.Context, in *In) (any, error)

// JSON adapts the op to a JSON service.
func (f Op[In]) JSON() JSONOp {
	return func(ctx context.Context, body []byte) (any, error) {
		var in In
		if err := DecodeJSON(body, &in); err != nil {
			return nil, err
		}
		return f(ctx, &in)
	}
}

// Query adapts the op to a query service.
func (f Op[In]) Query() QueryOp {
	return func(ctx context.Context, params url.Values) (any, error) {
		var in In
		if err := DecodeQuery(params, &in); err != nil {
			return nil, err
		}
		return f(ctx, &in)
	}
}

// CBOR adapts the op to an rpcv2Cbor service.
func (f Op[In]) CBOR() CBOROp {
	return func(ctx context.Context, body []byte) (any, error) {
		var in In
		if err := DecodeCBOR(body, &in); err != nil {
			return nil, err
		}
		return f(ctx, &in)
	}
}
