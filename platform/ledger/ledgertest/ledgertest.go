// Package ledgertest gives tests a real DynamoDB endpoint for the ledger:
// the repository's localcloud, built from source and run on a free
// loopback port, or the endpoint in LEDGER_DYNAMODB_ENDPOINT (DynamoDB
// Local, say) instead; and dynalite, where it is installed, to hold the
// same suite to a second implementation. Tests that also need ECS or
// CloudWatch use the same localcloud.
package ledgertest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/shipyard-ecs/shipyard/platform"
)

// EnvEndpoint names another DynamoDB to run the ledger suite against.
const EnvEndpoint = "LEDGER_DYNAMODB_ENDPOINT"

// Cloud is a running localcloud.
type Cloud struct {
	// Endpoint is its URL, for AWS_ENDPOINT_URL or a client's BaseEndpoint.
	Endpoint string
	cmd      *exec.Cmd
	dir      string
	stderr   *lockedBuffer
}

var (
	once     sync.Once
	shared   *Cloud
	startErr error
)

// Main runs a package's tests and stops the shared localcloud (and
// dynalite) after them.
func Main(m *testing.M) {
	code := m.Run()
	if shared != nil {
		shared.stop()
	}
	if dynalite != nil {
		dynalite.stop()
	}
	os.Exit(code)
}

// Localcloud returns the package's shared localcloud, building and starting
// it on first use. A package that uses it calls Main from TestMain.
func Localcloud(t testing.TB) *Cloud {
	t.Helper()
	once.Do(func() { shared, startErr = start() })
	if errors.Is(startErr, errNoRepo) {
		t.Skip(startErr)
	}
	if startErr != nil {
		t.Fatalf("start localcloud: %v", startErr)
	}
	return shared
}

// Logs is what localcloud wrote to stderr so far, for failure messages.
func (c *Cloud) Logs() string { return c.stderr.String() }

// Config is an AWS configuration that reaches the endpoint with test
// credentials.
//
// It retries as ship's clients do, with short waits. A test without
// retries is a flaky test: the SDK closes a request's body as soon as the
// answer arrives, and now and then that closes the connection under the
// answer's body ("use of closed network connection", aws-sdk-go-v2#2737).
// Local answers come fast enough to lose that race about once in fifty
// stack operations; the SDK's standard retryer treats it as retryable.
func Config(endpoint string) aws.Config {
	return aws.Config{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(endpoint),
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "test", SecretAccessKey: "test", Source: "ledgertest"}, nil
		}),
		Retryer: func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) { o.MaxBackoff = 50 * time.Millisecond })
		},
	}
}

var errNoRepo = errors.New("no go.work above the test's directory: cannot build localcloud from source")

func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			if _, err := os.Stat(filepath.Join(dir, "tools", "localcloud")); err == nil {
				return dir, nil
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errNoRepo
		}
		dir = parent
	}
}

func start() (*Cloud, error) {
	root, err := repoRoot()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "ledgertest-localcloud-")
	if err != nil {
		return nil, err
	}
	bin := filepath.Join(dir, "localcloud")
	build := exec.Command("go", "build", "-o", bin, "./tools/localcloud")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("build localcloud: %w\n%s", err, out)
	}
	c := &Cloud{dir: dir, stderr: &lockedBuffer{}}
	c.cmd = exec.Command(bin, "--addr", "127.0.0.1:0", "--state", filepath.Join(dir, "state"),
		"--time-scale", "0.02", "--listener-port-offset", "-1", "--log-level", "warn")
	c.cmd.Stderr = c.stderr
	stdout, err := c.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := c.cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("run localcloud: %w", err)
	}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if _, rest, ok := strings.Cut(sc.Text(), " listening on "); ok {
				addr <- strings.Fields(rest)[0]
			}
		}
	}()
	select {
	case a := <-addr:
		c.Endpoint = a
		return c, nil
	case <-time.After(60 * time.Second):
		c.stop()
		return nil, fmt.Errorf("localcloud did not say where it listens within 60s; stderr:\n%s", c.Logs())
	}
}

