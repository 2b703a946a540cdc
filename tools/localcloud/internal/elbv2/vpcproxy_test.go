package elbv2_test

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/elbv2"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/state"
)

// viaProxy is a client that sends every request through the proxy at u, as
// a process with HTTP_PROXY does.
func viaProxy(t *testing.T, u string) *http.Client {
	t.Helper()
	pu, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(pu)}}
}

func fetch(t *testing.T, c *http.Client, u string) (int, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestVPCProxy: through the VPC proxy, a load balancer's DNS name and
// listener port reach that listener's targets (with the Host the client
// asked for), unknown names in the load balancers' domain get a 502 naming
// the host, and other hosts are dialled directly.
func TestVPCProxy(t *testing.T) {
	t.Parallel()
	e := newEnv(t, state.Store{})
	f := e.fixture(t)
	blue := newApp(t, "blue")
	if _, err := e.c.RegisterTargets(ctx, &elb.RegisterTargetsInput{TargetGroupArn: aws.String(f.blue), Targets: []types.TargetDescription{blue.target()}}); err != nil {
		t.Fatal(err)
	}
	e.waitState(t, f.blue, blue, types.TargetHealthStateEnumHealthy)
	lbs, err := e.c.DescribeLoadBalancers(ctx, &elb.DescribeLoadBalancersInput{LoadBalancerArns: []string{f.lb}})
	if err != nil {
		t.Fatal(err)
	}
	dns := aws.ToString(lbs.LoadBalancers[0].DNSName)
	// A rule for requests addressed by IP: the proxy must keep the Host the
	// client asked for (the name), so its requests pass this rule by.
	if _, err := e.c.CreateRule(ctx, &elb.CreateRuleInput{
		ListenerArn: aws.String(f.listener), Priority: aws.Int32(1),
		Conditions: []types.RuleCondition{{Field: aws.String("host-header"), HostHeaderConfig: &types.HostHeaderConditionConfig{Values: []string{"127.0.0.1*"}}}},
		Actions: []types.Action{{Type: types.ActionTypeEnumFixedResponse, FixedResponseConfig: &types.FixedResponseActionConfig{
			StatusCode: aws.String("200"), MessageBody: aws.String("by address"),
		}}},
	}); err != nil {
		t.Fatal(err)
	}
	if code, body := get(t, f.addr, "/"); code != 200 || body != "by address" {
		t.Fatalf("GET the listener by its loopback address = %d %q, want the host rule's answer", code, body)
	}

	p, err := e.b.ServeVPCProxy("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	c := viaProxy(t, p.URL())

	if code, body := fetch(t, c, "http://"+dns+"/"); code != 200 || body != "blue" {
		t.Errorf("GET http://%s/ through the proxy = %d %q, want 200 from the target (the listener on port 80, Host kept)", dns, code, body)
	}
	if code, body := fetch(t, c, "http://"+strings.ToUpper(dns)+":80/"); code != 200 || body != "blue" {
		t.Errorf("GET the upper-case name with :80 = %d %q, want 200 from the target (DNS names are case-insensitive)", code, body)
	}

	for name, tc := range map[string]struct {
		url, want string
	}{
		"unknown name":  {"http://nope-123.us-east-1.elb.amazonaws.com/", "nope-123.us-east-1.elb.amazonaws.com"},
		"no such port":  {"http://" + dns + ":8080/", "no listener on port 8080; its listeners are on 80"},
		"internal name": {"http://internal-web-1.us-east-1.elb.amazonaws.com:80/", "internal-web-1.us-east-1.elb.amazonaws.com"},
	} {
		code, body := fetch(t, c, tc.url)
		if code != http.StatusBadGateway || !strings.Contains(body, tc.want) || !strings.Contains(body, dns) {
			t.Errorf("%s: GET %s = %d %q, want 502 naming %q (and the load balancers that exist)", name, tc.url, code, body, tc.want)
		}
	}

	// Other hosts are dialled directly.
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "direct "+r.Host+" "+r.URL.Path)
	}))
	t.Cleanup(other.Close)
	host := strings.TrimPrefix(other.URL, "http://")
	if code, body := fetch(t, c, other.URL+"/x"); code != 200 || body != "direct "+host+" /x" {
		t.Errorf("GET %s/x through the proxy = %d %q, want it passed on unchanged", other.URL, code, body)
	}
	// A host that refuses: 502 naming it.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	if code, body := fetch(t, c, "http://"+closed+"/"); code != http.StatusBadGateway || !strings.Contains(body, closed) {
		t.Errorf("GET a closed port through the proxy = %d %q, want 502 naming %s", code, body, closed)
	}

	// Asked as a web server rather than a proxy, it says what it is.
	if code, body := fetch(t, http.DefaultClient, p.URL()+"/"); code != http.StatusBadRequest || !strings.Contains(body, "HTTP_PROXY="+p.URL()) {
		t.Errorf("GET %s/ directly = %d %q, want 400 saying to use it as HTTP_PROXY", p.URL(), code, body)
	}
	// Its environment sends plain HTTP through it and leaves loopback alone.
	env := strings.Join(p.Env(), " ")
	for _, want := range []string{"HTTP_PROXY=" + p.URL(), "http_proxy=" + p.URL(), "NO_PROXY=localhost,127.0.0.0/8,::1"} {
		if !strings.Contains(env, want) {
			t.Errorf("Env() = %s, want %s", env, want)
		}
	}
}

func TestServeVPCProxyRefusesNonLoopback(t *testing.T) {
	t.Parallel()
	e := newEnv(t, state.Store{})
	for _, addr := range []string{"0.0.0.0:0", "nohost", "10.1.2.3:0"} {
		if p, err := e.b.ServeVPCProxy(addr); err == nil {
			p.Close()
			t.Errorf("ServeVPCProxy(%q) = nil error, want a refusal (loopback only)", addr)
		}
	}
}

func TestIsELBHost(t *testing.T) {
	for host, want := range map[string]bool{
		"web-123.us-east-1.elb.amazonaws.com":           true,
		"WEB-123.US-EAST-1.ELB.AMAZONAWS.COM.":          true,
		"internal-web-1.eu-west-1.elb.amazonaws.com":    true,
		"dynamodb.us-east-1.amazonaws.com":              false,
		"127.0.0.1":                                     false,
		"example.com":                                   false,
		"elb.amazonaws.com.example.com":                 false,
		"web-123.us-east-1.elb.amazonaws.com.evil.test": false,
	} {
		if got := elbv2.IsELBHost(host); got != want {
			t.Errorf("IsELBHost(%q) = %v, want %v", host, got, want)
		}
	}
}
