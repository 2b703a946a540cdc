package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/shipyard-ecs/shipyard/services/app/internal/ecsmeta"
	"github.com/shipyard-ecs/shipyard/services/app/internal/fault"
)

// ServiceName names the service in responses and traces.
const ServiceName = "app"

// HTTP server limits. docs/shutdown.md explains how they fit the ALB and
// ECS timings: IdleTimeout must outlast the ALB's 60 s idle timeout (or the
// ALB reuses a connection the app is closing and answers 502), and
// WriteTimeout bounds every request, so a shutdown timeout at least as long
// lets every in-flight request finish.
const (
	ReadHeaderTimeout = 5 * time.Second
	ReadTimeout       = 10 * time.Second
	WriteTimeout      = 15 * time.Second
	IdleTimeout       = 75 * time.Second
	MaxHeaderBytes    = 64 << 10 // the ALB's own limit on request headers
	DefaultBodyLimit  = 1 << 20
)

// TaskSource gives the ECS task this process runs in (ecsmeta.Client).
type TaskSource interface {
	Task(ctx context.Context) (ecsmeta.Task, error)
}

// Options configure a Server. Logger is required; the rest have defaults.
type Options struct {
	Logger          *slog.Logger
	Version, Commit string
	Fault           fault.Fault
	// Tasks is nil off ECS.
	Tasks TaskSource
	// TracerProvider is nil when tracing is off: then no tracing code runs.
	TracerProvider trace.TracerProvider
	// BodyLimit caps request bodies (default DefaultBodyLimit).
	BodyLimit int64
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Rand returns a number in [0, 1) for the errors fault (default math/rand/v2).
	Rand func() float64
}

// Server is the app's HTTP handler and its drain state.
type Server struct {
	log             *slog.Logger
	version, commit string
	fault           fault.Fault
	tasks           TaskSource
	bodyLimit       int64
	now             func() time.Time
	rand            func() float64
	started         time.Time

	echo     *echo.Echo
	handler  http.Handler
	draining atomic.Bool
}

// New builds the router, middleware chain and handlers.
func New(o Options) *Server {
	s := &Server{
		log: o.Logger, version: o.Version, commit: o.Commit, fault: o.Fault, tasks: o.Tasks,
		bodyLimit: o.BodyLimit, now: o.Now, rand: o.Rand,
	}
	if s.bodyLimit <= 0 {
		s.bodyLimit = DefaultBodyLimit
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.rand == nil {
		s.rand = rand.Float64
	}
	s.started = s.now()

	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.Logger.SetOutput(io.Discard) // everything is logged through s.log
	e.HTTPErrorHandler = s.handleError
	// Behind the ALB the client address is the last untrusted hop of
	// X-Forwarded-For; Echo v4's default would believe any header a client
	// sends (GO-2026-6872), so a handler calling c.RealIP() gets the ALB's
	// view, never a spoofed one.
	e.IPExtractor = echo.ExtractIPFromXFFHeader()
	// Order matters: the id and headers first so every response has them;
	// the access log renders errors, so it sits outside recovery; traceRoute
	// before anything slow so a span is named even if a handler hangs.
	mws := []echo.MiddlewareFunc{requestID, securityHeaders, s.accessLog, s.recoverer}
	if o.TracerProvider != nil {
		mws = append(mws, traceRoute)
	}
	mws = append(mws, s.limitBody, s.injectFault)
	// Echo v4 wraps every middleware around the handler anew on each
	// request, one allocation per middleware. Compose the chain once
	// instead, ending in the handler Echo routed to (for 404/405 too).
	chain := echo.HandlerFunc(func(c echo.Context) error { return c.Handler()(c) })
	for i := len(mws) - 1; i >= 0; i-- {
		chain = mws[i](chain)
	}
	e.Use(func(echo.HandlerFunc) echo.HandlerFunc { return chain })

	e.GET(healthPath, s.health)
	e.HEAD(healthPath, s.health)
	e.GET("/", s.info)
	e.GET("/api/greeting", s.greeting)

	s.echo = e
	s.handler = e
	if o.TracerProvider != nil {
		s.handler = otelhttp.NewHandler(e, "http.server",
			otelhttp.WithTracerProvider(o.TracerProvider),
			otelhttp.WithMeterProvider(metricnoop.NewMeterProvider()),
			otelhttp.WithPropagators(propagation.TraceContext{}),
			// Health checks arrive every few seconds per ALB node and
			// say nothing about the work; do not trace them.
			otelhttp.WithFilter(func(r *http.Request) bool { return r.URL.Path != healthPath }),
		)
	}
	return s
}

// ServeHTTP serves one request. While draining, responses ask the client to
// close the connection, so keep-alive connections wind down one by one
// instead of being cut when the server shuts down.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.draining.Load() {
		w.Header().Set("Connection", "close")
	}
	s.handler.ServeHTTP(w, r)
}

// StartDraining turns /health to 503 {"status":"draining"}; everything else
// is still served.
func (s *Server) StartDraining() { s.draining.Store(true) }

// Timings drive the shutdown sequence.
type Timings struct {
	// DrainDelay is how long new requests are still served after the
	// context is done, while /health says draining.
	DrainDelay time.Duration
	// ShutdownTimeout bounds the wait for in-flight requests after that.
	ShutdownTimeout time.Duration
}

// Serve serves on ln until ctx is done (SIGTERM), then drains: /health
// turns 503 at once, new requests are served for DrainDelay, then the
// listener closes and in-flight requests get up to ShutdownTimeout to
// finish. It returns nil after a clean shutdown.
func (s *Server) Serve(ctx context.Context, ln net.Listener, t Timings) error {
	hs := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: ReadHeaderTimeout,
		ReadTimeout:       ReadTimeout,
		WriteTimeout:      WriteTimeout,
		IdleTimeout:       IdleTimeout,
		MaxHeaderBytes:    MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()

	select {
	case err := <-served:
		return fmt.Errorf("serve on %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	s.StartDraining()
	s.log.Info("draining: /health answers 503, still serving",
		"drain_delay", t.DrainDelay.String(), "shutdown_timeout", t.ShutdownTimeout.String())
	delay := time.NewTimer(t.DrainDelay)
	defer delay.Stop()
	select {
	case err := <-served:
		return fmt.Errorf("serve on %s while draining: %w", ln.Addr(), err)
	case <-delay.C:
	}

	s.log.Info("shutting down: no new connections, waiting for in-flight requests")
	sctx, cancel := context.WithTimeout(context.Background(), t.ShutdownTimeout)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		_ = hs.Close()
		return fmt.Errorf("shut down within %s: %w; some requests were cut off, raise APP_SHUTDOWN_TIMEOUT if they are legitimately slow", t.ShutdownTimeout, err)
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve on %s: %w", ln.Addr(), err)
	}
	s.log.Info("shut down cleanly")
	return nil
}
