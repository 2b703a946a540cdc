//go:build race

package main

// raceEnabled: the tests run with -race, so the app binary they build does
// too; it then reuses the race-instrumented packages the test build already
// compiled, and the race detector watches the real binary under load.
const raceEnabled = true
