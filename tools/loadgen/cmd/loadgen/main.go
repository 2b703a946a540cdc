// Command loadgen loads one URL and prints throughput and latency.
//
//	loadgen -url http://127.0.0.1:5000/health -c 32 -d 10s            # closed loop: saturation
//	loadgen -url http://127.0.0.1:5000/health -c 32 -d 10s -rate 5000 # open loop at 5000/s
//
// Only loopback and the machine's own addresses are meant as targets.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"

	"github.com/shipyard-ecs/shipyard/tools/loadgen"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, out io.Writer) error {
	var cfg loadgen.Config
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	fs.StringVar(&cfg.URL, "url", "http://127.0.0.1:5000/health", "URL to GET")
	fs.IntVar(&cfg.Conns, "c", 32, "keep-alive connections")
	fs.DurationVar(&cfg.Duration, "d", 10*time.Second, "measurement time")
	fs.DurationVar(&cfg.Warmup, "warmup", time.Second, "warmup before measuring")
	fs.Float64Var(&cfg.Rate, "rate", 0, "open-loop requests per second; 0 for closed loop")
	if err := fs.Parse(args); err != nil {
		return err
	}
	res, err := loadgen.Run(ctx, cfg)
	if err != nil {
		return err
	}
	mode := "closed loop"
	if cfg.Rate > 0 {
		mode = fmt.Sprintf("open loop at %.0f/s", cfg.Rate)
	}
	fmt.Fprintf(out, "%s, %d connections, %s: %d ok, %d errors, %d late\n", mode, cfg.Conns, res.Elapsed, res.Requests, res.Errors, res.Late)
	fmt.Fprintf(out, "requests/s %.0f  p50 %s  p90 %s  p99 %s  max %s\n", res.RPS(),
		res.Percentile(50), res.Percentile(90), res.Percentile(99), res.Percentile(100))
	return nil
}
