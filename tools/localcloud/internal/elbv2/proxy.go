package elbv2

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httputil"
	"net/netip"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

const namespace = "AWS/ApplicationELB"

// proxy is one listener's reverse proxy.
type proxy struct {
	srv  *http.Server
	addr string
	// binding says how addr was chosen: BindingOffset, BindingFallback or
	// BindingFree.
	binding string
	// offsetAddr is the address port + offset named, when there is one.
	offsetAddr string
}

func (p *proxy) close() { p.srv.Close() }

// How a listener's loopback address was chosen, as ListenerInfo.Binding
// reports it.
const (
	// BindingOffset: the listener's port plus Config.PortOffset.
	BindingOffset = "offset"
	// BindingFallback: that port was taken, so a free one serves instead.
	BindingFallback = "fallback"
	// BindingFree: Config.PortOffset is -1 (or port + offset is past 65535),
	// so every listener gets a free port.
	BindingFree = "free"
)

// ErrPortTaken is returned, with StrictPorts, when a listener's port plus
// the offset is already in use.
var ErrPortTaken = errors.New("listener port taken")

// startProxyLocked binds the listener's loopback port (port + offset, or a
// free one when that is taken or the offset is -1) and serves it. With
// StrictPorts a taken port is an error instead.
func (b *Backend) startProxyLocked(l *listener) error {
	lbName := ""
	if lb, ok := b.lbs[l.LBARN]; ok {
		lbName = lb.Name
	}
	port, binding, offsetAddr := 0, BindingFree, ""
	if b.cfg.PortOffset >= 0 && int(l.Port)+b.cfg.PortOffset <= 65535 {
		port, binding = int(l.Port)+b.cfg.PortOffset, BindingOffset
		offsetAddr = net.JoinHostPort(b.cfg.Host, strconv.Itoa(port))
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(b.cfg.Host, strconv.Itoa(port)))
	if err != nil && port != 0 {
		if b.cfg.StrictPorts {
			return fmt.Errorf("%w: load balancer %s, listener port %d belongs on %s (port %d + --listener-port-offset %d), which is in use (%v); "+
				"stop what holds it (another checkout's local cloud?), or start localcloud with another --listener-port-offset, or with --strict-ports=false to serve on a free port",
				ErrPortTaken, lbName, l.Port, offsetAddr, l.Port, b.cfg.PortOffset, err)
		}
		b.log.Warn("listener port taken, using a free one", "load_balancer", lbName, "port", port, "err", err)
		binding = BindingFallback
		ln, err = net.Listen("tcp", net.JoinHostPort(b.cfg.Host, "0"))
	}
	if err != nil {
		return fmt.Errorf("listen for listener port %d: %w", l.Port, err)
	}
	h := &listenerHandler{b: b, listenerARN: l.ARN}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 30 * time.Second}
	p := &proxy{srv: srv, addr: ln.Addr().String(), binding: binding, offsetAddr: offsetAddr}
	b.proxies[l.ARN] = p
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			b.log.Error("listener proxy stopped", "port", l.Port, "err", err)
		}
	}()
	b.log.Info("listener serving", "load_balancer", lbName, "port", l.Port, "addr", "http://"+p.addr, "binding", binding)
	return nil
}

type listenerHandler struct {
	b           *Backend
	listenerARN string
}

// route is where one request goes.
type route struct {
	lbDim string
	// dropInvalid is routing.http.drop_invalid_header_fields.enabled.
	dropInvalid bool
	tgDim       string
	action      Action
	target      *Target
}

type outcomeKey struct{}

// outcome tells the metrics whether the target or the load balancer answered.
type outcome struct {
	elbStatus int // set when the load balancer generated the response
}

func (h *listenerHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b := h.b
	start := time.Now()
	rt, ok := b.route(h.listenerARN, r)
	if !ok {
		http.Error(w, "503 Service Temporarily Unavailable", http.StatusServiceUnavailable)
		return
	}
	lbDims := map[string]string{"LoadBalancer": rt.lbDim}
	if rt.dropInvalid {
		dropInvalidHeaders(r.Header)
	}
	switch rt.action.Type {
	case "fixed-response":
		c := rt.action.FixedResponseConfig
		code, _ := strconv.Atoi(c.StatusCode)
		if c.ContentType != "" {
			w.Header().Set("Content-Type", c.ContentType)
		}
		w.WriteHeader(code)
		_, _ = w.Write([]byte(c.MessageBody))
		b.metric("RequestCount", lbDims, 1)
		b.metric("HTTP_Fixed_Response_Count", lbDims, 1)
		return
	case "redirect":
		code := http.StatusFound
		if rt.action.RedirectConfig.StatusCode == "HTTP_301" {
			code = http.StatusMovedPermanently
		}
		http.Redirect(w, r, redirectURL(rt.action.RedirectConfig, r), code)
		b.metric("RequestCount", lbDims, 1)
		b.metric("HTTP_Redirect_Count", lbDims, 1)
		return
	}
	tgDims := map[string]string{"LoadBalancer": rt.lbDim, "TargetGroup": rt.tgDim}
	b.metric("RequestCount", lbDims, 1)
	if rt.tgDim != "" {
		b.metric("RequestCount", tgDims, 1)
	}
	if rt.target == nil {
		http.Error(w, "503 Service Temporarily Unavailable", http.StatusServiceUnavailable)
		b.elbStatus(lbDims, http.StatusServiceUnavailable)
		return
	}
	out := &outcome{}
	ctx := context.WithValue(r.Context(), outcomeKey{}, out)
	rec := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	b.reverseProxy(*rt.target).ServeHTTP(rec, r.WithContext(ctx))
	if out.elbStatus != 0 {
		b.elbStatus(lbDims, out.elbStatus)
		return
	}
	class := fmt.Sprintf("HTTPCode_Target_%dXX_Count", rec.status/100)
	b.metric(class, lbDims, 1)
	b.metric(class, tgDims, 1)
	secs := time.Since(start).Seconds()
	b.metric("TargetResponseTime", lbDims, secs)
	b.metric("TargetResponseTime", tgDims, secs)
}

