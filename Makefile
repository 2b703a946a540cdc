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

# The linters pinned in tools/devtools/go.mod. `go tool -modfile` refuses to
# run in workspace mode, so they are built once per toolchain into the
# git-ignored .cache, and again when tools/devtools/go.mod or go.sum change.
TOOLBIN       := $(CURDIR)/.cache/tools/$(GOTOOLCHAIN)
GOLANGCI_LINT := $(TOOLBIN)/golangci-lint
GOVULNCHECK   := $(TOOLBIN)/govulncheck
ACTIONLINT    := $(TOOLBIN)/actionlint
# ko, make bench-ship's baseline, in a module of its own (tools/devtools/ko).
KO            := $(TOOLBIN)/ko
VULNGATE      := $(TOOLBIN)/vulngate

# make vuln's local vulnerability database, converted from this version of the
# golang.org/x/vulndb module (there is no network to vuln.go.dev). A new
# version builds a new database beside the old one.
VULNDB_MODULE := golang.org/x/vulndb@v0.0.0-20261105234957-e22db6528018
VULNDB        := $(CURDIR)/.cache/vulndb/$(lastword $(subst @, ,$(VULNDB_MODULE)))
# Reviewed exceptions: reachable vulnerabilities with no fix we can take yet.
VULN_ACCEPTED := tools/devtools/vuln-accepted.txt

# Version stamping. The Dockerfile passes the same -ldflags (a test keeps them
# in step); GOFLAGS may carry -buildvcs=false, so the values come from git here.
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT  ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
LDFLAGS := -s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT)
BUILD   := CGO_ENABLED=0 go build -trimpath -ldflags '$(LDFLAGS)'

.PHONY: help
help: ## list the targets
	@awk 'BEGIN { FS = ":.*## " } /^##@ / { printf "\n%s\n", substr($$0, 5); next } /^[a-z-]+:.*## / { printf "  %-12s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)

##@ Deploy and operate (ENV=local by default: the local cloud, started on demand)

# What the deploy targets run: ship, and the localcloud binary ship starts
# beside it. ship builds the app's image and the deploywatch package from
# source itself, so they need nothing else from bin/.
.PHONY: ship-bins
ship-bins:
	$(BUILD) -o bin/ship ./tools/ship
	$(BUILD) -o bin/localcloud ./tools/localcloud

# The environment the deploy targets act on (ship.yaml); local runs on the
# local cloud, which ship starts in the background when it is not running.
ENV ?= local

.PHONY: deploy
deploy: ship-bins ## the main job: ship up (the stacks and the service; afterwards only what changed), then a blue/green ship deploy
	./bin/ship up --yes --env $(ENV)
	./bin/ship deploy --env $(ENV)

.PHONY: up
up: ship-bins ## create or update the stacks and the service (asks first on a terminal)
	./bin/ship up --env $(ENV)

.PHONY: plan
plan: ship-bins ## show what ship up would change, without changing it
	./bin/ship plan --env $(ENV)

.PHONY: status
status: ship-bins ## the running revision, tasks, weights, alarms and any deployment in flight
	./bin/ship status --env $(ENV)

.PHONY: history
history: ship-bins ## past deployments from the ledger
	./bin/ship history --env $(ENV)

.PHONY: rollback
rollback: ship-bins ## stop the deployment in flight, or redeploy the last good revision
	./bin/ship rollback --env $(ENV)

.PHONY: drill
drill: ship-bins ## deploy the running revision with a fault (FAULT=health|errors|latency|crash) and check it is caught and rolled back
	./bin/ship drill --env $(ENV) --fault $(or $(FAULT),health)

.PHONY: logs
logs: ship-bins ## the app's logs, merged across tasks, followed (Ctrl-C ends; SINCE=1h, REVISION=N)
	./bin/ship logs --env $(ENV) -f --since $(or $(SINCE),10m) $(if $(REVISION),--revision $(REVISION))

.PHONY: destroy
destroy: ship-bins ## delete the environment: service, stacks, images, ledger (asks first; YES=1 skips)
	./bin/ship destroy --env $(ENV) $(if $(YES),--yes)

##@ The local cloud (docs/localcloud.md; one per checkout, in .localcloud/)

# make local-up starts it with other ports, for a second checkout on the same
# machine: LOCAL_ADDR (default 127.0.0.1:4566), LOCAL_PORT_OFFSET (listener
# port P is served on P+offset, default 8000), TIME_SCALE (default 0.1). The
# deploy targets then use the one running; with none running they start one
# with the defaults.
.PHONY: local-up
local-up: ship-bins ## start the local cloud (LOCAL_ADDR=127.0.0.1:4566 LOCAL_PORT_OFFSET=8000 TIME_SCALE=0.1; change them for a second checkout)
	./bin/ship local up $(if $(LOCAL_ADDR),--addr $(LOCAL_ADDR)) $(if $(LOCAL_PORT_OFFSET),--listener-port-offset $(LOCAL_PORT_OFFSET)) $(if $(TIME_SCALE),--time-scale $(TIME_SCALE))

