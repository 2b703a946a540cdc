package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/shipyard-ecs/shipyard/platform"
	"github.com/shipyard-ecs/shipyard/platform/manifest"
)

// app is what every command shares: the output streams, the logger and the
// global flags.
type app struct {
	stdout, stderr io.Writer
	// stdin answers confirmations on a terminal.
	stdin        io.Reader
	logger       *slog.Logger
	manifestPath string
	verbose      bool
	// getenv reads the environment (AWS_ENDPOINT_URL, USER).
	getenv func(string) string
	// poll is the time between two looks at a deployment; 0 picks one
	// for the environment.
	poll time.Duration
}

// run parses args and runs the command they name.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return runEnv(ctx, args, stdout, stderr, os.Getenv)
}

// runEnv is run with the environment read through getenv.
func runEnv(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	a := &app{stdout: stdout, stderr: stderr, stdin: os.Stdin, getenv: getenv}
	root := a.rootCommand()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	return root.ExecuteContext(ctx)
}

// rootCommand builds the command tree. Cobra gives --help with examples and
// shell completion (ship completion bash|zsh|fish) for free.
func (a *app) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "ship",
		Short: "Deploy the service to ECS Fargate with native blue/green",
		Long: `ship renders and deploys the service described in ship.yaml.

Every environment command takes --env (default local). Exit codes: 0 success,
1 failure, 2 usage or configuration error; 3 rolled back by an alarm, 4 failed
health checks or hook, 5 timed out watching, 6 stopped on request, 7 another
deployment in flight, 130 interrupted watching (the deployment goes on). For
up and destroy, 5 and 130 are --timeout and Ctrl-C while they run: what they
started in AWS (a change set, a deletion, the first deployment) goes on.`,
		Example: `  ship up && ship deploy           # what make deploy runs, on the local cloud
  ship status --watch
  ship deploy --env production
  source <(ship completion bash)   # completion, --env included; also zsh and fish`,
		Version:       version + " (" + commit + ")",
		SilenceUsage:  true,
		SilenceErrors: true,
		// A bare "ship" prints help; an unknown command is a usage error.
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usagef("unknown command %q; run ship --help for the commands", args[0])
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error { return cmd.Help() },
		PersistentPreRun: func(cmd *cobra.Command, args []string) {
			level := slog.LevelInfo
			if a.verbose {
				level = slog.LevelDebug
			}
			a.logger = slog.New(slog.NewTextHandler(a.stderr, &slog.HandlerOptions{Level: level}))
		},
	}
	root.PersistentFlags().StringVar(&a.manifestPath, "manifest", manifest.DefaultPath, "the manifest `file`")
	root.PersistentFlags().BoolVarP(&a.verbose, "verbose", "v", false, "log debug detail to stderr")
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return usageError{fmt.Errorf("%w; run %s --help", err, cmd.CommandPath())}
	})
	root.PersistentFlags().DurationVar(&a.poll, "poll", 0, "time between two looks at a deployment (default 5s, scaled on the local cloud)")
	_ = root.PersistentFlags().MarkHidden("poll")
	root.AddCommand(a.templateCommand(), a.validateCommand(), a.deployCommand(), a.statusCommand(), a.rollbackCommand(), a.localCommand(), a.upCommand(), a.planCommand(), a.historyCommand(), a.logsCommand(), a.destroyCommand(), a.drillCommand())
	return root
}

// envFlag adds --env to an environment command, completing the manifest's
// environment names.
func (a *app) envFlag(cmd *cobra.Command, env *string, def string) {
	usage := "the environment, as named in the manifest"
	if def == "" {
		usage += " (default: every environment)"
	}
	cmd.Flags().StringVar(env, "env", def, usage)
	_ = cmd.RegisterFlagCompletionFunc("env", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		m, err := manifest.Load(a.manifestPath)
		if err != nil {
			return nil, cobra.ShellCompDirectiveError
		}
		return m.Environments(), cobra.ShellCompDirectiveNoFileComp
	})
}

// noArgs refuses positional arguments as a usage error.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usagef("%s takes no arguments, got %q; run %s --help", cmd.Name(), args, cmd.CommandPath())
	}
	return nil
}

// loadSpec loads the manifest and resolves one environment. Manifest
// problems are configuration errors (exit 2).
func (a *app) loadSpec(env string) (platform.Spec, error) {
	m, err := a.loadManifest()
	if err != nil {
		return platform.Spec{}, err
	}
	spec, err := m.Spec(env)
	if err != nil {
		return platform.Spec{}, usageError{err}
	}
	return spec, nil
}

// manifestDir is the directory of ship.yaml, the repository's root.
func (a *app) manifestDir() string { return filepath.Dir(a.manifestPath) }

func (a *app) loadManifest() (*manifest.Manifest, error) {
	m, err := manifest.Load(a.manifestPath)
	if err != nil {
		// Unreadable or invalid, the manifest is a configuration error.
		return nil, usageError{err}
	}
	return m, nil
}