func (c *Cloud) stop() {
	if c.cmd.Process != nil {
		if err := c.cmd.Process.Signal(os.Interrupt); err != nil {
			_ = c.cmd.Process.Kill() // already gone, or cannot be asked: make sure
		}
		done := make(chan struct{})
		go func() {
			_ = c.cmd.Wait() // stopped on purpose: the exit status says so
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = c.cmd.Process.Kill()
			<-done
		}
	}
	os.RemoveAll(c.dir)
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// DynamoDB returns a client for the ledger suite: LEDGER_DYNAMODB_ENDPOINT
// when set, else localcloud. It skips the test, saying why, when localcloud
// does not serve DynamoDB.
func DynamoDB(t testing.TB) *dynamodb.Client {
	t.Helper()
	endpoint := os.Getenv(EnvEndpoint)
	if endpoint == "" {
		endpoint = Localcloud(t).Endpoint
	}
	c := dynamodb.NewFromConfig(Config(endpoint))
	served.Do(func() {
		_, err := c.ListTables(context.Background(), &dynamodb.ListTablesInput{})
		var ae smithy.APIError
		if errors.As(err, &ae) && ae.ErrorCode() == "UnknownOperationException" {
			notServed = fmt.Sprintf("%s does not serve DynamoDB yet (ListTables: %v)", endpoint, err)
		}
	})
	if notServed != "" {
		t.Skip(notServed)
	}
	return c
}

var (
	served    sync.Once
	notServed string
	tables    atomic.Int64
)

// NewTable creates a ledger table shaped as the environment stack makes it
// (string pk and sk), with a name unique to the test, and waits for it.
func NewTable(t testing.TB, c *dynamodb.Client) string {
	t.Helper()
	name := fmt.Sprintf("ledger-%d-%d", time.Now().UnixNano(), tables.Add(1))
	ctx := context.Background()
	_, err := c.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:   aws.String(name),
		BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String(platform.LedgerPartitionKey), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String(platform.LedgerSortKey), AttributeType: types.ScalarAttributeTypeS},
		},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String(platform.LedgerPartitionKey), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String(platform.LedgerSortKey), KeyType: types.KeyTypeRange},
		},
	})
	if err != nil {
		t.Fatalf("CreateTable(%s) error = %v", name, err)
	}
	w := dynamodb.NewTableExistsWaiter(c, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay = 20 * time.Millisecond
		o.MaxDelay = 200 * time.Millisecond
	})
	if err := w.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)}, 30*time.Second); err != nil {
		t.Fatalf("wait for table %s: %v", name, err)
	}
	return name
}

// EnvDynalite names the dynalite executable (node_modules/.bin/dynalite);
// without it, dynalite is looked up on PATH, then in .cache/dynalite, where
// make test installs the version dynalite/package-lock.json pins when npm
// is there.
const EnvDynalite = "DYNALITE_BIN"

// cachedDynalite is where make test installs dynalite, from the repository
// root.
var cachedDynalite = filepath.Join(".cache", "dynalite", "node_modules", ".bin", "dynalite")

var (
	dynaliteOnce sync.Once
	dynalite     *Cloud
	dynaliteErr  error
)

// Dynalite returns a client for a dynalite started for the package (the
// Node.js DynamoDB implementation), or skips the test, saying how to
// install it, where it is not installed.
func Dynalite(t testing.TB) *dynamodb.Client {
	t.Helper()
	bin := os.Getenv(EnvDynalite)
	if bin == "" {
		var err error
		if bin, err = exec.LookPath("dynalite"); err != nil {
			bin = ""
			if root, err := repoRoot(); err == nil {
				if _, err := os.Stat(filepath.Join(root, cachedDynalite)); err == nil {
					bin = filepath.Join(root, cachedDynalite)
				}
			}
		}
		if bin == "" {
			t.Skipf("dynalite is not installed: with npm, make test installs it into %s; or npm install dynalite@4, then put it on PATH or set %s", cachedDynalite, EnvDynalite)
		}
	}
	dynaliteOnce.Do(func() { dynalite, dynaliteErr = startDynalite(bin) })
	if dynaliteErr != nil {
		t.Fatalf("start dynalite: %v", dynaliteErr)
	}
	return dynamodb.NewFromConfig(Config(dynalite.Endpoint))
}

func startDynalite(bin string) (*Cloud, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	c := &Cloud{stderr: &lockedBuffer{}}
	c.cmd = exec.Command(bin, "--port", strconv.Itoa(port)) //nolint:gosec // G204: the tester's own dynalite, named by DYNALITE_BIN or PATH
	c.cmd.Stderr = c.stderr
	stdout, err := c.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := c.cmd.Start(); err != nil {
		return nil, fmt.Errorf("run %s: %w", bin, err)
	}
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "listening") {
				close(ready)
				break
			}
		}
		_, _ = io.Copy(io.Discard, stdout) // keep the pipe drained
	}()
	select {
	case <-ready:
		c.Endpoint = "http://127.0.0.1:" + strconv.Itoa(port)
		return c, nil
	case <-time.After(30 * time.Second):
		c.stop()
		return nil, fmt.Errorf("dynalite did not start within 30s; stderr:\n%s", c.Logs())
	}
}
