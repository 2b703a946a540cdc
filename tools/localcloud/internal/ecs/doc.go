// Package ecs emulates Amazon ECS for Fargate-style services: clusters, task
// definitions, services, tasks, service revisions and service deployments,
// answered in JSON 1.1 with ECS's error codes.
//
// What is real: tasks are processes started by the task runner from the
// pushed image; the service scheduler keeps each service at its desired count,
// replaces tasks that exit or fail their target group's health checks, and
// registers and deregisters task addresses in ELBv2 target groups. Stopping a
// task deregisters it, waits the target group's deregistration delay, then
// sends SIGTERM and, after the container's stopTimeout, SIGKILL.
//
// Deployments follow the service's strategy:
//   - ROLLING (the default): each scheduler tick starts new tasks into the
//     room maximumPercent leaves and drains old ones while the new keep
//     minimumHealthyPercent healthy.
//   - BLUE_GREEN: the native ECS lifecycle, PRE_SCALE_UP → SCALE_UP (green
//     tasks registered in the alternate target group) → POST_SCALE_UP →
//     TEST_TRAFFIC_SHIFT → POST_TEST_TRAFFIC_SHIFT → PRODUCTION_TRAFFIC_SHIFT
//     (the production rule's weights flipped to green) →
//     POST_PRODUCTION_TRAFFIC_SHIFT → BAKE_TIME → CLEAN_UP (blue drained and
//     stopped). Green must be healthy before traffic moves. Deployment alarms
//     are watched from the test traffic shift to the end of the bake; an alarm
//     already in ALARM when the deployment starts is ignored for it. An alarm
//     (with rollback on), green tasks that cannot become healthy, invalid
//     blue/green wiring, or StopServiceDeployment(ROLLBACK) roll back: the
//     weights return to blue, green is drained, and the service deployment
//     ends ROLLBACK_SUCCESSFUL with rollback.reason.
//
// Lifecycle hooks: AWS_LAMBDA hooks run through Config.Hooks (the Lambda
// integration plugs in there; without it they are recorded as SUCCEEDED),
// PAUSE hooks wait for ContinueServiceDeployment or their timeout, and a
// rollback re-invokes the traffic-shift hooks. Every task state change,
// deployment state change, hook state change and service action goes
// through one place and is reported to Config.OnEvent, so an EventBridge
// emitter can be attached.
package ecs
