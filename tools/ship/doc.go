// Package main will be ship, the deploy CLI app developers use: up, plan,
// deploy, status, rollback, history, logs, drill, destroy, local, template
// and validate.
//
// Nothing lives here yet; see ../../docs/architecture.md for the plan.
package main
