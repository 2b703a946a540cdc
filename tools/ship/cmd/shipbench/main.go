// Command shipbench is make bench's image part: it times ship deploy from
// its start to the image pushed (build + push) against ko build of the same
// source to the same registry, in the same run, and measures the images'
// sizes and ship's own overhead per deploy.
//
// Everything runs on this machine: a localcloud with compressed time, whose
// ECR registry both tools push to; ship talks to it through a counting
// proxy, so every AWS API call of a deploy is seen. The app's source is
// copied into a scratch git repository, and each round is a new commit, so
// that every build stamps a new version and commit and pushes a new layer,
// as a deploy of a change does; the compile itself is cached for both
// after the warm-up round, which is not counted.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "shipbench:", err)
		os.Exit(1)
	}
}

type options struct {
	ship, localcloud, ko string
	app, lambda          string
	rounds               int
	scale                float64
	keep                 bool
}

func run(ctx context.Context, args []string, out io.Writer) error {
	var o options
	fs := flag.NewFlagSet("shipbench", flag.ContinueOnError)
	fs.StringVar(&o.ship, "ship", "bin/ship", "ship binary")
	fs.StringVar(&o.localcloud, "localcloud", "bin/localcloud", "localcloud binary")
	fs.StringVar(&o.ko, "ko", "ko", "ko binary (make builds the pinned one into .cache/tools)")
	fs.StringVar(&o.app, "app", "services/app", "the app's source directory (a module of its own)")
	fs.StringVar(&o.lambda, "lambda", "lambdas/deploywatch", "the deploywatch Lambda's source directory (ship up builds it)")
	fs.IntVar(&o.rounds, "rounds", 5, "measured rounds per tool after one warm-up round; the median counts")
	fs.Float64Var(&o.scale, "time-scale", 0.01, "localcloud's time scale: bake time, health checks and polls are compressed by it")
	fs.BoolVar(&o.keep, "keep", false, "keep the scratch directory (printed) for a look afterwards")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if o.rounds < 1 {
		return fmt.Errorf("-rounds %d: want at least 1", o.rounds)
	}
	for _, p := range []*string{&o.ship, &o.localcloud, &o.app, &o.lambda} {
		abs, err := filepath.Abs(*p)
		if err != nil {
			return err
		}
		*p = abs
	}
	ko, err := exec.LookPath(o.ko)
	if err != nil {
		return fmt.Errorf("ko: %w; make bench-ship builds the pinned ko into .cache/tools", err)
	}
	o.ko, _ = filepath.Abs(ko)

	tmp, err := os.MkdirTemp("", "shipbench-")
	if err != nil {
		return err
	}
	if o.keep {
		fmt.Fprintf(out, "scratch directory: %s\n", tmp)
	} else {
		defer os.RemoveAll(tmp)
	}
	src := filepath.Join(tmp, "app")
	if err := copyTree(o.app, src); err != nil {
		return fmt.Errorf("copy the app's source: %w", err)
	}
	if _, err := git(ctx, src, "init", "-q"); err != nil {
		return err
	}
	if err := commit(ctx, src, "the app"); err != nil {
		return err
	}
	manifest := filepath.Join(tmp, "ship.yaml")
	if err := os.WriteFile(manifest, []byte(benchManifest), 0o644); err != nil {
		return err
	}

	lc, err := startLocalcloud(ctx, o.localcloud, filepath.Join(tmp, "state"), o.scale)
	if err != nil {
		return err
	}
	defer lc.stop()
	px, err := startProxy(lc.addr)
	if err != nil {
		return err
	}
	defer px.close()
	env := append(os.Environ(), "AWS_ENDPOINT_URL="+px.url, "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_SESSION_TOKEN=", "AWS_PROFILE=", "AWS_REGION=us-east-1")

	// ship up: the stacks, the service and its first deployment.
	start := time.Now()
	up, err := runShip(ctx, o.ship, env, px, "up", "--yes", "--manifest", manifest, "--package", src, "--lambda", o.lambda, "--output", "json", "--timeout", "10m")
	if err != nil {
		return fmt.Errorf("ship up: %w", err)
	}
	repo, _, _ := strings.Cut(up.ref, "@")
	fmt.Fprintf(out, "ship up: environment and service created in %s; repository %s\n", time.Since(start).Round(time.Second), repo)

	base, err := pushBase(ctx, repo)
	if err != nil {
		return err
	}
	// ko with the Makefile's -ldflags, no SBOM (ship makes none) and an
	// empty base image (ship's image has no base; ko's default base lives
	// on a registry this machine may not reach).
	koYAML := fmt.Sprintf("defaultBaseImage: %s\nbuilds:\n- id: app\n  main: .\n  ldflags:\n  - -s -w -X main.version={{.Env.VERSION}} -X main.commit={{.Env.COMMIT}}\n", base)
	if err := os.WriteFile(filepath.Join(src, ".ko.yaml"), []byte(koYAML), 0o644); err != nil {
		return err
	}
	if err := commit(ctx, src, "ko's configuration"); err != nil {
		return err
	}

	platform := runtime.GOOS + "/" + runtime.GOARCH
	var ships []shipRun
	var kos []koRun
	for round := range o.rounds + 1 {
		if round > 0 {
			if err := commit(ctx, src, fmt.Sprintf("round %d", round)); err != nil {
				return err
			}
		}
		// Alternate who goes first, so that drift in the machine's speed
		// does not always favour the same tool.
		first, second := "ship", "ko"
		if round%2 == 1 {
			first, second = second, first
		}
		for _, tool := range []string{first, second} {
			if tool == "ship" {
				s, err := runShip(ctx, o.ship, env, px, "deploy", "--manifest", manifest, "--package", src, "--output", "json", "--timeout", "10m")
				if err != nil {
					return fmt.Errorf("ship deploy, round %d: %w", round, err)
				}
				if round > 0 {
					ships = append(ships, s)
				}
				continue
			}
			k, err := runKo(ctx, o.ko, src, repo, platform, round)
			if err != nil {
				return fmt.Errorf("ko build, round %d: %w", round, err)
			}
			if round > 0 {
				kos = append(kos, k)
			}
		}
		if round > 0 {
			s, k := ships[len(ships)-1], kos[len(kos)-1]
			fmt.Fprintf(out, "round %d: ship %s to image pushed (build %s, push %s), whole deploy %s; ko %s\n", round,
				secs(s.toImage), secs(s.build), secs(s.push), secs(s.total), secs(k.wall))
		}
	}

	shipSize, shipLayers, err := imageSize(ctx, ships[len(ships)-1].ref)
	if err != nil {
		return err
	}
	koSize, koLayers, err := imageSize(ctx, kos[len(kos)-1].ref)
	if err != nil {
		return err
	}
	report(out, o, ships, kos, shipSize, koSize, shipLayers, koLayers)
	return nil
}

