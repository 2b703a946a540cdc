// Package server assembles localcloud: it builds the backends, registers them
// on one awsproto.Mux behind one loopback port, and owns their lifecycle
// (start, persist, stop). Backends that live elsewhere (ECS, ECR, Application
// Auto Scaling) join through Add.
package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/awsproto"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/clock"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/cloudformation"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/cloudwatch"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/dynamodb"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/elbv2"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/events"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/lambda"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/logs"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/s3"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/sns"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/sqs"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/state"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/sts"
)

// Service is a backend that answers on the mux.
type Service interface {
	Register(m *awsproto.Mux)
}

// Config is what the server needs from main.
type Config struct {
	Logger *slog.Logger
	Clock  clock.Clock
	Store  state.Store
	// PortOffset maps an ALB listener's port to the loopback port its proxy
	// serves on (port + offset); -1 picks a free port per listener.
	PortOffset int
	// StrictPorts makes a listener whose port + PortOffset is taken fail
	// instead of moving to a free port.
	StrictPorts bool
	// Version and Commit identify the build in GET /_localcloud/info;
	// TimeScale is the clock's factor as reported there (0: derived from
	// Clock).
	Version, Commit string
	TimeScale       float64
	// Schemas, when set, are the CloudFormation registry schemas resource
	// properties are validated against.
	Schemas *cloudformation.Schemas
	// VPCProxyAddr is the loopback host:port of the VPC proxy that makes
	// load balancer DNS names reachable from functions and tasks; default
	// 127.0.0.1:0 (a free port).
	VPCProxyAddr string
}

// Server is localcloud's root: the mux and the backends behind it.
type Server struct {
	Mux   *awsproto.Mux
	STS   *sts.Backend
	ELBv2 *elbv2.Backend
	// VPC is the VPC proxy: give the processes localcloud runs VPC.Env()
	// and the load balancers' DNS names reach their listeners.
	VPC        *elbv2.VPCProxy
	CloudWatch *cloudwatch.Backend
	Logs       *logs.Backend
	// CloudFormation is the stack engine.
	CloudFormation *cloudformation.Backend
	// Lambda runs functions; Events is EventBridge, which CloudWatch alarm
	// changes (and ECS, via EmitECS) publish to.
	Lambda *lambda.Backend
	Events *events.Backend
	// DynamoDB, S3, SQS and SNS are callable in process too: SQS.Send for
	// dead-letter queues, S3.GetObject for Lambda code, the Create*/Delete*
	// methods for CloudFormation.
	DynamoDB *dynamodb.Backend
	S3       *s3.Backend
	SQS      *sqs.Backend
	SNS      *sns.Backend

	log     *slog.Logger
	cfg     Config
	pid     int
	closers []io.Closer
	// endpoint is the API's URL, set by Serve.
	endpoint atomic.Pointer[string]
}