// validHeaderName is what an ALB with drop_invalid_header_fields keeps.
var validHeaderName = regexp.MustCompile(`^[-A-Za-z0-9]+$`)

// dropInvalidHeaders removes header fields whose names an ALB treats as
// invalid (anything but letters, digits and hyphens, e.g. underscores).
func dropInvalidHeaders(h http.Header) {
	for name := range h {
		if !validHeaderName.MatchString(name) {
			delete(h, name)
		}
	}
}

func (b *Backend) elbStatus(lbDims map[string]string, status int) {
	b.metric(fmt.Sprintf("HTTPCode_ELB_%dXX_Count", status/100), lbDims, 1)
	if status == 502 || status == 503 || status == 504 {
		b.metric(fmt.Sprintf("HTTPCode_ELB_%d_Count", status), lbDims, 1)
	}
}

func (b *Backend) metric(name string, dims map[string]string, v float64) {
	if b.cfg.Metrics != nil {
		b.cfg.Metrics.PutMetric(namespace, name, dims, v, b.clock.Now())
	}
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// transport is shared by every proxy; idle connections to a target that went
// away are retried by net/http for idempotent requests.
var transport = &http.Transport{
	Proxy:                 nil,
	DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
	MaxIdleConnsPerHost:   32,
	IdleConnTimeout:       30 * time.Second,
	ResponseHeaderTimeout: 60 * time.Second, // the ALB idle timeout's default
}

func (b *Backend) reverseProxy(t Target) *httputil.ReverseProxy {
	u := &url.URL{Scheme: "http", Host: t.String()}
	return &httputil.ReverseProxy{
		Transport: transport,
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(u)
			pr.Out.Host = pr.In.Host // targets see the Host the client sent, as behind an ALB
			pr.SetXForwarded()
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			status := http.StatusBadGateway
			var ne net.Error
			if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
				status = http.StatusGatewayTimeout
			}
			if out, ok := r.Context().Value(outcomeKey{}).(*outcome); ok {
				out.elbStatus = status
			}
			b.log.Debug("proxy to target failed", "target", t.String(), "err", err)
			http.Error(w, fmt.Sprintf("%d %s", status, http.StatusText(status)), status)
		},
	}
}

// route evaluates the listener's rules for r and picks the target.
func (b *Backend) route(listenerARN string, r *http.Request) (route, bool) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	l, ok := b.listeners[listenerARN]
	if !ok {
		return route{}, false
	}
	rules := make([]*rule, 0, 4)
	var def *rule
	for _, rl := range b.rules {
		if rl.ListenerARN != listenerARN {
			continue
		}
		if rl.IsDefault {
			def = rl
			continue
		}
		rules = append(rules, rl)
	}
	sort.Slice(rules, func(i, j int) bool { return rules[i].Priority < rules[j].Priority })
	if def != nil {
		rules = append(rules, def)
	}
	for _, rl := range rules {
		if !rl.IsDefault && !conditionsMatch(rl.Conditions, r) {
			continue
		}
		act, ok := terminalAction(rl.Actions)
		if !ok {
			return route{}, false
		}
		rt := route{lbDim: lbSuffix(l.LBARN), action: act}
		if lb, ok := b.lbs[l.LBARN]; ok {
			rt.dropInvalid = lb.Attributes["routing.http.drop_invalid_header_fields.enabled"] == "true"
		}
		if act.Type != "forward" {
			return rt, true
		}
		tgARN := pickWeighted(forwardTuples(act))
		if tgARN == "" {
			return rt, true
		}
		rt.tgDim = tgSuffix(tgARN)
		if tg, ok := b.tgs[tgARN]; ok {
			rt.target = tg.pick()
		}
		return rt, true
	}
	return route{}, false
}

