// Package taskrun runs ECS task containers as real processes: it pulls the
// container image by digest from the local registry, unpacks its layers into
// a root filesystem under the state directory, and executes the image's
// entrypoint and command with the task's environment, its own loopback
// address (HOST), the container port (PORT) and, where configured, the
// VPC proxy (HTTP_PROXY) that makes load balancer DNS names reachable. It serves the ECS task
// metadata endpoint v4 to every task, sends stdout and stderr line by line to
// the task's CloudWatch Logs stream, and reports the exit code when the
// process ends.
//
// Differences from a container runtime, by design: there is no namespace,
// chroot or cgroup; the entrypoint runs as a host process from the unpacked
// root filesystem (so images must carry static binaries, as ko-style Go
// images do), and isolation is by address only.
package taskrun

import (
	"archive/tar"
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"

	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/clock"
)

// images resolves an image reference in the local registry; *ecr.Backend
// satisfies it.
type images interface {
	Image(ref string) (v1.Image, string, error)
}

// logSink receives container output; the CloudWatch Logs backend satisfies it.
type logSink interface {
	Append(ctx context.Context, group, stream string, at time.Time, message string) error
}

// Config configures a Runner.
type Config struct {
	// Dir holds unpacked images and per-task directories. Required.
	Dir    string
	Images images
	// Logs receives container output; nil keeps it in the task directory only.
	Logs   logSink
	Clock  clock.Clock
	Logger *slog.Logger
	// MetadataAddr is where the task metadata endpoint listens; default
	// 127.0.0.1:0.
	MetadataAddr string
	// ProxyEnv comes first in every task's environment (the image's and the
	// task definition's variables may override it): localcloud's VPC proxy
	// (elbv2.VPCProxy.Env), so load balancer DNS names reach their
	// listeners. Optional.
	ProxyEnv []string
}

// Runner starts and stops task processes. Its methods are safe for
// concurrent use.
type Runner struct {
	cfg Config
	log *slog.Logger
	ln  net.Listener
	srv *http.Server

	mu       sync.Mutex
	procs    map[string]*Process // by task ID
	unpacked map[string]*sync.Mutex
	// dropped are digests the registry let go of while a task ran from them.
	dropped map[string]bool
	// starting counts the tasks Start is unpacking and starting, by digest:
	// their image is in use before their process is in procs.
	starting map[string]int
}

