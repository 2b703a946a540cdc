// Package platform will be the domain: the service and stack spec whose
// defaults are the seed's values, the CloudFormation renderer, the deploy
// engine, the deployment ledger and thin per-service AWS wrappers. The tools
// and the Lambda build on it; it imports none of them.
//
// Nothing lives here yet; see ../docs/architecture.md for the plan.
package platform
