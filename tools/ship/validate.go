package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/shipyard-ecs/shipyard/platform/manifest"
)

func (a *app) validateCommand() *cobra.Command {
	var env string
	cmd := &cobra.Command{
		Use:   "validate",
		Short: "Check ship.yaml and print every problem at once",
		Long: `validate reads ship.yaml strictly (unknown keys, wrong types, values outside
AWS's limits) and resolves every environment, or the one --env names. It
prints each problem with its file, line, column and key, and exits 2 if there
is any.`,
		Example: `  ship validate
  ship validate --env production
  ship validate --manifest other.yaml`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.validate(env)
		},
	}
	a.envFlag(cmd, &env, "")
	return cmd
}

func (a *app) validate(env string) error {
	m, err := manifest.Load(a.manifestPath)
	if err != nil {
		return a.reportProblems(err)
	}
	envs := m.Environments()
	if env != "" {
		envs = []string{env}
	}
	var problems []manifest.Problem
	for _, e := range envs {
		if _, err := m.Spec(e); err != nil {
			var merr *manifest.Error
			if !errors.As(err, &merr) {
				return err
			}
			problems = append(problems, merr.Problems...)
		}
	}
	if len(problems) > 0 {
		return a.reportProblems(&manifest.Error{Problems: problems})
	}
	fmt.Fprintf(a.stdout, "%s: ok (%d environment(s): %v)\n", m.Path(), len(envs), envs)
	return nil
}

// reportProblems prints each problem on its own line and returns a
// configuration error that counts them.
func (a *app) reportProblems(err error) error {
	var merr *manifest.Error
	if !errors.As(err, &merr) {
		return usageError{err}
	}
	seen := map[string]bool{}
	n := 0
	for _, p := range merr.Problems {
		line := p.String()
		if seen[line] { // a top-level mistake shows once, not per environment
			continue
		}
		seen[line] = true
		n++
		fmt.Fprintln(a.stdout, line)
	}
	return usagef("%s has %d problem(s); fix them and run ship validate again", a.manifestPath, n)
}
