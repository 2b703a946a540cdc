package elbv2

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ELBDomain ends every load balancer DNS name AWS hands out
// (<name>-<digits>.<region>.elb.amazonaws.com, internal-… for internal ones).
const ELBDomain = ".elb.amazonaws.com"

// IsELBHost reports whether host (without a port) is in the load balancers'
// DNS domain, so only the load balancers localcloud knows can answer it.
func IsELBHost(host string) bool {
	return strings.HasSuffix(normalHost(host), ELBDomain)
}

func normalHost(host string) string {
	return strings.TrimSuffix(strings.ToLower(host), ".")
}

// ErrNoLoadBalancer is returned for a DNS name no load balancer has.
var ErrNoLoadBalancer = errors.New("no load balancer has this DNS name")

// ResolveListener maps a load balancer's DNS name and one of its listener
// ports (the AWS port, e.g. 80) to the loopback address that listener's
// proxy serves on. It is what the VPC's DNS does for a client inside it: the
// name reaches the load balancer, the port picks the listener.
func (b *Backend) ResolveListener(host string, port int32) (string, error) {
	host = normalHost(host)
	b.mu.RLock()
	defer b.mu.RUnlock()
	var lb *loadBalancer
	for _, l := range b.lbs {
		if strings.EqualFold(l.DNSName, host) {
			lb = l
			break
		}
	}
	if lb == nil {
		known := make([]string, 0, len(b.lbs))
		for _, l := range b.lbs {
			known = append(known, l.DNSName)
		}
		slices.Sort(known)
		if len(known) == 0 {
			return "", fmt.Errorf("%s: %w (this localcloud has no load balancers)", host, ErrNoLoadBalancer)
		}
		return "", fmt.Errorf("%s: %w; the load balancers here are %s", host, ErrNoLoadBalancer, strings.Join(known, ", "))
	}
	var ports []string
	for _, l := range b.listeners {
		if l.LBARN != lb.ARN {
			continue
		}
		if l.Port == port {
			if p, ok := b.proxies[l.ARN]; ok {
				return p.addr, nil
			}
			return "", fmt.Errorf("load balancer %s (%s): the listener on port %d is not serving; see localcloud's log", lb.Name, host, port)
		}
		ports = append(ports, strconv.Itoa(int(l.Port)))
	}
	slices.Sort(ports)
	if len(ports) == 0 {
		return "", fmt.Errorf("load balancer %s (%s) has no listeners; create one on port %d", lb.Name, host, port)
	}
	return "", fmt.Errorf("load balancer %s (%s) has no listener on port %d; its listeners are on %s", lb.Name, host, port, strings.Join(ports, ", "))
}

// VPCProxy is localcloud's stand-in for the VPC's DNS resolver. On AWS,
// code inside the VPC (a task, a Lambda function with a VpcConfig) reaches
// an internal load balancer by its DNS name and listener port. localcloud's
// DNS names resolve nowhere and its listeners serve on other loopback ports,
// so the processes localcloud runs get HTTP_PROXY pointing here instead:
//
//   - a request for http://<known load balancer DNS name>:<listener port>/…
//     goes to that listener's proxy, with the Host header the client sent,
//     as if the name had resolved;
//   - a request for any other name in the load balancers' domain is refused
//     with a 502 whose body names the host (and the ones that exist);
//   - a request for any other host is passed on directly.
//
// It answers absolute-form HTTP requests only (what a client sends an HTTP
// proxy); CONNECT is refused, as localcloud's listeners speak plain HTTP.
// It binds to loopback only.
type VPCProxy struct {
	b   *Backend
	log *slog.Logger
	srv *http.Server
	// direct dials the hosts the proxy passes on, never through another
	// proxy (localcloud's own environment may name one). Close closes its
	// idle connections.
	direct *http.Transport
	url    string
	// self is the proxy's own address, never dialled through itself.
	self string
}

// ErrVPCProxyListen wraps a failure to bind the VPC proxy's address.
var ErrVPCProxyListen = errors.New("listen for the vpc proxy")

