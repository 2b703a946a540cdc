package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/awsproto/awsprototest"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/clock"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/elbv2"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/server"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/state"
)

// startWith runs a server with cfg on a free loopback port until the test
// ends.
func startWith(t *testing.T, cfg server.Config) (*server.Server, string) {
	t.Helper()
	srv, err := server.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
		if err := srv.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return srv, "http://" + ln.Addr().String()
}

// occupy holds a free loopback port for the test and returns it.
func occupy(t *testing.T) int32 {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return int32(ln.Addr().(*net.TCPAddr).Port)
}

// freePort finds a port nothing listens on right now.
func freePort(t *testing.T) int32 {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return int32(ln.Addr().(*net.TCPAddr).Port)
}

func getInfo(t *testing.T, endpoint string) server.Info {
	t.Helper()
	resp, err := http.Get(endpoint + server.InfoPath)
	if err != nil {
		t.Fatalf("GET %s: %v", server.InfoPath, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("GET %s = %s (%s), want 200 application/json", server.InfoPath, resp.Status, resp.Header.Get("Content-Type"))
	}
	var in server.Info
	dec := json.NewDecoder(resp.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		t.Fatalf("decode info: %v", err)
	}
	return in
}

func createListener(ctx context.Context, lbc *elb.Client, lbARN *string, port int32, body string) (*elb.CreateListenerOutput, error) {
	return lbc.CreateListener(ctx, &elb.CreateListenerInput{LoadBalancerArn: lbARN, Port: aws.Int32(port), Protocol: elbtypes.ProtocolEnumHttp,
		DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumFixedResponse, FixedResponseConfig: &elbtypes.FixedResponseActionConfig{StatusCode: aws.String("200"), MessageBody: aws.String(body)}}}})
}

func getBody(t *testing.T, c *http.Client, u string) string {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// TestInfoReportsWhereListenersReallyAre: with offset 0 a listener on port P
// belongs on 127.0.0.1:P. One listener's port is taken before it is
// created, so it is served on a free port; /_localcloud/info says where,
// and that address (and the VPC proxy it names) answers for that listener.
func TestInfoReportsWhereListenersReallyAre(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	srv, endpoint := startWith(t, server.Config{Clock: clock.New(0.02), Store: state.Store{Dir: dir}, PortOffset: 0, Version: "v1.2.3", Commit: "abc123"})
	sdk := awsprototest.Config(endpoint)

	in := getInfo(t, endpoint)
	if in.Service != "localcloud" || in.Version != "v1.2.3" || in.Commit != "abc123" || in.Endpoint != endpoint || in.StateDir != dir ||
		in.TimeScale != 0.02 || in.ListenerPortOffset != 0 || in.StrictPorts || in.VPCProxy != srv.VPC.URL() || in.Listeners == nil || len(in.Listeners) != 0 {
		t.Fatalf("info before any listener = %+v", in)
	}

	taken, free := occupy(t), freePort(t)
	lbc := elb.NewFromConfig(sdk)
	lb, err := lbc.CreateLoadBalancer(ctx, &elb.CreateLoadBalancerInput{Name: aws.String("web"), Subnets: []string{"a", "b"}})
	if err != nil {
		t.Fatal(err)
	}
	lbARN := lb.LoadBalancers[0].LoadBalancerArn
	for port, body := range map[int32]string{taken: "moved", free: "in place"} {
		if _, err := createListener(ctx, lbc, lbARN, port, body); err != nil {
			t.Fatalf("CreateListener(%d): %v", port, err)
		}
	}

	in = getInfo(t, endpoint)
	if len(in.Listeners) != 2 {
		t.Fatalf("info listeners = %+v, want 2", in.Listeners)
	}
	byPort := map[int32]server.ListenerInfo{}
	for _, l := range in.Listeners {
		if l.LoadBalancerARN != aws.ToString(lbARN) || l.LoadBalancerName != "web" || l.DNSName != aws.ToString(lb.LoadBalancers[0].DNSName) ||
			l.Protocol != "HTTP" || !strings.HasPrefix(l.ListenerARN, "arn:aws:elasticloadbalancing:") || l.URL != "http://"+l.Address {
			t.Errorf("listener = %+v", l)
		}
		byPort[l.Port] = l
	}
	takenAddr := net.JoinHostPort("127.0.0.1", strconv.Itoa(int(taken)))
	moved := byPort[taken]
	if moved.Binding != elbv2.BindingFallback || moved.OffsetAddress != takenAddr || moved.Address == takenAddr || moved.Address == "" {
		t.Errorf("listener on the taken port = %+v, want binding fallback, offsetAddress %s and another address", moved, takenAddr)
	}
	freeAddr := net.JoinHostPort("127.0.0.1", strconv.Itoa(int(free)))
	if inPlace := byPort[free]; inPlace.Binding != elbv2.BindingOffset || inPlace.Address != freeAddr || inPlace.OffsetAddress != freeAddr {
		t.Errorf("listener on the free port = %+v, want binding offset at %s", inPlace, freeAddr)
	}
	// The reported addresses are the listeners: each answers its own body.
	if got := getBody(t, http.DefaultClient, moved.URL+"/"); got != "moved" {
		t.Errorf("GET %s = %q, want the moved listener's body", moved.URL, got)
	}
	if got := getBody(t, http.DefaultClient, byPort[free].URL+"/"); got != "in place" {
		t.Errorf("GET %s = %q, want the listener's body", byPort[free].URL, got)
	}
	// And the VPC proxy it reports reaches the moved listener by DNS name.
	proxyURL, err := url.Parse(in.VPCProxy)
	if err != nil {
		t.Fatal(err)
	}
	viaProxy := &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(proxyURL)}}
	if got := getBody(t, viaProxy, "http://"+moved.DNSName+":"+strconv.Itoa(int(taken))+"/"); got != "moved" {
		t.Errorf("GET through the vpc proxy = %q, want moved", got)
	}

	// Only GET.
	resp, err := http.Post(endpoint+server.InfoPath, "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST %s = %s, want 405", server.InfoPath, resp.Status)
	}
}

