package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
)

// The local cloud ship runs in the background for the local environment:
// tools/localcloud, bound to loopback, with everything it keeps in
// .localcloud/ beside ship.yaml (git-ignored):
//
//	.localcloud/local.json    the pid, address, time scale and listener port offset
//	.localcloud/localcloud.log its output
//	.localcloud/state/        its state, kept across restarts
//	.localcloud/bin/localcloud the binary, when ship had to build it
//
// The binary is found next to ship (make build puts both in bin/), then in
// bin/ beside ship.yaml; failing both, ship builds it from the checkout with
// go build, once.

// localEnv is the environment the local cloud serves.
const localEnv = "local"

// localState is .localcloud/local.json.
type localState struct {
	Pid        int     `json:"pid"`
	Addr       string  `json:"addr"`
	TimeScale  float64 `json:"timeScale"`
	PortOffset int     `json:"listenerPortOffset"`
	Log        string  `json:"log"`
	Binary     string  `json:"binary"`
}

// localOptions are ship local up's settings.
type localOptions struct {
	addr       string
	timeScale  float64
	portOffset int
}

func defaultLocalOptions() localOptions {
	return localOptions{addr: "127.0.0.1:4566", timeScale: 0.1, portOffset: 8000}
}

// localDir is .localcloud beside the manifest, absolute: the local cloud
// runs its tasks in directories of their own and must find its state from
// there.
func (a *app) localDir() string {
	dir := filepath.Join(filepath.Dir(a.manifestPath), ".localcloud")
	if abs, err := filepath.Abs(dir); err == nil {
		return abs
	}
	return dir
}

func (a *app) localCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "local",
		Short: "Start, stop or show the local cloud the local environment runs on",
		Long: `local manages tools/localcloud, the AWS-compatible local cloud, in the
background: bound to loopback, its state, pid and log in .localcloud/ beside
ship.yaml. Commands for the local environment start it when it is not running.`,
		Example: `  ship local up                    # 127.0.0.1:4566, time scale 0.1
  ship local up --time-scale 0.05  # a blue/green deployment in seconds
  ship local status
  ship local down`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	o := defaultLocalOptions()
	up := &cobra.Command{
		Use:   "up",
		Short: "Start the local cloud in the background",
		Example: `  ship local up                       # 127.0.0.1:4566, listeners on 8000+port
  ship local up --time-scale 0.05     # a blue/green deployment in seconds
  ship local up --addr 127.0.0.1:4600 --listener-port-offset 9000`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			st, started, err := a.localUp(cmd.Context(), o)
			if err != nil {
				return err
			}
			verb := "already running"
			if started {
				verb = "started"
			}
			fmt.Fprintf(a.stdout, "localcloud %s: http://%s (pid %d, time scale %g, log %s)\n", verb, st.Addr, st.Pid, st.TimeScale, st.Log)
			return nil
		},
	}
	up.Flags().StringVar(&o.addr, "addr", o.addr, "loopback `host:port` to serve the AWS APIs on")
	up.Flags().Float64Var(&o.timeScale, "time-scale", o.timeScale, "compress every AWS duration by this `factor`")
	up.Flags().IntVar(&o.portOffset, "listener-port-offset", o.portOffset, "serve load balancer port P on loopback port P+`N`")
	down := &cobra.Command{
		Use:   "down",
		Short: "Stop the local cloud (its state stays in .localcloud/state)",
		Example: `  ship local down
  ship local down && rm -rf .localcloud   # start again from nothing`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			stopped, err := a.localDown(cmd.Context())
			if err != nil {
				return err
			}
			if stopped {
				fmt.Fprintln(a.stdout, "localcloud stopped")
			} else {
				fmt.Fprintln(a.stdout, "localcloud is not running")
			}
			return nil
		},
	}
	status := &cobra.Command{
		Use:   "status",
		Short: "Show whether the local cloud runs, and where",
		Example: `  ship local status
  tail -f .localcloud/localcloud.log     # what it does`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			st, ok := a.localRunning(cmd.Context())
			if !ok && st.Pid > 0 {
				fmt.Fprintf(a.stdout, "localcloud is not running: pid %d of %s has exited, or is not what answers %s; ship local up starts it (its last log: %s)\n",
					st.Pid, filepath.Join(a.localDir(), "local.json"), st.Addr, st.Log)
				return nil
			}
			if !ok {
				fmt.Fprintln(a.stdout, "localcloud is not running; ship local up starts it")
				return nil
			}
			fmt.Fprintf(a.stdout, "localcloud running: http://%s (pid %d, time scale %g, listener port offset %d)\nlog %s\nstate %s\n",
				st.Addr, st.Pid, st.TimeScale, st.PortOffset, st.Log, filepath.Join(a.localDir(), "state"))
			return nil
		},
	}
	cmd.AddCommand(up, down, status)
	return cmd
}

