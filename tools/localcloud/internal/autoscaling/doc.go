// Package autoscaling emulates Application Auto Scaling for ECS services
// (service namespace "ecs", dimension "ecs:service:DesiredCount") in JSON
// 1.1: scalable targets, scaling policies and scaling activities.
//
// Target tracking on ECSServiceAverageCPUUtilization and
// ECSServiceAverageMemoryUtilization really changes the service's desired
// count. Each metric period (one minute, scaled by the clock) the scaler
// reads the service's average utilization and, as the alarms AWS creates
// for a target-tracking policy would:
//   - scales out after 3 consecutive periods above the target, to
//     ceil(desired × metric / target), at most MaxCapacity, once the scale-out
//     cooldown has passed;
//   - scales in after 15 consecutive periods below 90% of the target, never
//     while a deployment of the service is in flight (as on AWS), never
//     when DisableScaleIn is set, at least MinCapacity, once the scale-in
//     cooldown has passed.
//
// Registering a scalable target clamps the service's desired count into
// [MinCapacity, MaxCapacity] at once. Step scaling policies and other metric
// types are accepted and recorded but not acted on; the CloudWatch alarms
// AWS would create for a target-tracking policy are named in the response
// but not created.
package autoscaling