// New starts the runner's metadata endpoint. Close stops it.
func New(cfg Config) (*Runner, error) {
	if cfg.Dir == "" || cfg.Images == nil || cfg.Clock == nil {
		return nil, errors.New("create task runner: Dir, Images and Clock are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.MetadataAddr == "" {
		cfg.MetadataAddr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", cfg.MetadataAddr)
	if err != nil {
		return nil, fmt.Errorf("listen for task metadata: %w", err)
	}
	r := &Runner{cfg: cfg, log: cfg.Logger, ln: ln, procs: map[string]*Process{}, unpacked: map[string]*sync.Mutex{}, dropped: map[string]bool{}, starting: map[string]int{}}
	if h, ok := cfg.Images.(imageHolder); ok {
		r.sweepImages(h)
	}
	r.srv = &http.Server{Handler: http.HandlerFunc(r.serveMetadata), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = r.srv.Serve(ln) }()
	return r, nil
}

// Close stops the metadata endpoint. Running processes are left to their
// owners to stop.
func (r *Runner) Close() error { return r.srv.Close() }

// MetadataURI is the ECS_CONTAINER_METADATA_URI_V4 value for a task.
func (r *Runner) MetadataURI(taskID string) string {
	return "http://" + r.ln.Addr().String() + "/v4/" + taskID
}

// Metadata supplies a task's metadata documents when the task asks.
type Metadata interface {
	// Task is the v4 /task document.
	Task() any
	// Container is the v4 container document (the endpoint's root).
	Container() any
	// Stats is the v4 /stats document of the container.
	Stats() any
}

// Spec describes one task container to run.
type Spec struct {
	TaskID string // unique, path-safe
	Image  string // reference in the local registry, pinned by digest or tag
	// EntryPoint and Command override the image's, as in a task definition.
	EntryPoint, Command []string
	// Env is added to the image's environment (later entries win).
	Env []string
	// Host is the task's private address (127.0.X.Y); Port the container port.
	Host string
	Port int
	// StopTimeout is the AWS stopTimeout; Stop waits Scale(StopTimeout)
	// between SIGTERM and SIGKILL. Zero means 30 s, as on Fargate.
	StopTimeout time.Duration
	// LogGroup and LogStream name the awslogs destination; empty for none.
	LogGroup, LogStream string
	Metadata            Metadata
}

// Exit is how a task process ended.
type Exit struct {
	Code   int
	Reason string
	At     time.Time
}

// Process is a running task container.
type Process struct {
	Spec        Spec
	ImageDigest string
	Pid         int
	StartedAt   time.Time

	cmd  *exec.Cmd
	done chan struct{}
	exit Exit
	// root, env and dir are what Exec runs a command with.
	root string
	env  []string
	dir  string
}

// Done is closed when the process has exited.
func (p *Process) Done() <-chan struct{} { return p.done }

// Exit is the process's exit; valid after Done is closed.
func (p *Process) Exit() Exit { <-p.done; return p.exit }

// Start pulls and unpacks the image, then starts the container process.
// onExit is called once, after the process ends and its output is flushed.
func (r *Runner) Start(ctx context.Context, spec Spec, onExit func(Exit)) (*Process, error) {
	img, digest, err := r.cfg.Images.Image(spec.Image)
	if err != nil {
		return nil, fmt.Errorf("CannotPullContainerError: %w", err)
	}
	r.holdStarting(digest)
	defer r.releaseStarting(digest)
	root, err := r.unpack(img, digest)
	if err != nil {
		return nil, fmt.Errorf("unpack %s: %w", spec.Image, err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("read image config of %s: %w", spec.Image, err)
	}
	if (cf.OS != "" && cf.OS != runtime.GOOS) || (cf.Architecture != "" && cf.Architecture != runtime.GOARCH) {
		// What exec would call "exec format error", said plainly.
		return nil, fmt.Errorf("CannotPullContainerError: image %s is for %s/%s, this machine runs %s/%s; build the image for this machine's platform (or a multi-platform index)",
			spec.Image, cf.OS, cf.Architecture, runtime.GOOS, runtime.GOARCH)
	}
	entry, args := cf.Config.Entrypoint, cf.Config.Cmd
	if spec.EntryPoint != nil {
		entry, args = spec.EntryPoint, nil
	}
	if spec.Command != nil {
		args = spec.Command
	}
	argv := append(append([]string{}, entry...), args...)
	if len(argv) == 0 {
		return nil, fmt.Errorf("start task %s: image %s has no entrypoint or command", spec.TaskID, spec.Image)
	}
	env := append([]string{}, r.cfg.ProxyEnv...)
	env = append(env, cf.Config.Env...)
	env = append(env, spec.Env...)
	env = append(env,
		"HOST="+spec.Host,
		"PORT="+strconv.Itoa(spec.Port),
		"ECS_CONTAINER_METADATA_URI_V4="+r.MetadataURI(spec.TaskID),
		"ECS_CONTAINER_METADATA_URI="+r.MetadataURI(spec.TaskID),
	)
	bin, err := lookPath(root, argv[0], env)
	if err != nil {
		return nil, fmt.Errorf("start task %s: %w", spec.TaskID, err)
	}
	taskDir := filepath.Join(r.cfg.Dir, "tasks", spec.TaskID)
	if err := os.MkdirAll(taskDir, 0o755); err != nil {
		return nil, fmt.Errorf("start task %s: %w", spec.TaskID, err)
	}
	logFile, err := os.OpenFile(filepath.Join(taskDir, "container.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("start task %s: %w", spec.TaskID, err)
	}
	cmd := exec.Command(bin, argv[1:]...)
	cmd.Args[0] = argv[0]
	cmd.Env = dedupEnv(env)
	cmd.Dir = filepath.Join(root, filepath.FromSlash(path.Clean("/"+cf.Config.WorkingDir)))
	// Own process group, so stop signals reach the whole container; killed
	// with localcloud, so no task outlives the emulator that owns it.
	cmd.SysProcAttr = sysProcAttr()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		logFile.Close()
		return nil, err
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		logFile.Close()
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("CannotStartContainerError: start %s: %w", argv[0], err)
	}
	p := &Process{Spec: spec, ImageDigest: digest, Pid: cmd.Process.Pid, StartedAt: r.cfg.Clock.Now(), cmd: cmd, done: make(chan struct{}),
		root: root, env: cmd.Env, dir: cmd.Dir}
	r.mu.Lock()
	r.procs[spec.TaskID] = p
	r.mu.Unlock()
	r.log.Debug("task process started", "task", spec.TaskID, "pid", p.Pid, "host", spec.Host)

	var wg sync.WaitGroup
	var fileMu sync.Mutex
	for _, rd := range []io.Reader{stdout, stderr} {
		wg.Go(func() { r.pump(spec, rd, logFile, &fileMu) })
	}
	go func() {
		wg.Wait() // the pipes close when the process exits
		err := cmd.Wait()
		logFile.Close()
		p.exit = exitOf(err)
		p.exit.At = r.cfg.Clock.Now()
		r.mu.Lock()
		delete(r.procs, spec.TaskID)
		r.mu.Unlock()
		r.releaseImage(digest)
		close(p.done)
		r.log.Debug("task process exited", "task", spec.TaskID, "code", p.exit.Code)
		if onExit != nil {
			onExit(p.exit)
		}
	}()
	return p, nil
}

func exitOf(err error) Exit {
	if err == nil {
		return Exit{Code: 0, Reason: "Essential container in task exited"}
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			// As docker reports a container killed by a signal.
			return Exit{Code: 128 + int(ws.Signal()), Reason: "Essential container in task exited"}
		}
		return Exit{Code: ee.ExitCode(), Reason: "Essential container in task exited"}
	}
	return Exit{Code: -1, Reason: "Essential container in task exited: " + err.Error()}
}

// pump copies one output stream line by line to the task's log file and its
// CloudWatch Logs stream.
func (r *Runner) pump(spec Spec, rd io.Reader, file io.Writer, fileMu *sync.Mutex) {
	sc := bufio.NewScanner(rd)
	sc.Buffer(make([]byte, 64*1024), 256*1024) // CloudWatch's event limit
	for sc.Scan() {
		line := sc.Text()
		at := r.cfg.Clock.Now()
		fileMu.Lock()
		_, _ = fmt.Fprintln(file, line)
		fileMu.Unlock()
		if r.cfg.Logs != nil && spec.LogGroup != "" {
			if err := r.cfg.Logs.Append(context.Background(), spec.LogGroup, spec.LogStream, at, line); err != nil {
				r.log.Warn("send container output to logs", "task", spec.TaskID, "group", spec.LogGroup, "error", err)
			}
		}
	}
	_, _ = io.Copy(io.Discard, rd)
}

// Stop sends SIGTERM to the task's processes, waits Scale(StopTimeout) for
// them to exit, then sends SIGKILL. It returns once the process has exited
// or ctx ends.
func (r *Runner) Stop(ctx context.Context, p *Process) error {
	select {
	case <-p.done:
		return nil
	default:
	}
	_ = syscall.Kill(-p.Pid, syscall.SIGTERM)
	timeout := p.Spec.StopTimeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	select {
	case <-p.done:
		return nil
	case <-r.cfg.Clock.After(timeout):
		r.log.Info("task did not stop in time, killing it", "task", p.Spec.TaskID, "stopTimeout", timeout)
		_ = syscall.Kill(-p.Pid, syscall.SIGKILL)
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-p.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Exec runs a command in a running task's container, as a container health
// check does: from the image's root filesystem, with the container's
// environment and working directory. argv is an ECS health-check command
// (["CMD", exe, args...] or ["CMD-SHELL", "script"], which needs /bin/sh in
// the image). It returns the exit code; a command that runs past timeout is
// killed and counts as a failure.
func (r *Runner) Exec(ctx context.Context, p *Process, argv []string, timeout time.Duration) (int, error) {
	if len(argv) == 0 {
		return -1, errors.New("exec in container: empty command")
	}
	switch argv[0] {
	case "CMD":
		argv = argv[1:]
	case "CMD-SHELL":
		argv = append([]string{"/bin/sh", "-c"}, strings.Join(argv[1:], " "))
	}
	if len(argv) == 0 {
		return -1, errors.New("exec in container: empty command")
	}
	bin, err := lookPath(p.root, argv[0], p.env)
	if err != nil {
		return -1, fmt.Errorf("exec in container: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, argv[1:]...)
	cmd.Args[0] = argv[0]
	cmd.Env, cmd.Dir = p.env, p.dir
	err = cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, nil
	case ctx.Err() != nil:
		return -1, fmt.Errorf("exec in container: timed out after %s", timeout)
	case errors.As(err, &ee):
		return ee.ExitCode(), nil
	}
	return -1, fmt.Errorf("exec in container: %w", err)
}

// Kill ends a task's processes at once with SIGKILL, as a crash would.
func (r *Runner) Kill(p *Process) {
	_ = syscall.Kill(-p.Pid, syscall.SIGKILL)
}

// Process returns the running process of a task, if any.
func (r *Runner) Process(taskID string) (*Process, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	p, ok := r.procs[taskID]
	return p, ok
}

// unpack extracts an image's flattened filesystem once per digest and
// returns the root directory.
func (r *Runner) unpack(img v1.Image, digest string) (string, error) {
	hexd := strings.TrimPrefix(digest, "sha256:")
	root := filepath.Join(r.cfg.Dir, "images", hexd, "rootfs")
	m := r.unpackLock(hexd)
	m.Lock()
	defer m.Unlock()
	marker := filepath.Join(r.cfg.Dir, "images", hexd, "complete")
	if _, err := os.Stat(marker); err == nil {
		return root, nil
	}
	_ = os.RemoveAll(root)
	if err := os.MkdirAll(root, 0o755); err != nil {
		return "", err
	}
	rc := mutate.Extract(img)
	defer rc.Close()
	if err := untar(rc, root); err != nil {
		return "", err
	}
	if err := os.WriteFile(marker, nil, 0o644); err != nil {
		return "", err
	}
	r.log.Info("image unpacked", "digest", digest, "root", root)
	return root, nil
}

// maxUnpacked bounds an image's unpacked size, against decompression bombs.
const maxUnpacked = 8 << 30

// untar writes a flattened image filesystem under root, refusing entries
// that would land outside it.
func untar(rd io.Reader, root string) error {
	tr := tar.NewReader(rd)
	var unpacked int64
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read layer: %w", err)
		}
		rel := path.Clean("/" + h.Name)
		if rel == "/" {
			continue
		}
		dst := filepath.Join(root, filepath.FromSlash(rel))
		if err := insideRoot(root, filepath.Dir(dst)); err != nil {
			return fmt.Errorf("unpack %s: %w", h.Name, err)
		}
		mode := os.FileMode(h.Mode & 0o7777)
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(dst, mode|0o700); err != nil {
				return err
			}
		case tar.TypeReg:
			if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
				return err
			}
			f, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
			if err != nil {
				return err
			}
			unpacked += h.Size
			if unpacked > maxUnpacked {
				f.Close()
				return fmt.Errorf("unpack %s: the image is larger than %d bytes", h.Name, int64(maxUnpacked))
			}
			_, err = io.CopyN(f, tr, h.Size)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
		case tar.TypeSymlink:
			if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
				return err
			}
			_ = os.Remove(dst)
			if err := os.Symlink(h.Linkname, dst); err != nil {
				return err
			}
		case tar.TypeLink:
			src := filepath.Join(root, filepath.FromSlash(path.Clean("/"+h.Linkname)))
			if err := insideRoot(root, src); err != nil {
				return fmt.Errorf("unpack %s: %w", h.Name, err)
			}
			_ = os.Remove(dst)
			if err := os.Link(src, dst); err != nil {
				return err
			}
		default:
			// Devices, fifos: meaningless for a host process; skipped.
		}
	}
}

