# The two commands: `make run` runs Portico, `make test` runs every test.
GO      ?= go
BIN     ?= bin/portico
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
PORTICO_ADMIN_PASSWORD ?=

.PHONY: build run demo test test-short bench bench-go bench-import bench-console bench-publish bench-postgres bench-tls bench-stream bench-conns vet fmt clean

build:
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o $(BIN) ./cmd/portico

# Runs the control plane and the embedded gateway on :9180 / :9080 / :9091.
run: build
	PORTICO_ADMIN_PASSWORD=$(PORTICO_ADMIN_PASSWORD) ./$(BIN) server

# The httpbin-like backend of the README tour on :8080.
demo: build
	./$(BIN) demo-backend --addr :8080

vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...

# Every test, with the race detector, as CI runs them; then the tests
# that count allocations, which the race detector would skew, and the
# console's odd-values tests, thousands of requests in a row in which it
# finds nothing but which it slows by minutes. GORACE: a race binary
# otherwise sleeps a second before it exits, once per test binary.
test: vet
	GORACE=atexit_sleep_ms=0 $(GO) test -race -count=1 -timeout 20m ./...
	$(GO) test -count=1 -run 'AllocatesNothing' ./internal/gateway/...
	$(GO) test -count=1 -run 'NeverAnswer500' ./internal/console/

test-short:
	$(GO) test -short -count=1 ./...

# Micro-benchmarks (route lookup, proxy path) then the side-by-side run
# against nginx (when installed) and the httputil reference (see bench/ and README).
bench-go:
	$(GO) test -run '^$$' -bench . -benchmem -count 1 ./internal/gateway/match/ ./internal/gateway/routing/ ./internal/gateway/engine/...

# Goal: importing a 1 000-operation OpenAPI document, and GitHub's REST
# description (1 223 operations, 13 MB, fetched as .ci/run fetches it;
# skipped when it is not there), takes under 2 s; the benchmarks fail when
# slower.
bench-import:
	PORTICO_OPENAPI_CORPUS="$${PORTICO_OPENAPI_CORPUS:-$$HOME/.cache/portico/openapi-corpus}" \
		$(GO) test -run '^$$' -bench 'Import1000|ImportGitHub' -benchmem -benchtime 5x -count 1 ./internal/openapi/

# Goal: console pages render in under 100 ms server time
# with 1 000 services in the project; the benchmark fails when slower.
bench-console:
	$(GO) test -run '^$$' -bench ServicesPage1000 -benchmem -benchtime 20x -count 1 ./internal/console/

# Publish → served on every gateway of a group (the embedded one and two
# stand-alone) with 10, 1 000 and 10 000 services of 10 routes, the feed's
# bytes per publish and a stand-alone gateway's memory (docs/benchmark.md).
bench-publish:
	$(GO) run ./bench/publish -sizes 10,1000,10000 -publishes 40

# Control planes on PostgreSQL (the machine's, 127.0.0.1:5432): admin
# reads and publishes per second beside SQLite's, and publish → served
# across two control planes sharing one database.
PG_ADMIN ?= postgres://postgres@127.0.0.1:5432/test?sslmode=disable
bench-postgres:
	$(GO) test -run '^$$' -bench AdminReadsUnderPublish -benchtime 3s -count 3 ./internal/adminapi/
	$(GO) run ./bench/publish -sizes 10,1000 -publishes 40 -postgres '$(PG_ADMIN)'

# The gateway's HTTPS listener through an independent scanner (Debian's
# testssl.sh): no protocol below TLS 1.2, no finding MEDIUM or above.
bench-tls:
	bash bench/tlsscan/run.sh

# Layer 4: a stream service relaying Redis beside nginx's stream module and
# a direct connection, redis-benchmark against a private redis-server (needs
# redis-server and Debian's libnginx-mod-stream; docs/benchmark.md).
bench-stream:
	$(GO) run ./bench/stream -rounds 3 -requests 200000 -connections 50,200 $(BENCH_STREAM_FLAGS)

# Memory per idle keep-alive client connection, 10 000 and 50 000 of them,
# Portico's fast engine beside nginx (needs root for the open-file limit;
# docs/benchmark.md).
bench-conns:
	$(GO) run ./bench/runner -idle-conns 10000,50000 -targets nginx,portico-fast,nginx-https,portico-fast-https $(BENCH_CONNS_FLAGS)

bench: bench-go bench-import bench-console bench-publish bench-postgres bench-tls bench-stream
	$(GO) run ./bench/runner -duration 10s -warmup 2s -connections 50,200 $(BENCH_FLAGS)

clean:
	rm -rf bin portico-data