// TestStrictPortsFailLoudly: with StrictPorts a listener whose port is taken
// is refused with a message naming the address and what to do, and a
// restart whose saved listener finds its port taken fails instead of moving
// it.
func TestStrictPortsFailLoudly(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	taken, free := occupy(t), freePort(t)
	func() {
		srv, err := server.New(ctx, server.Config{Clock: clock.New(0.02), Store: state.Store{Dir: dir}, PortOffset: 0, StrictPorts: true})
		if err != nil {
			t.Fatal(err)
		}
		defer srv.Close()
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		sctx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- srv.Serve(sctx, ln) }()
		defer func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Serve: %v", err)
			}
		}()
		lbc := elb.NewFromConfig(awsprototest.Config("http://" + ln.Addr().String()))
		lb, err := lbc.CreateLoadBalancer(ctx, &elb.CreateLoadBalancerInput{Name: aws.String("web"), Subnets: []string{"a", "b"}})
		if err != nil {
			t.Fatal(err)
		}
		_, err = createListener(ctx, lbc, lb.LoadBalancers[0].LoadBalancerArn, taken, "x")
		var invalid *elbtypes.InvalidConfigurationRequestException
		takenAddr := net.JoinHostPort("127.0.0.1", strconv.Itoa(int(taken)))
		if !errors.As(err, &invalid) || !strings.Contains(err.Error(), takenAddr) || !strings.Contains(err.Error(), "--listener-port-offset") {
			t.Fatalf("CreateListener on a taken port = %v, want InvalidConfigurationRequest naming %s and --listener-port-offset", err, takenAddr)
		}
		if _, err := createListener(ctx, lbc, lb.LoadBalancers[0].LoadBalancerArn, free, "y"); err != nil {
			t.Fatalf("CreateListener on a free port: %v", err)
		}
	}()

	// The saved listener's port is taken while localcloud is down.
	hold, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(int(free))))
	if err != nil {
		t.Skipf("port %d was taken by someone else meanwhile: %v", free, err)
	}
	defer hold.Close()
	_, err = server.New(ctx, server.Config{Clock: clock.New(0.02), Store: state.Store{Dir: dir}, PortOffset: 0, StrictPorts: true})
	if !errors.Is(err, elbv2.ErrPortTaken) || !strings.Contains(err.Error(), hold.Addr().String()) {
		t.Fatalf("restart with the listener's port taken = %v, want ErrPortTaken naming %s", err, hold.Addr())
	}
	// Without StrictPorts the same restart serves it elsewhere, and says so.
	_, endpoint := startWith(t, server.Config{Clock: clock.New(0.02), Store: state.Store{Dir: dir}, PortOffset: 0})
	in := getInfo(t, endpoint)
	if len(in.Listeners) != 1 || in.Listeners[0].Binding != elbv2.BindingFallback || in.Listeners[0].Address == hold.Addr().String() {
		t.Fatalf("info after a lenient restart = %+v, want one fallback listener", in.Listeners)
	}
}
