// Package lambda emulates AWS Lambda for zip functions with a custom runtime
// (provided.al2023, provided.al2, provided) or a go1.x handler binary: the
// REST JSON API under /2015-03-31/functions, and a real Lambda Runtime API
// each function's process talks to.
//
// Rules:
//   - CreateFunction takes the zip inline (Code.ZipFile) or from S3
//     (Code.S3Bucket/S3Key, through the in-process S3 backend). The zip is
//     unpacked under the state directory, keeping its file modes: a bootstrap
//     without the execute bit fails at invoke time, as on AWS.
//   - A function runs as one real process (one instance, started on the first
//     invoke and kept warm): provided.* runs ./bootstrap, go1.x runs the
//     Handler binary. Its environment is the function's Variables plus the
//     Lambda ones: AWS_LAMBDA_RUNTIME_API (this instance's Runtime API on
//     loopback), AWS_LAMBDA_FUNCTION_NAME, _HANDLER, AWS_REGION,
//     AWS_ENDPOINT_URL (localcloud itself), dummy credentials, and
//     Config.ProxyEnv (HTTP_PROXY for the VPC proxy), which the function's
//     Variables may override. Nothing of
//     localcloud's own environment leaks in but PATH.
//   - Invocations are served one at a time per function, in arrival order;
//     the rest wait their turn.
//   - Timeout is enforced in real time, not scaled: a function's work (SDK
//     calls, HTTP) takes real time. A timed-out instance is killed and a new
//     one starts on the next invoke; the caller gets Sandbox.Timedout.
//   - A function error (the runtime posted /error, the process exited, or
//     the bootstrap could not start) answers 200 with X-Amz-Function-Error:
//     Unhandled and the error JSON.
//   - InvocationType Event answers 202 and runs in the background, retried
//     twice on a function error after 1 and 2 minutes (scaled), as AWS does.
//   - stdout and stderr go to the log group /aws/lambda/<name>, one stream per
//     instance, with START/END/REPORT lines per invocation.
//   - AddPermission statements are kept and checked when a service principal
//     invokes (InvokeAs: EventBridge with the rule ARN as source).
//   - Function configurations and code persist across restarts; instances
//     do not (they start again on demand).
package lambda

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/clock"
)

// Region and account of function ARNs.
const (
	Region  = "us-east-1"
	Account = "000000000000"
)

// LogSink receives function output; internal/logs.Backend satisfies it.
type LogSink interface {
	Append(ctx context.Context, groupName, streamName string, at time.Time, message string) error
}

// ObjectGetter reads function code from S3.
type ObjectGetter interface {
	GetObject(ctx context.Context, bucket, key string) ([]byte, error)
}

// store persists named JSON documents; internal/state.Store satisfies it.
type store interface {
	Load(name string, v any) (bool, error)
	Save(name string, v any) error
}

// Config configures a Backend.
type Config struct {
	Logger *slog.Logger
	Clock  clock.Clock
	Store  store
	// CodeDir holds unpacked function code; empty means a temporary
	// directory removed by Close.
	CodeDir string
	// Endpoint is the URL functions reach localcloud at (AWS_ENDPOINT_URL);
	// SetEndpoint sets it once the server listens.
	Endpoint string
	// ProxyEnv is added to every instance's environment before the
	// function's Variables: localcloud's VPC proxy (elbv2.VPCProxy.Env), so
	// load balancer DNS names reach their listeners. Optional.
	ProxyEnv []string
	// Logs and S3 are optional.
	Logs LogSink
	S3   ObjectGetter
}

// Backend is the Lambda emulator; its methods are safe for concurrent use.
type Backend struct {
	cfg     Config
	log     *slog.Logger
	clock   clock.Clock
	codeDir string
	tempDir bool

	mu        sync.Mutex
	functions map[string]*function
	endpoint  string
	logs      LogSink
	s3        ObjectGetter

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

const stateName = "lambda"

type snapshot struct {
	Functions []*function
}

// New returns a backend with the functions saved in cfg.Store.
func New(cfg Config) (*Backend, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.New(1)
	}
	b := &Backend{cfg: cfg, log: cfg.Logger, clock: cfg.Clock, functions: map[string]*function{}, endpoint: cfg.Endpoint, logs: cfg.Logs, s3: cfg.S3}
	b.codeDir = cfg.CodeDir
	if b.codeDir == "" {
		d, err := os.MkdirTemp("", "localcloud-lambda-")
		if err != nil {
			return nil, fmt.Errorf("create lambda code directory: %w", err)
		}
		b.codeDir, b.tempDir = d, true
	}
	// Absolute, because a relative path (--state's default is relative)
	// would be resolved again from the function's own working directory.
	abs, err := filepath.Abs(b.codeDir)
	if err != nil {
		return nil, fmt.Errorf("resolve lambda code directory: %w", err)
	}
	b.codeDir = abs
	if err := os.MkdirAll(b.codeDir, 0o755); err != nil {
		return nil, fmt.Errorf("create lambda code directory: %w", err)
	}
	b.ctx, b.cancel = context.WithCancel(context.Background())
	if cfg.Store != nil {
		var snap snapshot
		ok, err := cfg.Store.Load(stateName, &snap)
		if err != nil {
			b.cancel()
			return nil, fmt.Errorf("restore lambda: %w", err)
		}
		if ok {
			for _, f := range snap.Functions {
				b.functions[f.Config.FunctionName] = f
			}
			b.log.Info("restored lambda", "functions", len(snap.Functions))
		}
	}
	return b, nil
}

// SetEndpoint sets the URL functions reach localcloud at; instances started
// afterwards get it as AWS_ENDPOINT_URL.
func (b *Backend) SetEndpoint(url string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.endpoint = url
}

// SetLogs connects the CloudWatch Logs backend.
func (b *Backend) SetLogs(l LogSink) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.logs = l
}

// SetS3 connects the S3 backend, for code from S3.
func (b *Backend) SetS3(s ObjectGetter) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.s3 = s
}

// Close stops every instance and background invocation.
func (b *Backend) Close() error {
	b.cancel()
	b.mu.Lock()
	var insts []*instance
	for _, f := range b.functions {
		if f.inst != nil {
			insts = append(insts, f.inst)
		}
	}
	b.mu.Unlock()
	for _, in := range insts {
		in.kill("localcloud is shutting down")
		<-in.exited
	}
	b.wg.Wait()
	if b.tempDir {
		return os.RemoveAll(b.codeDir)
	}
	return nil
}

func (b *Backend) saveLocked() {
	if b.cfg.Store == nil {
		return
	}
	snap := snapshot{Functions: make([]*function, 0, len(b.functions))}
	for _, f := range b.functions {
		snap.Functions = append(snap.Functions, f)
	}
	sort.Slice(snap.Functions, func(i, j int) bool {
		return snap.Functions[i].Config.FunctionName < snap.Functions[j].Config.FunctionName
	})
	if err := b.cfg.Store.Save(stateName, snap); err != nil {
		b.log.Error("save lambda state", "err", err)
	}
}

func functionARN(name string) string {
	return "arn:aws:lambda:" + Region + ":" + Account + ":function:" + name
}

func randomHex(n int) string {
	b := make([]byte, (n+1)/2)
	rand.Read(b)
	return hex.EncodeToString(b)[:n]
}

func newUUID() string {
	h := randomHex(32)
	return h[0:8] + "-" + h[8:12] + "-4" + h[13:16] + "-a" + h[17:20] + "-" + h[20:]
}

// functionDir is where a function's code revisions live.
func (b *Backend) functionDir(name string) string { return filepath.Join(b.codeDir, name) }
