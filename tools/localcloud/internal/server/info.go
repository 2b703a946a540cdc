package server

import (
	"encoding/json"
	"net"
	"net/http"
	"time"
)

// InfoPath answers GET with Info as JSON: what this localcloud is and where
// it really serves what a client cannot compute, such as a listener that
// moved to a free port. In the spirit of LocalStack's /_localstack/info.
const InfoPath = "/_localcloud/info"

// Info is the document GET /_localcloud/info returns. Its fields are a
// contract (docs/localcloud.md): fields may be added, never renamed or
// removed.
type Info struct {
	// Service is always "localcloud", so a client can tell that it reached
	// a localcloud and not something else on the port.
	Service string `json:"service"`
	Version string `json:"version"`
	Commit  string `json:"commit"`
	// PID is the localcloud process; StateDir its absolute --state. Together
	// they tell one checkout's local cloud from another's.
	PID      int    `json:"pid"`
	StateDir string `json:"stateDir"`
	// Endpoint is the AWS API URL (AWS_ENDPOINT_URL).
	Endpoint  string  `json:"endpoint"`
	TimeScale float64 `json:"timeScale"`
	// ListenerPortOffset is --listener-port-offset (-1: free ports).
	ListenerPortOffset int  `json:"listenerPortOffset"`
	StrictPorts        bool `json:"strictPorts"`
	// VPCProxy is the VPC proxy's URL, the HTTP_PROXY that makes load
	// balancer DNS names reachable.
	VPCProxy string `json:"vpcProxy"`
	// Listeners are every load balancer listener, by load balancer name,
	// then port; [] when there are none.
	Listeners []ListenerInfo `json:"listeners"`
}

// ListenerInfo is one load balancer listener and where it is served.
type ListenerInfo struct {
	LoadBalancerARN  string `json:"loadBalancerArn"`
	LoadBalancerName string `json:"loadBalancerName"`
	DNSName          string `json:"dnsName"`
	ListenerARN      string `json:"listenerArn"`
	Protocol         string `json:"protocol"`
	// Port is the listener's port as AWS knows it (80).
	Port int32 `json:"port"`
	// Address is the loopback host:port actually served, URL the same as
	// http://Address; both "" when the listener is not served (see the log).
	Address string `json:"address"`
	URL     string `json:"url"`
	// Binding says how Address was chosen: "offset" (port + offset),
	// "fallback" (that port was taken, a free one serves instead), "free"
	// (offset -1), or "" when not served.
	Binding string `json:"binding"`
	// OffsetAddress is where port + offset points, whether or not it is
	// served there; "" with offset -1.
	OffsetAddress string `json:"offsetAddress"`
}

// Info reports what GET /_localcloud/info returns.
func (s *Server) Info() Info {
	in := Info{
		Service: "localcloud", Version: s.cfg.Version, Commit: s.cfg.Commit, PID: s.pid, StateDir: s.cfg.Store.Dir,
		TimeScale: s.cfg.TimeScale, ListenerPortOffset: s.cfg.PortOffset, StrictPorts: s.cfg.StrictPorts,
		Listeners: []ListenerInfo{},
	}
	if in.TimeScale == 0 {
		in.TimeScale = float64(s.cfg.Clock.Scale(time.Hour)) / float64(time.Hour)
	}
	if e := s.endpoint.Load(); e != nil {
		in.Endpoint = *e
	}
	if s.VPC != nil {
		in.VPCProxy = s.VPC.URL()
	}
	for _, l := range s.ELBv2.Listeners() {
		li := ListenerInfo{
			LoadBalancerARN: l.LoadBalancerARN, LoadBalancerName: l.LoadBalancerName, DNSName: l.DNSName,
			ListenerARN: l.ListenerARN, Protocol: l.Protocol, Port: l.Port,
			Address: l.Addr, Binding: l.Binding, OffsetAddress: l.OffsetAddr,
		}
		if l.Addr != "" {
			li.URL = "http://" + l.Addr
		}
		in.Listeners = append(in.Listeners, li)
	}
	return in
}

func (s *Server) serveInfo(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "localcloud info: use GET", http.StatusMethodNotAllowed)
		return
	}
	// The API binds loopback only; refuse anything else all the same, since
	// the document names local paths and processes.
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err != nil || !net.ParseIP(host).IsLoopback() {
		http.Error(w, "localcloud info: loopback clients only", http.StatusForbidden)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(s.Info())
}
