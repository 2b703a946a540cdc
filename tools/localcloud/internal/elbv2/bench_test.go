package elbv2_test

import (
	"io"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/state"
)

// BenchmarkListenerProxy measures one request through a listener (rule
// evaluation, weighted pick, reverse proxy, metrics) to a healthy target.
func BenchmarkListenerProxy(b *testing.B) {
	e := newEnv(b, state.Store{})
	f := e.fixture(b)
	a := newApp(b, "a")
	if _, err := e.c.RegisterTargets(ctx, &elb.RegisterTargetsInput{TargetGroupArn: aws.String(f.blue), Targets: []types.TargetDescription{a.target()}}); err != nil {
		b.Fatal(err)
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	url := "http://" + f.addr + "/"
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp, err := client.Get(url)
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	})
}
