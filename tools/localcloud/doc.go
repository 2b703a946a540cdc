// Package main will be localcloud, an AWS-compatible local cloud that runs the
// whole stack on one machine: ECS blue/green with tasks as real processes, an
// ALB per listener as a reverse proxy, CloudWatch alarms, CloudFormation,
// EventBridge, Lambda, ECR, S3, DynamoDB and STS on one loopback port.
//
// Nothing lives here yet; see ../../docs/architecture.md for the plan.
package main
