package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

func TestParseFlags(t *testing.T) {
	// A relative --state is made absolute: tasks run in their own working
	// directory, and a relative image path there names nothing.
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		args    []string
		want    options
		wantErr bool
	}{
		{"defaults", nil, options{addr: "127.0.0.1:4566", stateDir: filepath.Join(wd, ".localcloud"), timeScale: 1, logLevel: slog.LevelInfo, portOffset: 8000, vpcProxy: "127.0.0.1:0"}, false},
		{"all set", []string{"--addr", "localhost:5000", "--state", "/tmp/s", "--time-scale", "0.05", "--log-level", "debug", "--listener-port-offset", "-1", "--vpc-proxy", "127.0.0.1:4580"},
			options{addr: "localhost:5000", stateDir: "/tmp/s", timeScale: 0.05, logLevel: slog.LevelDebug, portOffset: -1, vpcProxy: "127.0.0.1:4580"}, false},
		{"explicit offset is strict", []string{"--listener-port-offset", "9000"}, options{addr: "127.0.0.1:4566", stateDir: filepath.Join(wd, ".localcloud"), timeScale: 1, logLevel: slog.LevelInfo, portOffset: 9000, strictPorts: true, vpcProxy: "127.0.0.1:0"}, false},
		{"explicit offset, not strict", []string{"--listener-port-offset", "9000", "--strict-ports=false"}, options{addr: "127.0.0.1:4566", stateDir: filepath.Join(wd, ".localcloud"), timeScale: 1, logLevel: slog.LevelInfo, portOffset: 9000, vpcProxy: "127.0.0.1:0"}, false},
		{"strict default offset", []string{"--strict-ports"}, options{addr: "127.0.0.1:4566", stateDir: filepath.Join(wd, ".localcloud"), timeScale: 1, logLevel: slog.LevelInfo, portOffset: 8000, strictPorts: true, vpcProxy: "127.0.0.1:0"}, false},
		{"strict free ports", []string{"--strict-ports", "--listener-port-offset", "-1"}, options{}, true},
		{"relative state", []string{"--state", "a/../b"}, options{addr: "127.0.0.1:4566", stateDir: filepath.Join(wd, "b"), timeScale: 1, logLevel: slog.LevelInfo, portOffset: 8000, vpcProxy: "127.0.0.1:0"}, false},
		{"vpc proxy not loopback", []string{"--vpc-proxy", "0.0.0.0:3128"}, options{}, true},
		{"vpc proxy no port", []string{"--vpc-proxy", "127.0.0.1"}, options{}, true},
		{"not loopback", []string{"--addr", "0.0.0.0:4566"}, options{}, true},
		{"no port", []string{"--addr", "127.0.0.1"}, options{}, true},
		{"zero scale", []string{"--time-scale", "0"}, options{}, true},
		{"bad level", []string{"--log-level", "loud"}, options{}, true},
		{"bad offset", []string{"--listener-port-offset", "-2"}, options{}, true},
		{"stray argument", []string{"serve"}, options{}, true},
		{"empty state dir", []string{"--state", ""}, options{}, true},
		{"unknown flag", []string{"--nope"}, options{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseFlags(tt.args, io.Discard)
			if tt.wantErr {
				if !errors.Is(err, errUsage) {
					t.Errorf("parseFlags(%q) error = %v, want errUsage", tt.args, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseFlags(%q) error = %v", tt.args, err)
			}
			if got != tt.want {
				t.Errorf("parseFlags(%q) = %+v, want %+v", tt.args, got, tt.want)
			}
		})
	}
}

// TestRun starts localcloud on a free port, asks it who we are through the
// real SDK, and stops it by cancelling the context, as SIGTERM does.
func TestRun(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"--addr", "127.0.0.1:0", "--state", t.TempDir(), "--time-scale", "0.05", "--listener-port-offset", "-1", "--log-level", "warn"}, pw, io.Discard)
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("read banner: %v", err)
	}
	_, rest, ok := strings.Cut(line, "listening on ")
	if !ok {
		t.Fatalf("banner = %q, want it to say where it listens", line)
	}
	endpoint := strings.Fields(rest)[0]
	go io.Copy(io.Discard, pr) //nolint:errcheck // drain the rest of stdout
	c := sts.New(sts.Options{Region: "us-east-1", BaseEndpoint: aws.String(endpoint), Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")})
	out, err := c.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil || aws.ToString(out.Account) != "000000000000" {
		t.Fatalf("GetCallerIdentity = %v, %v", out, err)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run = %v, want nil after cancel", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("run did not return after cancel")
	}
}

// TestRunAddrInUse: when the API address is taken (another checkout's local
// cloud), run fails at once, naming the address and the flag to change.
func TestRunAddrInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	addr := ln.Addr().String()
	var stdout strings.Builder
	err = run(context.Background(), []string{"--addr", addr, "--state", t.TempDir(), "--listener-port-offset", "-1"}, &stdout, io.Discard)
	if !errors.Is(err, syscall.EADDRINUSE) || !strings.Contains(err.Error(), addr) || !strings.Contains(err.Error(), "--addr") || !strings.Contains(err.Error(), "/_localcloud/info") {
		t.Fatalf("run with %s taken = %v, want EADDRINUSE naming the address, --addr and /_localcloud/info", addr, err)
	}
	if stdout.Len() != 0 {
		t.Errorf("stdout = %q, want nothing: no banner for a localcloud that is not running", stdout.String())
	}
}