// ServeVPCProxy starts the VPC proxy on addr, a loopback host:port (port 0
// picks a free one). Close stops it.
func (b *Backend) ServeVPCProxy(addr string) (*VPCProxy, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("vpc proxy address %q: want host:port such as 127.0.0.1:0", addr)
	}
	if ip := net.ParseIP(host); !strings.EqualFold(host, "localhost") && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("vpc proxy address %q: want a loopback address such as 127.0.0.1:0", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("%w on %s: %w", ErrVPCProxyListen, addr, err)
	}
	p := &VPCProxy{
		b: b, log: b.log.With("component", "vpc-proxy"), url: "http://" + ln.Addr().String(), self: ln.Addr().String(),
		direct: &http.Transport{
			Proxy:                 nil,
			DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConnsPerHost:   16,
			IdleConnTimeout:       30 * time.Second,
			ResponseHeaderTimeout: 60 * time.Second,
		},
	}
	p.srv = &http.Server{Handler: p, ReadHeaderTimeout: 30 * time.Second, ErrorLog: slog.NewLogLogger(p.log.Handler(), slog.LevelDebug)}
	go func() {
		if err := p.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			p.log.Error("vpc proxy stopped", "err", err)
		}
	}()
	p.log.Info("vpc proxy serving: load balancer DNS names resolve through it", "addr", p.url)
	return p, nil
}

// URL is the proxy's URL, the HTTP_PROXY value for processes localcloud runs.
func (p *VPCProxy) URL() string { return p.url }

// noProxy is what processes never send through the VPC proxy: loopback,
// where localcloud's API, the task metadata endpoint and tasks' own
// addresses live (Go never proxies loopback anyway; curl and others read
// NO_PROXY).
const noProxy = "localhost,127.0.0.0/8,::1"

// Env is the environment that sends a process's plain-HTTP requests through
// the proxy: HTTP_PROXY and NO_PROXY, in both spellings.
func (p *VPCProxy) Env() []string {
	return []string{"HTTP_PROXY=" + p.url, "http_proxy=" + p.url, "NO_PROXY=" + noProxy, "no_proxy=" + noProxy}
}

// Close stops the proxy; requests in flight are cut.
func (p *VPCProxy) Close() error {
	err := p.srv.Close()
	p.direct.CloseIdleConnections()
	return err
}

func (p *VPCProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodConnect {
		p.refuse(w, http.StatusMethodNotAllowed, "CONNECT %s: not supported; load balancer listeners here speak plain HTTP, so use http:// URLs (HTTP_PROXY, not HTTPS_PROXY)", r.Host)
		return
	}
	if !r.URL.IsAbs() || r.URL.Host == "" {
		p.refuse(w, http.StatusBadRequest, "%s %s: this is localcloud's VPC proxy; send it proxy requests (set HTTP_PROXY=%s and ask for http://<host>/…)", r.Method, r.URL, p.url)
		return
	}
	if r.URL.Scheme != "http" {
		p.refuse(w, http.StatusBadRequest, "%s: only http:// URLs go through this proxy", r.URL.Redacted())
		return
	}
	host, portStr := r.URL.Hostname(), r.URL.Port()
	if portStr == "" {
		portStr = "80"
	}
	port, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil || port == 0 {
		p.refuse(w, http.StatusBadRequest, "%s: bad port %q", r.URL.Host, portStr)
		return
	}
	target := net.JoinHostPort(host, portStr)
	if IsELBHost(host) {
		addr, err := p.b.ResolveListener(host, int32(port))
		if err != nil {
			p.log.Warn("vpc proxy: unresolved load balancer name", "host", r.URL.Host, "err", err)
			p.refuse(w, http.StatusBadGateway, "%s", err)
			return
		}
		target = addr
	} else if target == p.self {
		p.refuse(w, http.StatusLoopDetected, "%s is this proxy", r.URL.Host)
		return
	}
	rp := &httputil.ReverseProxy{
		Transport: p.direct,
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.Out.URL.Scheme, pr.Out.URL.Host = "http", target
			// The server sees the name the client asked for, as it would
			// after a DNS lookup.
			pr.Out.Host = r.URL.Host
		},
		ErrorHandler: func(w http.ResponseWriter, _ *http.Request, err error) {
			p.log.Debug("vpc proxy: upstream failed", "host", r.URL.Host, "target", target, "err", err)
			p.refuse(w, http.StatusBadGateway, "%s (%s): %v", r.URL.Host, target, err)
		},
	}
	rp.ServeHTTP(w, r)
}

// refuse answers an error the proxy generated, saying so in the body.
func (p *VPCProxy) refuse(w http.ResponseWriter, status int, format string, args ...any) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	//nolint:gosec // G705: a text/plain, nosniff answer to the proxy's own client, naming the host it asked for.
	fmt.Fprintf(w, "localcloud vpc proxy: "+format+"\n", args...)
}