const benchManifest = `name: shipbench
region: us-east-1
environments:
  local:
    account: "000000000000"
    network:
      nat: single
    loadBalancer:
      testListener: false
    logs:
      retentionDays: 1
`

// shipRun is one ship command, timed from its start.
type shipRun struct {
	ref                 string
	size                int64
	toImage, total      time.Duration
	build, push         time.Duration
	cpuOwn, cpuChildren time.Duration
	apiCalls            int
	apiWait             time.Duration
	outcome             string
	apiByAction         map[string]int
}

// runShip runs ship with --output json and notes when the image event
// arrives, the ship process's own CPU time and its children's (go build),
// and the AWS API calls it made through the proxy.
func runShip(ctx context.Context, ship string, env []string, px *proxy, args ...string) (shipRun, error) {
	var r shipRun
	cmd := exec.CommandContext(ctx, ship, args...)
	cmd.Env = env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return r, err
	}
	px.reset()
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return r, err
	}
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var lines []string
	for sc.Scan() {
		line := sc.Text()
		lines = append(lines, line)
		var ev struct {
			Event        string  `json:"event"`
			Image        string  `json:"image"`
			Size         int64   `json:"size"`
			BuildSeconds float64 `json:"buildSeconds"`
			PushSeconds  float64 `json:"pushSeconds"`
			Status       string  `json:"status"`
		}
		if json.Unmarshal([]byte(line), &ev) != nil {
			continue
		}
		switch ev.Event {
		case "image":
			r.toImage = time.Since(start)
			r.ref, r.size = ev.Image, ev.Size
			r.build = time.Duration(ev.BuildSeconds * float64(time.Second))
			r.push = time.Duration(ev.PushSeconds * float64(time.Second))
		case "outcome":
			r.outcome = ev.Status
		}
	}
	// Stdout ends when ship exits; until Wait reaps it, its times are
	// still in /proc.
	r.total = time.Since(start)
	r.cpuOwn, r.cpuChildren = cpuTimes(cmd.Process.Pid)
	werr := cmd.Wait()
	r.apiCalls, r.apiWait, r.apiByAction = px.stats()
	if werr != nil {
		return r, fmt.Errorf("%w\nstdout:\n%s\nstderr:\n%s", werr, strings.Join(lines, "\n"), stderr.String())
	}
	if r.ref == "" {
		return r, fmt.Errorf("no image event in ship's output:\n%s", strings.Join(lines, "\n"))
	}
	return r, nil
}

