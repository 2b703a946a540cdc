// Package cloudformation emulates AWS CloudFormation over awsQuery
// (2010-05-15): stacks, change sets, stack events and resources, and the
// template engine behind them (parameters, conditions, mappings, the
// intrinsic functions and pseudo parameters, exports and imports).
//
// Stack operations run in the background in dependency order, as on AWS,
// and roll back on failure. Resources are provisioned by a Provisioner per
// type: types with a local meaning (load balancers, alarms, log groups,
// clusters, repositories, buckets, tables, queues, topics, rules, functions)
// call the other localcloud services through their real APIs, in process,
// with the aws-sdk-go-v2 clients; types with none (VPC, subnets, routes,
// security groups, IAM) are validated and recorded with realistic ids, ARNs
// and attributes. When registry schemas are loaded (LoadSchemas), resource
// properties are validated against them before anything is created and
// their createOnlyProperties decide between update in place and
// replacement.
package cloudformation
