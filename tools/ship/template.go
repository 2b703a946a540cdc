package main

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/spf13/cobra"

	"github.com/shipyard-ecs/shipyard/platform"
	"github.com/shipyard-ecs/shipyard/platform/drift"
	"github.com/shipyard-ecs/shipyard/platform/stack"
)

// liveReader reads the forward weights ECS left on an existing stack.
type liveReader interface {
	Read(ctx context.Context, stackName string) (stack.Live, error)
}

func (a *app) templateCommand() *cobra.Command {
	var (
		env, which string
		live       bool
	)
	cmd := &cobra.Command{
		Use:   "template",
		Short: "Print an environment's CloudFormation template as JSON",
		Long: `template renders one of the environment's two stacks from ship.yaml and prints
it as JSON. It is offline: no AWS call and no credentials, unless --live asks
it to read the forward weights ECS set on the listener rules of the existing
stack, which is what ship up sends so that an update never moves traffic.`,
		Example: `  ship template                          # the local environment stack
  ship template --env production --stack bootstrap
  ship template --env production --live  # with the weights ECS set`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if which != "bootstrap" && which != "environment" {
				return usagef("--stack %q is not a stack; want bootstrap or environment", which)
			}
			spec, err := a.loadSpec(env)
			if err != nil {
				return err
			}
			var reader liveReader
			if live {
				if which != "environment" {
					return usagef("--live reads the environment stack's listener rules; drop it for --stack bootstrap")
				}
				reader, err = a.awsLiveReader(cmd.Context(), spec)
				if err != nil {
					return err
				}
			}
			return a.template(cmd.Context(), spec, which, reader)
		},
	}
	a.envFlag(cmd, &env, "local")
	cmd.Flags().StringVar(&which, "stack", "environment", "which stack: bootstrap or environment")
	cmd.Flags().BoolVar(&live, "live", false, "read the live forward weights of the existing stack first (needs AWS credentials)")
	_ = cmd.RegisterFlagCompletionFunc("stack", cobra.FixedCompletions([]string{"bootstrap", "environment"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// template renders and prints one stack; reader is nil when offline.
func (a *app) template(ctx context.Context, spec platform.Spec, which string, reader liveReader) error {
	var (
		st  *stack.Stack
		err error
	)
	if which == "bootstrap" {
		st, err = stack.Bootstrap(spec)
	} else {
		var in stack.Inputs
		if reader != nil {
			name := stack.EnvironmentName(spec)
			if in.Live, err = reader.Read(ctx, name); err != nil {
				return fmt.Errorf("read the live forward configuration of %s: %w", name, err)
			}
		}
		st, err = stack.Environment(spec, in)
	}
	if err != nil {
		return err
	}
	doc, err := st.JSON()
	if err != nil {
		return err
	}
	_, err = a.stdout.Write(doc)
	return err
}

// awsLiveReader builds the reader from the standard AWS configuration
// (environment, profile; AWS_ENDPOINT_URL reaches the local cloud) in the
// environment's region.
func (a *app) awsLiveReader(ctx context.Context, spec platform.Spec) (liveReader, error) {
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion(spec.Region))
	if err != nil {
		return nil, fmt.Errorf("load AWS configuration: %w (set AWS_PROFILE or credentials, or drop --live)", err)
	}
	return drift.NewReader(cloudformation.NewFromConfig(cfg), elasticloadbalancingv2.NewFromConfig(cfg), a.logger), nil
}
