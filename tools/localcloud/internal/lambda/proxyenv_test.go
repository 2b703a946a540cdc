package lambda_test

import (
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/awsproto"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/clock"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/lambda"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/state"
)

// TestProxyEnv: every instance gets Config.ProxyEnv (localcloud's VPC
// proxy), and a function's own Variables override it.
func TestProxyEnv(t *testing.T) {
	t.Parallel()
	e := &env{logs: &logSink{}, store: state.Store{Dir: t.TempDir()}}
	b, err := lambda.New(lambda.Config{
		Clock: clock.New(0.01), Store: e.store, CodeDir: filepath.Join(e.store.Dir, "lambda"), Logs: e.logs,
		S3:       objects{"code/bootstrap.zip": testZip},
		ProxyEnv: []string{"HTTP_PROXY=http://127.0.0.1:3128", "NO_PROXY=localhost,127.0.0.0/8,::1"},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	mux := awsproto.NewMux(slog.New(slog.DiscardHandler))
	b.Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	b.SetEndpoint(srv.URL)
	e.b, e.url = b, srv.URL
	e.client = awslambda.New(awslambda.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")})

	e.create(t, "plain", nil)
	e.create(t, "own-proxy", map[string]string{"HTTP_PROXY": "http://10.0.0.1:8080"})
	for name, want := range map[string]string{"plain": "http://127.0.0.1:3128", "own-proxy": "http://10.0.0.1:8080"} {
		_, got := e.invoke(t, name, `{}`)
		if got.Env["HTTP_PROXY"] != want || got.Env["NO_PROXY"] != "localhost,127.0.0.0/8,::1" {
			t.Errorf("%s: HTTP_PROXY=%q NO_PROXY=%q, want %q and loopback left direct", name, got.Env["HTTP_PROXY"], got.Env["NO_PROXY"], want)
		}
	}
}