// insideRoot checks that p, with symlinks resolved, is under root.
func insideRoot(root, p string) error {
	resolved, err := filepath.EvalSymlinks(p)
	if errors.Is(err, os.ErrNotExist) {
		resolved = p
	} else if err != nil {
		return err
	}
	rr, _ := filepath.EvalSymlinks(root)
	if rr == "" {
		rr = root
	}
	if resolved != rr && !strings.HasPrefix(resolved, rr+string(filepath.Separator)) {
		return fmt.Errorf("path escapes the image root")
	}
	return nil
}

// lookPath finds argv0 inside the image root: absolute paths are taken from
// the root, bare names are searched on the image's PATH.
func lookPath(root, argv0 string, env []string) (string, error) {
	candidates := []string{argv0}
	if !strings.Contains(argv0, "/") {
		candidates = nil
		pathEnv := "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
		for _, kv := range env {
			if v, ok := strings.CutPrefix(kv, "PATH="); ok {
				pathEnv = v
			}
		}
		for _, dir := range filepath.SplitList(pathEnv) {
			candidates = append(candidates, path.Join(dir, argv0))
		}
	}
	for _, c := range candidates {
		p := filepath.Join(root, filepath.FromSlash(path.Clean("/"+c)))
		if err := insideRoot(root, p); err != nil {
			continue
		}
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("CannotStartContainerError: %s: executable file not found in the image", argv0)
}

// dedupEnv keeps the last value of each variable.
func dedupEnv(env []string) []string {
	idx := map[string]int{}
	var out []string
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		if i, ok := idx[k]; ok {
			out[i] = kv
			continue
		}
		idx[k] = len(out)
		out = append(out, kv)
	}
	return out
}