// cpuTimes reads a process's own CPU time and that of its reaped children
// from /proc (Linux; zero elsewhere).
func cpuTimes(pid int) (own, children time.Duration) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0
	}
	// The fields after the command name, which may hold spaces: state is
	// field 3, utime 14, stime 15, cutime 16, cstime 17.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	if len(f) < 15 {
		return 0, 0
	}
	tick := func(i int) time.Duration {
		n, _ := strconv.ParseInt(f[i], 10, 64)
		return time.Duration(n) * time.Second / 100 // USER_HZ
	}
	return tick(11) + tick(12), tick(13) + tick(14)
}

type koRun struct {
	ref  string
	wall time.Duration
}

func runKo(ctx context.Context, ko, src, repo, platform string, round int) (koRun, error) {
	version, err := git(ctx, src, "describe", "--tags", "--always", "--dirty")
	if err != nil {
		return koRun{}, err
	}
	commit, err := git(ctx, src, "rev-parse", "HEAD")
	if err != nil {
		return koRun{}, err
	}
	cmd := exec.CommandContext(ctx, ko, "build", "--bare", "--sbom=none", "--platform="+platform, fmt.Sprintf("--tags=ko-round-%d", round), ".") //nolint:gosec // G204: the ko the bench was told to measure
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "KO_DOCKER_REPO="+repo, "VERSION="+version, "COMMIT="+commit, "KO_CONFIG_PATH="+src)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return koRun{}, fmt.Errorf("%w\n%s", err, stderr.String())
	}
	wall := time.Since(start)
	ref := strings.TrimSpace(stdout.String())
	if i := strings.LastIndexByte(ref, '\n'); i >= 0 {
		ref = ref[i+1:]
	}
	if !strings.Contains(ref, "@sha256:") {
		return koRun{}, fmt.Errorf("ko printed %q, want an image reference by digest\n%s", stdout.String(), stderr.String())
	}
	return koRun{ref: ref, wall: wall}, nil
}

// pushBase pushes ko's base: an image with no layers, for this machine's
// platform.
func pushBase(ctx context.Context, repo string) (string, error) {
	cf, err := empty.Image.ConfigFile()
	if err != nil {
		return "", err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = runtime.GOOS, runtime.GOARCH
	img, err := mutate.ConfigFile(empty.Image, cf)
	if err != nil {
		return "", err
	}
	tag, err := name.NewTag(repo + ":ko-base")
	if err != nil {
		return "", err
	}
	if err := remote.Write(tag, img, remote.WithContext(ctx)); err != nil {
		return "", fmt.Errorf("push ko's base image: %w", err)
	}
	d, err := img.Digest()
	if err != nil {
		return "", err
	}
	return repo + "@" + d.String(), nil
}

// imageSize is the compressed size of an image's layers and config, as the
// registry has it, and its number of layers.
func imageSize(ctx context.Context, ref string) (int64, int, error) {
	r, err := name.ParseReference(ref)
	if err != nil {
		return 0, 0, err
	}
	desc, err := remote.Get(r, remote.WithContext(ctx))
	if err != nil {
		return 0, 0, fmt.Errorf("get %s: %w", ref, err)
	}
	var m v1.Manifest
	if err := json.Unmarshal(desc.Manifest, &m); err != nil {
		return 0, 0, fmt.Errorf("read the manifest of %s: %w", ref, err)
	}
	size := m.Config.Size
	for _, l := range m.Layers {
		size += l.Size
	}
	return size, len(m.Layers), nil
}

type localcloud struct {
	addr string
	cmd  *exec.Cmd
	done chan struct{}
	log  *bytes.Buffer
}

func startLocalcloud(ctx context.Context, bin, state string, scale float64) (*localcloud, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().String()
	ln.Close()
	lc := &localcloud{addr: addr, done: make(chan struct{}), log: &bytes.Buffer{}}
	lc.cmd = exec.Command(bin, "--addr", addr, "--state", state, "--time-scale", fmt.Sprint(scale), "--listener-port-offset", "-1", "--log-level", "warn")
	lc.cmd.Stdout, lc.cmd.Stderr = lc.log, lc.log
	if err := lc.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start localcloud: %w", err)
	}
	go func() { _ = lc.cmd.Wait(); close(lc.done) }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/")
		if err == nil {
			resp.Body.Close()
			return lc, nil
		}
		select {
		case <-lc.done:
			return nil, fmt.Errorf("localcloud exited:\n%s", lc.log.String())
		case <-ctx.Done():
			lc.stop()
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			lc.stop()
			return nil, errors.New("localcloud did not answer within 30s")
		}
	}
}

