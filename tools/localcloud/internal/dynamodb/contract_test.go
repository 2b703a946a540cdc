package dynamodb_test

import (
	"testing"

	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/awsproto/awsprototest"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/clock"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/dynamodb"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/dynamodb/dynamodbtest"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/state"
)

// serve runs a DynamoDB backend on an httptest server.
func serve(t *testing.T, store state.Store) (*dynamodb.Backend, string) {
	t.Helper()
	b, err := dynamodb.New(dynamodb.Config{Clock: clock.New(1), Store: store})
	if err != nil {
		t.Fatal(err)
	}
	return b, awsprototest.Serve(t, b.Register)
}

func TestContractLocalcloud(t *testing.T) {
	_, url := serve(t, state.Store{Dir: t.TempDir()})
	dynamodbtest.Run(t, dynamodbtest.Target{Name: "localcloud", Endpoint: url})
}

// TestContractDynalite runs the same suite against dynalite, an
// independent implementation, so localcloud and it are held to the same
// answers. It skips, saying why, without Node.js or the npm registry.
func TestContractDynalite(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping the dynalite comparison")
	}
	url := dynamodbtest.Dynalite(t)
	dynamodbtest.Run(t, dynamodbtest.Target{Name: "dynalite", Endpoint: url, NoTransactions: true, NoBackups: true, NoReturnOnFailure: true})
}