.PHONY: local-status
local-status: ship-bins ## whether the local cloud runs: address, pid, time scale, listener port offset, log, state
	./bin/ship local status

.PHONY: local-down
local-down: ship-bins ## stop the local cloud and its tasks (its state stays: rm -rf .localcloud for a fresh one)
	./bin/ship local down

##@ Develop

.PHONY: build
build: ## build every binary into bin/
	$(BUILD) -o bin/app ./services/app
	$(BUILD) -o bin/ship ./tools/ship
	$(BUILD) -o bin/localcloud ./tools/localcloud
# The Lambda for provided.al2023, built as ship up builds the package it
# uploads (platform/bundle; its TestMakefileBuildsLikeBundle keeps the flags
# in step). lambda.norpc drops the unused Go-runtime RPC server (20 MB → 14 MB).
	CGO_ENABLED=0 GOOS=linux go build -trimpath -tags lambda.norpc -ldflags '$(LDFLAGS)' -o bin/deploywatch/bootstrap ./lambdas/deploywatch

.PHONY: run
run: ## build and run the app on :5000 (PORT, HOST, APP_FAULT from the environment; services/app/README.md)
	$(BUILD) -o bin/app ./services/app
	./bin/app

# dynalite, the Node.js DynamoDB that the ledger suite also runs against
# (TestLedgerOnDynalite), pinned by its package-lock.json. make test
# installs it where npm exists; without npm, or when the install fails
# (offline), that run skips and says why.
DYNALITE_PKG := platform/ledger/ledgertest/dynalite
DYNALITE     := .cache/dynalite/node_modules/.bin/dynalite

.PHONY: test
test: ## run every test of every module, with the race detector
	@if command -v npm >/dev/null && { [ ! -x $(DYNALITE) ] || ! cmp -s $(DYNALITE_PKG)/package-lock.json .cache/dynalite/package-lock.json; }; then \
		mkdir -p .cache/dynalite && cp $(DYNALITE_PKG)/package.json $(DYNALITE_PKG)/package-lock.json .cache/dynalite/ && \
		npm ci --prefix .cache/dynalite --no-audit --no-fund --loglevel=error \
		|| echo "make test: could not install dynalite; TestLedgerOnDynalite will skip"; \
	fi
	go test -race -count=1 $(PKGS)
	cd tools/devtools && GOWORK=off go test -race -count=1 ./...

# no_packages,DIR: true when the module in DIR has no Go package yet, which
# golangci-lint and govulncheck treat as an error.
no_packages = (cd $(1) && go list ./... 2>&1 | grep -q 'matched no packages')

# make test-aws: the //go:build aws tests, against the AWS account of the
# default credential chain, in the ship.yaml environment SHIP_AWS_ENV names
# (not production). They deploy for real and cost money; never run in CI.
.PHONY: test-aws
test-aws: ## the tests against a real AWS account: make test-aws SHIP_AWS_ENV=staging (docs/ci.md; never in CI)
	@if [ -z "$${SHIP_AWS_ENV:-}" ]; then echo "test-aws: set SHIP_AWS_ENV to the ship.yaml environment to deploy to, e.g. make test-aws SHIP_AWS_ENV=staging (docs/ci.md)"; exit 2; fi
	SHIP_AWS_ENV=$${SHIP_AWS_ENV} go test -tags aws -count=1 -timeout 90m -run '^TestAWS' -v ./tools/ship/

.PHONY: lint
lint: $(GOLANGCI_LINT) $(ACTIONLINT) ## gofmt check, go vet (with the aws tests) and golangci-lint over every module; actionlint over .github/workflows
	@failed=; \
	echo "gofmt -l"; \
	unformatted="$$(gofmt -l $(MODULES) tools/devtools)"; \
	if [ -n "$$unformatted" ]; then \
		printf 'these files are not gofmt-formatted (run gofmt -w on them):\n%s\n' "$$unformatted"; failed="$$failed gofmt"; \
	fi; \
	echo "go vet $(PKGS)"; \
	go vet $(PKGS) || failed="$$failed go-vet"; \
	echo "go vet -tags aws (the tests make test-aws runs)"; \
	go vet -tags aws ./tools/ship/... || failed="$$failed go-vet(aws)"; \
	echo "go vet tools/devtools"; \
	(cd tools/devtools && GOWORK=off go vet ./...) || failed="$$failed go-vet(tools/devtools)"; \
	for m in $(MODULES); do \
		if $(call no_packages,$$m); then echo "golangci-lint $$m: no Go packages yet, skipped"; continue; fi; \
		echo "golangci-lint $$m"; \
		(cd $$m && $(GOLANGCI_LINT) run --config $(CURDIR)/.golangci.yml ./...) || failed="$$failed golangci-lint($$m)"; \
	done; \
	echo "golangci-lint tools/devtools"; \
	(cd tools/devtools && GOWORK=off $(GOLANGCI_LINT) run --config $(CURDIR)/.golangci.yml ./...) || failed="$$failed golangci-lint(tools/devtools)"; \
	if command -v shellcheck >/dev/null; then echo "actionlint .github/workflows (run: scripts with shellcheck)"; \
	else echo "actionlint .github/workflows (shellcheck not installed: run: scripts unchecked; apt-get install shellcheck)"; fi; \
	$(ACTIONLINT) -color=false || failed="$$failed actionlint"; \
	if [ -n "$$failed" ]; then echo "lint failed:$$failed"; exit 1; fi

