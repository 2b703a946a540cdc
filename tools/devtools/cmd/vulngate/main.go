// Command vulngate reads `govulncheck -format json` on stdin for one
// workspace module and fails when the code reaches a vulnerability that is
// not a reviewed, unexpired exception in the accept file.
//
//	govulncheck -format json ./... | vulngate -module services/app -accept tools/devtools/vuln-accepted.txt
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/shipyard-ecs/shipyard/tools/devtools/vulngate"
)

func main() {
	err := run(os.Args[1:], os.Stdin, os.Stdout, time.Now())
	switch {
	case errors.Is(err, flag.ErrHelp):
		os.Exit(2)
	case err != nil:
		fmt.Fprintln(os.Stderr, "vulngate:", err)
		os.Exit(1)
	}
}

func run(args []string, stdin io.Reader, stdout io.Writer, now time.Time) error {
	fs := flag.NewFlagSet("vulngate", flag.ContinueOnError)
	module := fs.String("module", "", "workspace `dir` of the scanned module, as the accept file names it")
	accept := fs.String("accept", "", "accept `file` of reviewed exceptions")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *module == "" || *accept == "" {
		fs.Usage()
		return errors.New("parse flags: give -module and -accept")
	}
	f, err := os.Open(*accept)
	if err != nil {
		return fmt.Errorf("open accept file: %w", err)
	}
	defer f.Close()
	exceptions, err := vulngate.ReadExceptions(f)
	if err != nil {
		return err
	}
	findings, err := vulngate.Read(stdin)
	if err != nil {
		return err
	}
	return vulngate.Report(stdout, *module, vulngate.Judge(*module, findings, exceptions, now))
}