// terminalAction is the action that answers: the last by Order (earlier
// ones would be authenticate actions, which localcloud skips).
func terminalAction(actions []Action) (Action, bool) {
	if len(actions) == 0 {
		return Action{}, false
	}
	sorted := append([]Action(nil), actions...)
	sort.SliceStable(sorted, func(i, j int) bool { return orderOf(sorted[i]) < orderOf(sorted[j]) })
	return sorted[len(sorted)-1], true
}

func orderOf(a Action) int32 {
	if a.Order == nil {
		return 50001
	}
	return *a.Order
}

func pickWeighted(tuples []TargetGroupTuple) string {
	var total int32
	for _, t := range tuples {
		total += weightOf(t)
	}
	if total <= 0 {
		return ""
	}
	n := rand.Int32N(total) //nolint:gosec // traffic weighting needs no cryptographic randomness
	for _, t := range tuples {
		if n < weightOf(t) {
			return t.TargetGroupArn
		}
		n -= weightOf(t)
	}
	return ""
}

// pick chooses a target round robin among healthy ones; with none healthy
// the group fails open to every target that is not draining.
func (tg *targetGroup) pick() *Target {
	var healthy, open []*targetRuntime
	for _, rt := range tg.sortedTargets() {
		switch rt.state {
		case StateHealthy:
			healthy = append(healthy, rt)
			open = append(open, rt)
		case StateDraining:
		default:
			open = append(open, rt)
		}
	}
	pool := healthy
	if len(pool) == 0 {
		pool = open
	}
	if len(pool) == 0 {
		return nil
	}
	n := atomic.AddUint64(&tg.rr, 1)
	t := pool[n%uint64(len(pool))].target
	return &t
}

func conditionsMatch(conds []RuleCondition, r *http.Request) bool {
	for _, c := range conds {
		if !conditionMatches(c, r) {
			return false
		}
	}
	return true
}

func conditionMatches(c RuleCondition, r *http.Request) bool {
	values := func(cfg *ValuesConfig) []string {
		if cfg != nil && len(cfg.Values) > 0 {
			return cfg.Values
		}
		return c.Values
	}
	switch c.Field {
	case "path-pattern":
		return anyGlob(values(c.PathPatternConfig), r.URL.Path, false)
	case "host-header":
		host := r.Host
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		return anyGlob(values(c.HostHeaderConfig), host, true)
	case "http-header":
		if c.HttpHeaderConfig == nil {
			return false
		}
		for _, v := range r.Header.Values(c.HttpHeaderConfig.HttpHeaderName) {
			if anyGlob(c.HttpHeaderConfig.Values, v, true) {
				return true
			}
		}
		return false
	case "http-request-method":
		for _, m := range values(c.HttpRequestMethodConfig) {
			if m == r.Method {
				return true
			}
		}
		return false
	case "source-ip":
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			return false
		}
		ip, err := netip.ParseAddr(host)
		if err != nil {
			return false
		}
		for _, cidr := range values(c.SourceIpConfig) {
			if p, err := netip.ParsePrefix(cidr); err == nil && p.Contains(ip.Unmap()) {
				return true
			}
		}
		return false
	case "query-string":
		if c.QueryStringConfig == nil {
			return false
		}
		q := r.URL.Query()
		for _, kv := range c.QueryStringConfig.Values {
			for k, vs := range q {
				if kv.Key != "" && !glob(kv.Key, k, true) {
					continue
				}
				if anyGlob([]string{kv.Value}, strings.Join(vs, ","), true) {
					return true
				}
				for _, v := range vs {
					if glob(kv.Value, v, true) {
						return true
					}
				}
			}
		}
		return false
	}
	return false
}

func anyGlob(patterns []string, s string, fold bool) bool {
	for _, p := range patterns {
		if glob(p, s, fold) {
			return true
		}
	}
	return false
}

// glob matches s against an ALB pattern: * is any run of characters, ? is
// one character.
func glob(pattern, s string, fold bool) bool {
	if fold {
		pattern, s = strings.ToLower(pattern), strings.ToLower(s)
	}
	p, n := 0, 0
	star, mark := -1, 0
	for n < len(s) {
		switch {
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == s[n]):
			p++
			n++
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, n
			p++
		case star >= 0:
			p = star + 1
			mark++
			n = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

func redirectURL(c *RedirectConfig, r *http.Request) string {
	host, port, err := net.SplitHostPort(r.Host)
	if err != nil {
		host, port = r.Host, "80"
	}
	sub := func(v, def string) string {
		if v == "" {
			v = def
		}
		return strings.NewReplacer("#{protocol}", "http", "#{host}", host, "#{port}", port, "#{path}", strings.TrimPrefix(r.URL.Path, "/"), "#{query}", r.URL.RawQuery).Replace(v)
	}
	u := url.URL{
		Scheme:   strings.ToLower(sub(c.Protocol, "#{protocol}")),
		Host:     net.JoinHostPort(sub(c.Host, "#{host}"), sub(c.Port, "#{port}")),
		Path:     "/" + strings.TrimPrefix(sub(c.Path, "/#{path}"), "/"),
		RawQuery: sub(c.Query, "#{query}"),
	}
	return u.String()
}
