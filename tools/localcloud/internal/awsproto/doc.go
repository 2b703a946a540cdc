// Package awsproto is localcloud's wire layer: it speaks the protocols AWS
// clients send and leaves the rules to the service backends.
//
// A Mux routes each request by protocol, exactly as AWS clients address it:
//
//   - awsJson1_0 / awsJson1_1: POST with X-Amz-Target "<TargetPrefix>.<Op>"
//     (ECS, CloudWatch Logs, Application Auto Scaling, ECR, CloudWatch JSON).
//   - awsQuery: form-encoded Action and Version (ELBv2, STS, CloudWatch), answered
//     with <OpResponse><OpResult>…</OpResult></OpResponse> XML.
//   - rpcv2Cbor: POST /service/<Service>/operation/<Op> with Smithy-Protocol:
//     rpc-v2-cbor (CloudWatch, as the current aws-sdk-go-v2 sends it).
//   - plain http.Handlers mounted by path prefix (the OCI registry's /v2/).
//   - REST-XML services (S3) by SigV4 signing name, and as the fallback for
//     requests no other protocol claims.
//
// Backends return *Error for every failure a caller should see; the Mux renders
// it in the shape of the protocol the request came in (JSON __type, query
// <ErrorResponse>, CBOR __type), so SDK callers can errors.As the SDK's typed
// errors. Any other error is an InternalFailure.
package awsproto
