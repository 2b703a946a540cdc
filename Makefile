# Shipyard: a sample service on ECS Fargate with native blue/green deployments,
# and the tools that deploy it. `make help` lists the targets.
#
# Every target uses the approved Go toolchain, so nobody has to remember it:
# Go 1.26.8's standard library has known vulnerabilities that go1.27.3 fixes
# (docs/decisions/0001-go-toolchain.md). The go command fetches it from the
# module proxy on first use.
export GOTOOLCHAIN := go1.27.3

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

# Workspace modules (go.work). tools/devtools is deliberately outside the
# workspace: it pins the linters as Go tools without their dependencies
# leaking into the product's module graph.
MODULES := services/app platform lambdas/deploywatch tools/ship tools/localcloud tools/loadgen
PKGS    := $(addsuffix /...,$(addprefix ./,$(MODULES)))
DEVTOOLS := go tool -modfile=tools/devtools/go.mod

# Version stamping. The Dockerfile passes the same -ldflags (a test keeps them
# in step); GOFLAGS may carry -buildvcs=false, so the values come from git here.
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT  ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
LDFLAGS := -s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT)
BUILD   := CGO_ENABLED=0 go build -trimpath -ldflags '$(LDFLAGS)'

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

.PHONY: run
run: ## run the app on :5000 (PORT and HOST override)
	$(BUILD) -o bin/app ./services/app
	./bin/app

.PHONY: build
build: ## build every binary into bin/
	$(BUILD) -o bin/app ./services/app

.PHONY: test
test: ## run every test of every module, with the race detector
	go test -race -count=1 $(PKGS)
	cd tools/devtools && GOWORK=off go test -race -count=1 ./...

.PHONY: clean
clean: ## remove build outputs
	rm -rf bin