func (a *app) readLocalState() (localState, error) {
	var st localState
	b, err := os.ReadFile(filepath.Join(a.localDir(), "local.json"))
	if err != nil {
		return st, err
	}
	err = json.Unmarshal(b, &st)
	return st, err
}

// localRunning reports the running local cloud: its process is alive and
// the local cloud answering at its address is that process, not another
// checkout's on the same port.
func (a *app) localRunning(ctx context.Context) (localState, bool) {
	st, err := a.readLocalState()
	if err != nil || st.Pid <= 0 || !alive(st.Pid) {
		return st, false
	}
	ok, pid, _ := whoAnswers(ctx, st.Addr)
	return st, ok && (pid == 0 || pid == st.Pid)
}

// alive reports whether process pid runs: it takes signals and, where
// /proc tells, is no zombie (a zombie takes signals too).
func alive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	// The state follows the command's closing parenthesis: "pid (comm) S ...".
	i := bytes.LastIndexByte(b, ')')
	return i < 0 || i+2 >= len(b) || b[i+2] != 'Z'
}

// running reports whether a process whose end closes exited still runs.
func running(exited <-chan struct{}) bool {
	select {
	case <-exited:
		return false
	default:
		return true
	}
}

// answers reports whether an HTTP server answers at addr.
func answers(ctx context.Context, addr string) bool {
	ok, _, _ := whoAnswers(ctx, addr)
	return ok
}

// localInfo is what ship reads of localcloud's GET /_localcloud/info.
type localInfo struct {
	Service  string `json:"service"`
	PID      int    `json:"pid"`
	StateDir string `json:"stateDir"`
}

// whoAnswers reports whether an HTTP server answers at addr and, when it
// is a localcloud that says so (GET /_localcloud/info), its pid and state
// directory; pid 0 when it does not say.
func whoAnswers(ctx context.Context, addr string) (bool, int, string) {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/_localcloud/info", nil)
	if err != nil {
		return false, 0, ""
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false, 0, ""
	}
	defer resp.Body.Close()
	var info localInfo
	if resp.StatusCode != http.StatusOK || json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&info) != nil || info.Service != "localcloud" {
		return true, 0, ""
	}
	return true, info.PID, info.StateDir
}

// addrTaken is the error for an address another program answers on: the
// address, whose it is when it says, and how to run this checkout's local
// cloud beside it.
func addrTaken(o localOptions, pid int, stateDir string) error {
	who := "another checkout's local cloud, or another program,"
	if pid > 0 {
		who = fmt.Sprintf("another local cloud (pid %d, state %s)", pid, stateDir)
	}
	host, port, _ := net.SplitHostPort(o.addr)
	p, _ := strconv.Atoi(port)
	addr, offset := net.JoinHostPort(host, strconv.Itoa(p+100)), o.portOffset
	if offset >= 0 {
		offset += 10000
	}
	return usagef("localcloud: %s already answers, and it is not this checkout's local cloud (.localcloud/local.json): %s holds it. "+
		"Stop that one (ship local down in its checkout), or run this checkout's on other ports: ship local up --addr %s --listener-port-offset %d "+
		"(or make local-up LOCAL_ADDR=%s LOCAL_PORT_OFFSET=%d); the deploy commands then use it",
		o.addr, who, addr, offset, addr, offset)
}