// New builds the backends, restores their state from cfg.Store and
// registers them.
func New(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.New(1)
	}
	s := &Server{Mux: awsproto.NewMux(cfg.Logger.With("subsystem", "api")), log: cfg.Logger, cfg: cfg, pid: os.Getpid()}
	s.Mux.Handle("/_localcloud/health", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "ok\n")
	}))
	s.Mux.Handle(InfoPath, http.HandlerFunc(s.serveInfo))
	s.STS = &sts.Backend{}
	s.Add(s.STS)
	var err error
	s.CloudWatch, err = cloudwatch.New(cloudwatch.Config{Logger: cfg.Logger.With("subsystem", "cloudwatch"), Clock: cfg.Clock, Store: cfg.Store})
	if err != nil {
		s.Close()
		return nil, err
	}
	s.Add(s.CloudWatch)
	s.ELBv2, err = elbv2.New(elbv2.Config{
		Logger: cfg.Logger.With("subsystem", "elbv2"), Clock: cfg.Clock, Store: cfg.Store,
		Metrics: s.CloudWatch, PortOffset: cfg.PortOffset, StrictPorts: cfg.StrictPorts,
	})
	if err != nil {
		s.Close()
		return nil, err
	}
	s.Add(s.ELBv2)
	if cfg.VPCProxyAddr == "" {
		cfg.VPCProxyAddr = "127.0.0.1:0"
	}
	if s.VPC, err = s.ELBv2.ServeVPCProxy(cfg.VPCProxyAddr); err != nil {
		s.Close()
		return nil, err
	}
	s.closers = append(s.closers, s.VPC)
	s.Logs, err = logs.New(logs.Config{Logger: cfg.Logger.With("subsystem", "logs"), Clock: cfg.Clock, Store: cfg.Store})
	if err != nil {
		s.Close()
		return nil, err
	}
	s.Add(s.Logs)
	s.DynamoDB, err = dynamodb.New(dynamodb.Config{Logger: cfg.Logger.With("subsystem", "dynamodb"), Clock: cfg.Clock, Store: cfg.Store})
	if err != nil {
		s.Close()
		return nil, err
	}
	s.Add(s.DynamoDB)
	s.S3, err = s3.New(s3.Config{Logger: cfg.Logger.With("subsystem", "s3"), Clock: cfg.Clock, Store: cfg.Store})
	if err != nil {
		s.Close()
		return nil, err
	}
	s.Add(s.S3)
	s.SQS, err = sqs.New(sqs.Config{Logger: cfg.Logger.With("subsystem", "sqs"), Clock: cfg.Clock, Store: cfg.Store})
	if err != nil {
		s.Close()
		return nil, err
	}
	s.Add(s.SQS)
	s.SNS, err = sns.New(sns.Config{Logger: cfg.Logger.With("subsystem", "sns"), Clock: cfg.Clock, Store: cfg.Store, Queues: s.SQS})
	if err != nil {
		s.Close()
		return nil, err
	}
	s.Add(s.SNS)
	codeDir := ""
	if cfg.Store.Dir != "" {
		codeDir = filepath.Join(cfg.Store.Dir, "lambda")
	}
	s.Lambda, err = lambda.New(lambda.Config{Logger: cfg.Logger.With("subsystem", "lambda"), Clock: cfg.Clock, Store: cfg.Store, CodeDir: codeDir, Logs: s.Logs, S3: s.S3, ProxyEnv: s.VPC.Env()})
	if err != nil {
		s.Close()
		return nil, err
	}
	s.Add(s.Lambda)
	s.Events, err = events.New(events.Config{
		Logger: cfg.Logger.With("subsystem", "events"), Clock: cfg.Clock, Store: cfg.Store,
		Lambda: s.Lambda, Queues: events.SQS(s.SQS), Topics: events.SNS(s.SNS),
	})
	if err != nil {
		s.Close()
		return nil, err
	}
	s.Add(s.Events)
	s.CloudWatch.Subscribe(s.Events.EmitAlarmChange)
	// CloudFormation provisions through the mux, so it reaches every service
	// registered on it, including those added after New.
	s.CloudFormation, err = cloudformation.New(cloudformation.Config{
		Logger: cfg.Logger.With("subsystem", "cloudformation"), Clock: cfg.Clock, Store: cfg.Store,
		Handler: s.Mux, Schemas: cfg.Schemas,
	})
	if err != nil {
		s.Close()
		return nil, err
	}
	// Not through Add: Close stops it before everything else (see Close).
	s.CloudFormation.Register(s.Mux)
	return s, nil
}

// Add registers another service; if it is an io.Closer, Close stops it.
func (s *Server) Add(svc Service) {
	svc.Register(s.Mux)
	if c, ok := svc.(io.Closer); ok {
		s.closers = append(s.closers, c)
	}
}

// Serve answers API requests on ln until ctx is done, then shuts down
// gracefully (in-flight requests get a few seconds).
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	// Functions call back into localcloud through AWS_ENDPOINT_URL.
	endpoint := "http://" + ln.Addr().String()
	s.endpoint.Store(&endpoint)
	s.Lambda.SetEndpoint(endpoint)
	s.SQS.SetEndpoint(endpoint)
	hs := &http.Server{Handler: s.Mux, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelDebug)}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve api: %w", err)
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := hs.Shutdown(shutdown); err != nil {
		return fmt.Errorf("shut down api: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve api: %w", err)
	}
	return nil
}

// Close stops every backend and reports all failures. CloudFormation goes
// first: its stack operations provision through the other backends, including
// those main adds after New, so stopping it while they still run lets an
// operation in flight fail cleanly instead of against closed services. The
// rest stop last added first.
func (s *Server) Close() error {
	var errs []error
	if s.CloudFormation != nil {
		if err := s.CloudFormation.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	for i := len(s.closers) - 1; i >= 0; i-- {
		if err := s.closers[i].Close(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
