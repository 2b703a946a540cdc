// Package platform is the domain: the resolved specification of one
// environment of the service and the rules it must satisfy. Its defaults are
// the seed's values (DESIGN §2), kept here and nowhere else; an environment in
// ship.yaml overrides only what it names.
//
// The layers built on it follow the manifest → renderer → deployer split:
//
//   - manifest reads ship.yaml strictly and resolves one environment to a Spec,
//     reporting every problem with its file, line and key;
//   - cfn is the typed CloudFormation template model, its structural checks
//     and the registry-schema validator;
//   - stack renders the bootstrap and environment templates from a Spec (and,
//     for an existing stack, the live forward configuration ECS owns);
//   - service builds the ECS service, task definition and auto scaling inputs
//     ship sends, from a Spec and the environment stack's outputs.
//
// The tools and the Lambda build on platform; it imports none of them.
package platform
