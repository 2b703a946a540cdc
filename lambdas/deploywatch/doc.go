// Package main will be deploywatch, the EventBridge-triggered Lambda (binary
// bootstrap, runtime provided.al2023) that records every ECS deployment and
// CloudWatch alarm event in the deployment ledger, enforces rollbacks, and
// answers the ECS lifecycle hook that smoke-tests a green revision.
//
// Nothing lives here yet; see ../../docs/architecture.md for the plan.
package main
