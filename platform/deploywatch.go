package platform

// The deploywatch Lambda's configuration: the environment variables the
// environment stack gives its function, read by lambdas/deploywatch.
const (
	// EnvLedgerTable is the DynamoDB deployment ledger's table name.
	EnvLedgerTable = "LEDGER_TABLE"
	// EnvCluster is the ECS cluster's name.
	EnvCluster = "CLUSTER_NAME"
	// EnvService is the ECS service's name.
	EnvService = "SERVICE_NAME"
	// EnvWatchedAlarms is the comma-separated names of the alarms whose
	// ALARM state rolls a deployment back.
	EnvWatchedAlarms = "WATCHED_ALARMS"
	// EnvEnforcement is EnforceRollback or EnforceDryRun.
	EnvEnforcement = "ENFORCEMENT"
	// EnvGuardWindowMinutes is how long after a completed deployment an
	// alarm still rolls it back, in whole minutes.
	EnvGuardWindowMinutes = "GUARD_WINDOW_MINUTES"
	// EnvTestListenerURL is the base URL of the test listener the smoke-test
	// hook calls (empty when the environment has no test listener).
	EnvTestListenerURL = "TEST_LISTENER_URL"
	// EnvHealthCheckPath is the app's health path, for the smoke test.
	EnvHealthCheckPath = "HEALTH_CHECK_PATH"
	// EnvSmokeChecks is optional: more smoke-test requests, comma-separated
	// path=status pairs such as "/=200,/version=200". The health path with
	// 200 is always checked.
	EnvSmokeChecks = "SMOKE_CHECKS"
	// EnvSmokeWarmupSeconds is optional: how long the smoke-test hook
	// answers IN_PROGRESS while green is still warming up (default 300).
	EnvSmokeWarmupSeconds = "SMOKE_WARMUP_SECONDS"
	// EnvCooldownMinutes is optional: the least time between two enforced
	// rollbacks of the service (default 10).
	EnvCooldownMinutes = "ENFORCEMENT_COOLDOWN_MINUTES"
	// EnvTracesExporter is OpenTelemetry's standard variable, set from
	// deploywatch.tracing when tracing is on.
	EnvTracesExporter = "OTEL_TRACES_EXPORTER"
)

// The ledger table's key attributes (both strings).
const (
	LedgerPartitionKey = "pk"
	LedgerSortKey      = "sk"
)