func (lc *localcloud) stop() {
	_ = lc.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-lc.done:
	case <-time.After(20 * time.Second):
		_ = lc.cmd.Process.Kill()
		<-lc.done
	}
}

// proxy forwards to localcloud and counts the AWS API calls and the time
// spent waiting on their answers.
type proxy struct {
	url   string
	srv   *http.Server
	mu    sync.Mutex
	calls map[string]int
	wait  time.Duration
}

func startProxy(target string) (*proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	u := &url.URL{Scheme: "http", Host: target}
	rp := httputil.NewSingleHostReverseProxy(u)
	p := &proxy{url: "http://" + ln.Addr().String(), calls: map[string]int{}}
	p.srv = &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		action := apiAction(r)
		start := time.Now()
		rp.ServeHTTP(w, r)
		p.mu.Lock()
		p.calls[action]++
		p.wait += time.Since(start)
		p.mu.Unlock()
	})}
	go func() { _ = p.srv.Serve(ln) }()
	return p, nil
}

// apiAction names an AWS call: X-Amz-Target for JSON protocols, the
// operation in the path for RPCv2 CBOR, the Action of a query-protocol
// form, else the method and the first path segment (S3, Lambda, registry).
func apiAction(r *http.Request) string {
	if t := r.Header.Get("X-Amz-Target"); t != "" {
		return t[strings.LastIndexByte(t, '.')+1:]
	}
	if i := strings.Index(r.URL.Path, "/operation/"); i >= 0 {
		return r.URL.Path[i+len("/operation/"):]
	}
	if r.Method == http.MethodPost && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		body, err := io.ReadAll(r.Body)
		if err == nil {
			r.Body = io.NopCloser(bytes.NewReader(body))
			if v, err := url.ParseQuery(string(body)); err == nil && v.Get("Action") != "" {
				return v.Get("Action")
			}
		}
	}
	seg, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	return r.Method + " /" + seg
}

func (p *proxy) reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls, p.wait = map[string]int{}, 0
}

func (p *proxy) stats() (int, time.Duration, map[string]int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, c := range p.calls {
		n += c
	}
	calls := make(map[string]int, len(p.calls))
	for k, v := range p.calls {
		calls[k] = v
	}
	return n, p.wait, calls
}

func (p *proxy) close() { _ = p.srv.Close() }

