// Package server is the app's HTTP layer: an Echo router with the health,
// info and greeting handlers, the middleware chain (request id, security
// headers, access log, panic recovery, route naming for traces, body limit,
// injected faults), one error handler that renders every error as a typed
// JSON body, and the drain-then-shutdown sequence run on SIGTERM.
//
// Handlers return errors; the error handler is the only place that turns an
// error into a response. Middlewares live one per file, each with its test.
package server