// lastLine is the last non-empty line of a file, "" when there is none.
func lastLine(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

// localUp starts the local cloud unless it runs; it reports whether it
// started it.
func (a *app) localUp(ctx context.Context, o localOptions) (localState, bool, error) {
	if st, ok := a.localRunning(ctx); ok {
		return st, false, nil
	}
	host, _, err := net.SplitHostPort(o.addr)
	if err != nil || !isLoopback(host) {
		return localState{}, false, usagef("--addr %q: want a loopback host:port such as 127.0.0.1:4566", o.addr)
	}
	if o.timeScale <= 0 {
		return localState{}, false, usagef("--time-scale %g: want a positive factor such as 0.1", o.timeScale)
	}
	// Another checkout's local cloud on the address would answer every
	// readiness check and take this checkout's stacks.
	if ok, pid, stateDir := whoAnswers(ctx, o.addr); ok {
		return localState{}, false, addrTaken(o, pid, stateDir)
	}
	dir := a.localDir()
	if err := os.MkdirAll(filepath.Join(dir, "state"), 0o750); err != nil {
		return localState{}, false, fmt.Errorf("start localcloud: %w", err)
	}
	bin, err := a.localBinary(ctx)
	if err != nil {
		return localState{}, false, err
	}
	logPath := filepath.Join(dir, "localcloud.log")
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return localState{}, false, fmt.Errorf("start localcloud: %w", err)
	}
	defer logFile.Close()
	// Not CommandContext: the local cloud outlives this ship.
	args := []string{"--addr", o.addr, "--state", filepath.Join(dir, "state"),
		"--time-scale", strconv.FormatFloat(o.timeScale, 'g', -1, 64), "--listener-port-offset", strconv.Itoa(o.portOffset)}
	if o.portOffset >= 0 {
		// A listener whose port + offset is taken fails its stack instead
		// of moving to a free port: the URL ship prints is then always
		// where the service answers.
		args = append(args, "--strict-ports")
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// Its own session: Ctrl-C in this terminal reaches ship, not the cloud.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return localState{}, false, fmt.Errorf("start localcloud %s: %w", bin, err)
	}
	var waitErr error
	exited := make(chan struct{})
	go func() { waitErr = cmd.Wait(); close(exited) }()
	st := localState{Pid: cmd.Process.Pid, Addr: o.addr, TimeScale: o.timeScale, PortOffset: o.portOffset, Log: logPath, Binary: bin}
	deadline := time.NewTimer(30 * time.Second)
	defer deadline.Stop()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	// Ready means this child answers, not merely the address: another
	// local cloud may have taken it meanwhile. A localcloud too old to say
	// its pid is this child when it answers while the child runs.
	for {
		ok, pid, _ := whoAnswers(ctx, o.addr)
		if ok && (pid == st.Pid || pid == 0 && running(exited)) {
			break
		}
		select {
		case <-exited:
			last := lastLine(logPath)
			if strings.Contains(last, "address already in use") && strings.Contains(last, o.addr) {
				_, pid, stateDir := whoAnswers(ctx, o.addr)
				return localState{}, false, addrTaken(o, pid, stateDir)
			}
			if strings.Contains(last, "flag provided but not defined") {
				return localState{}, false, fmt.Errorf("start localcloud: %s is older than this ship (%s); rebuild both with make ship-bins", bin, last)
			}
			return localState{}, false, fmt.Errorf("start localcloud: it exited (%w): %s; see %s", waitErr, last, logPath)
		case <-deadline.C:
			_ = cmd.Process.Kill()
			return localState{}, false, fmt.Errorf("start localcloud: pid %d did not answer on %s within 30s; see %s", st.Pid, o.addr, logPath)
		case <-ctx.Done():
			_ = cmd.Process.Kill()
			return localState{}, false, ctx.Err()
		case <-tick.C:
		}
	}
	b, _ := json.MarshalIndent(st, "", "  ")
	if err := os.WriteFile(filepath.Join(dir, "local.json"), append(b, '\n'), 0o640); err != nil {
		return st, true, fmt.Errorf("start localcloud: write its state: %w", err)
	}
	a.logger.Info("localcloud started", "addr", o.addr, "pid", st.Pid, "log", logPath)
	return st, true, nil
}

// localDown stops the local cloud with SIGTERM, waiting for it to drain
// its tasks, and reports whether one ran.
func (a *app) localDown(ctx context.Context) (bool, error) {
	st, err := a.readLocalState()
	if errors.Is(err, os.ErrNotExist) || st.Pid <= 0 || syscall.Kill(st.Pid, 0) != nil {
		_ = os.Remove(filepath.Join(a.localDir(), "local.json"))
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("stop localcloud: read %s: %w", filepath.Join(a.localDir(), "local.json"), err)
	}
	if err := syscall.Kill(st.Pid, syscall.SIGTERM); err != nil {
		return false, fmt.Errorf("stop localcloud (pid %d): %w", st.Pid, err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for syscall.Kill(st.Pid, 0) == nil {
		if time.Now().After(deadline) {
			return false, fmt.Errorf("stop localcloud: pid %d still runs after 60s; see %s", st.Pid, st.Log)
		}
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	_ = os.Remove(filepath.Join(a.localDir(), "local.json"))
	return true, nil
}

// localBinary finds or builds the localcloud binary.
func (a *app) localBinary(ctx context.Context) (string, error) {
	var candidates []string
	if exe, err := os.Executable(); err == nil {
		candidates = append(candidates, filepath.Join(filepath.Dir(exe), "localcloud"))
	}
	root := filepath.Dir(a.manifestPath)
	candidates = append(candidates, filepath.Join(root, "bin", "localcloud"), filepath.Join(a.localDir(), "bin", "localcloud"))
	for _, c := range candidates {
		if fi, err := os.Stat(c); err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0 {
			return c, nil
		}
	}
	if _, err := os.Stat(filepath.Join(root, "tools", "localcloud", "main.go")); err != nil {
		return "", fmt.Errorf("find localcloud: not next to ship, not in %s, and no checkout to build it from; run make build", filepath.Join(root, "bin"))
	}
	out := filepath.Join(a.localDir(), "bin", "localcloud")
	a.logger.Info("building localcloud", "out", out)
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", out, "./tools/localcloud")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build localcloud: %w\n%s", err, b)
	}
	return out, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