func report(out io.Writer, o options, ships []shipRun, kos []koRun, shipSize, koSize int64, shipLayers, koLayers int) {
	med := func(xs []time.Duration) time.Duration {
		s := slices.Clone(xs)
		slices.Sort(s)
		if len(s)%2 == 1 {
			return s[len(s)/2]
		}
		return (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	pick := func(f func(shipRun) time.Duration) []time.Duration {
		var xs []time.Duration
		for _, s := range ships {
			xs = append(xs, f(s))
		}
		return xs
	}
	var koWalls []time.Duration
	for _, k := range kos {
		koWalls = append(koWalls, k.wall)
	}
	shipImage, koWall := med(pick(func(s shipRun) time.Duration { return s.toImage })), med(koWalls)
	ratio := float64(shipImage) / float64(koWall)

	fmt.Fprintf(out, "\nmachine: %s, %d CPUs, %s, %s/%s; localcloud time scale %g; median of %d rounds after a warm-up round\n\n",
		cpuModel(), runtime.NumCPU(), runtime.Version(), runtime.GOOS, runtime.GOARCH, o.scale, len(ships))
	fmt.Fprintf(out, "| build + push | ship deploy (start → image pushed) | ko build | ship / ko |\n|---|---:|---:|---:|\n")
	fmt.Fprintf(out, "| median | %s | %s | **%.2f×** |\n", secs(shipImage), secs(koWall), ratio)
	fmt.Fprintf(out, "| fastest | %s | %s | %.2f× |\n", secs(slices.Min(pick(func(s shipRun) time.Duration { return s.toImage }))), secs(slices.Min(koWalls)),
		float64(slices.Min(pick(func(s shipRun) time.Duration { return s.toImage })))/float64(slices.Min(koWalls)))
	fmt.Fprintf(out, "| image, compressed | %s (%d layer(s)) | %s (%d layer(s)) | %.2f× |\n\n", mb(shipSize), shipLayers, mb(koSize), koLayers, float64(shipSize)/float64(koSize))

	callsPer := make([]time.Duration, 0, len(ships))
	for _, s := range ships {
		callsPer = append(callsPer, time.Duration(s.apiCalls))
	}
	total := med(pick(func(s shipRun) time.Duration { return s.total }))
	own := med(pick(func(s shipRun) time.Duration { return s.cpuOwn }))
	fmt.Fprintf(out, "| ship deploy, median | |\n|---|---:|\n")
	fmt.Fprintf(out, "| whole deploy (start → outcome) | %s |\n", secs(total))
	fmt.Fprintf(out, "| to image pushed | %s (build: go build and the gzipped layer %s; push %s; the rest start-up and the in-flight check) |\n", secs(shipImage),
		secs(med(pick(func(s shipRun) time.Duration { return s.build }))), secs(med(pick(func(s shipRun) time.Duration { return s.push }))))
	fmt.Fprintf(out, "| ship's own CPU (user + system, without go build) | %s |\n", secs(own))
	fmt.Fprintf(out, "| go build's CPU (ship's children) | %s |\n", secs(med(pick(func(s shipRun) time.Duration { return s.cpuChildren }))))
	fmt.Fprintf(out, "| AWS API calls | %d |\n", int(med(callsPer)))
	fmt.Fprintf(out, "| time waiting on them | %s |\n\n", secs(med(pick(func(s shipRun) time.Duration { return s.apiWait }))))
	last := ships[len(ships)-1]
	actions := make([]string, 0, len(last.apiByAction))
	for a, n := range last.apiByAction {
		actions = append(actions, fmt.Sprintf("%s %d", a, n))
	}
	slices.Sort(actions)
	fmt.Fprintf(out, "AWS API calls of the last deploy (outcome %s): %s\n\n", last.outcome, strings.Join(actions, ", "))

	check := func(ok bool, format string, args ...any) {
		mark := "met"
		if !ok {
			mark = "MISSED"
		}
		fmt.Fprintf(out, "target %-7s "+format+"\n", append([]any{mark}, args...)...)
	}
	check(ratio <= 1, "build+push no slower than ko: ship / ko = %.2f×", ratio)
	check(shipSize < 20<<20, "image under 20 MB: %s", mb(shipSize))
}

func secs(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) }

func mb(n int64) string { return fmt.Sprintf("%.1f MB", float64(n)/(1<<20)) }

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}

func git(ctx context.Context, dir string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", append([]string{"-c", "user.name=shipbench", "-c", "user.email=shipbench@localhost", "-c", "commit.gpgsign=false"}, args...)...) //nolint:gosec // G204: git with the bench's own arguments
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("git %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out)), nil
}

func commit(ctx context.Context, dir, msg string) error {
	if _, err := git(ctx, dir, "add", "-A"); err != nil {
		return err
	}
	_, err := git(ctx, dir, "commit", "-q", "--allow-empty", "-m", msg)
	return err
}

// copyTree copies the regular files under src, leaving out compiled test
// binaries.
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		if !d.Type().IsRegular() || strings.HasSuffix(path, ".test") {
			return nil
		}
		b, err := os.ReadFile(path) //nolint:gosec // G122: a copy of the repository's own source, into a directory only the bench writes
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644) //nolint:gosec // G703: target is under the bench's own scratch directory
	})
}