.PHONY: vuln
vuln: $(GOVULNCHECK) $(VULNGATE) $(VULNDB)/index/modules.json ## scan every module for known vulnerabilities (local database)
	@failed=; \
	for m in $(MODULES); do \
		if $(call no_packages,$$m); then echo "govulncheck $$m: no Go packages yet, skipped"; continue; fi; \
		echo "govulncheck $$m"; \
		(cd $$m && $(GOVULNCHECK) -db file://$(VULNDB) -format json ./...) \
			| $(VULNGATE) -module $$m -accept $(VULN_ACCEPTED) || failed="$$failed $$m"; \
	done; \
	if [ -n "$$failed" ]; then \
		echo "make vuln failed in:$$failed"; \
		echo "full traces: cd <module> && $(GOVULNCHECK) -db file://$(VULNDB) -show verbose ./..."; \
		exit 1; \
	fi

.PHONY: tools
tools: $(GOLANGCI_LINT) $(GOVULNCHECK) $(ACTIONLINT) $(VULNGATE) ## build the pinned linters into .cache/tools

$(GOLANGCI_LINT): tools/devtools/go.mod tools/devtools/go.sum
	GOWORK=off go build -C tools/devtools -o $@ github.com/golangci/golangci-lint/v2/cmd/golangci-lint

$(KO): tools/devtools/ko/go.mod tools/devtools/ko/go.sum
	GOWORK=off go build -C tools/devtools/ko -o $@ github.com/google/ko

$(GOVULNCHECK): tools/devtools/go.mod tools/devtools/go.sum
	GOWORK=off go build -C tools/devtools -o $@ golang.org/x/vuln/cmd/govulncheck

$(ACTIONLINT): tools/devtools/go.mod tools/devtools/go.sum
	GOWORK=off go build -C tools/devtools -o $@ github.com/rhysd/actionlint/cmd/actionlint

$(VULNGATE): tools/devtools/go.mod $(wildcard tools/devtools/vulngate/*.go tools/devtools/cmd/vulngate/*.go)
	GOWORK=off go build -C tools/devtools -o $@ ./cmd/vulngate

$(VULNDB)/index/modules.json: $(wildcard tools/devtools/vulndb/*.go tools/devtools/cmd/vulndb/*.go)
	rm -rf $(VULNDB)
	cd tools/devtools && GOWORK=off go run ./cmd/vulndb -module $(VULNDB_MODULE) -out $(VULNDB)

.PHONY: image
image: ## build the app's container image with Docker (ship deploy builds it without Docker)
	@command -v docker >/dev/null || { echo "image: docker not found; install Docker, or use ship deploy, which builds the image without it"; exit 1; }
	docker build --build-arg VERSION=$(VERSION) --build-arg COMMIT=$(COMMIT) -t shipyard/app:$(VERSION) .

.PHONY: clean
clean: ## remove bin/ (the local cloud's state stays in .localcloud/)
	rm -rf bin

##@ Measure (docs/performance.md)

.PHONY: bench
bench: ## benchmarks: the app under load against a plain net/http baseline, deploywatch per event, cold start and binary size, ship's image build+push against ko (docs/performance.md)
	$(BUILD) -o bin/app ./services/app
	$(BUILD) -o bin/baseline ./tools/loadgen/cmd/baseline
	go run ./tools/loadgen/cmd/bench -app bin/app -baseline bin/baseline $(BENCHFLAGS)
	go test -run '^$$' -bench . -benchtime 200x ./lambdas/deploywatch/...
	$(MAKE) bench-ship

.PHONY: bench-ship
bench-ship: $(KO) ## ship deploy's build+push against ko build to the same local registry, image sizes, ship's overhead per deploy
	$(BUILD) -o bin/ship ./tools/ship
	$(BUILD) -o bin/localcloud ./tools/localcloud
	go run ./tools/ship/cmd/shipbench -ship bin/ship -localcloud bin/localcloud -ko $(KO) $(SHIPBENCHFLAGS)
