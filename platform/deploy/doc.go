// Package deploy is the deploy engine ship runs (DESIGN §4): it registers a
// task definition pinned by digest, updates the ECS service with that task
// definition and nothing else, finds the service deployment the update
// started, and watches it to its end — lifecycle stage, listener weights,
// target health per target group, alarm states and the bake countdown —
// then classifies the outcome.
//
// The engine never changes what ECS or Application Auto Scaling own: no
// desired count, no load balancers, no deployment configuration. It refuses
// to start while another deployment is in flight, and stopping a watch
// (cancelling its context) never stops the deployment.
//
// # Outcomes and exit codes
//
// Every outcome has a Class, and each class its own exit code, so scripts
// and CI can tell them apart:
//
//	0   succeeded (for a rollback: the rollback succeeded)
//	1   failed to run (an AWS error, a build error)
//	2   usage or configuration error (ship's own)
//	3   rolled back by an alarm
//	4   failed: tasks did not start or failed health checks, or a lifecycle hook failed
//	5   timed out watching; the deployment goes on (ship status --watch)
//	6   stopped or rolled back on request (StopServiceDeployment, ship rollback)
//	7   refused: another deployment is in flight; nothing changed
//	130 interrupted watching (Ctrl-C); the deployment goes on
package deploy
