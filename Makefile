# asgo — see README.md. `make run` and `make test` work on a fresh machine: `deps`
# installs every tool the tests use (Debian packages with apt-get, Go tools into ./bin).

GO      ?= go
BIN     := $(CURDIR)/bin
export PATH := $(BIN):$(PATH)
SUDO    := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# Real peers used by the tests and the benchmarks.
APT_PKGS := curl wrk nghttp2-client python3-websockets python3-h2 python3-httpx \
            nginx-light chromium util-linux procps systemd haproxy \
            uwsgi-core uwsgi-plugin-python3 openssl redis-server
H2SPEC_VERSION := v2.2.1+incompatible
STATICCHECK_VERSION := v0.8.2

# Packages whose tests also run under the race detector.
RACE_PKGS := ./protocol/... ./eventloop/... ./lifespan/... ./channels/... ./apps/chat

.PHONY: all build run test test-go bench bench-quick fuzz lint depcheck deps apt-deps go-tools clean

all: build

build:
	$(GO) build -o $(BIN)/asgo ./cmd/asgo

run: build
	$(BIN)/asgo serve

deps: apt-deps go-tools

apt-deps:
	@missing=""; for p in $(APT_PKGS); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi

go-tools: $(BIN)/h2spec $(BIN)/staticcheck

$(BIN)/h2spec:
	GOBIN=$(BIN) $(GO) install github.com/summerwind/h2spec/cmd/h2spec@$(H2SPEC_VERSION)

$(BIN)/staticcheck:
	GOBIN=$(BIN) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

test: deps lint depcheck build
	$(GO) test -race -count=1 $(RACE_PKGS)
	$(GO) test -count=1 -timeout 20m ./...
	$(MAKE) -C bench test ASGO=$(BIN)/asgo

lint: $(BIN)/staticcheck
	$(GO) vet ./...
	$(BIN)/staticcheck ./...
	@out=$$(gofmt -l . ); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

# Import rules (docs/ARCHITECTURE.md): protocol/asgi imports nothing of ours; only eventloop
# imports gnet; wire packages do not import each other; lifespan imports only the contract;
# apps import only the contract, lifespan and other apps.
depcheck:
	@$(GO) run ./internal/depcheck

FUZZTIME ?= 30s
# Runs every Fuzz target for FUZZTIME each; crashers land in testdata/fuzz and become seeds.
fuzz:
	@set -e; for pkg in $$($(GO) list ./...); do \
		for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
			echo "== $$pkg $$f"; $(GO) test -run='^$$' -fuzz="^$$f$$" -fuzztime=$(FUZZTIME) $$pkg; \
		done; \
	done

bench: build
	$(MAKE) -C bench grid ASGO=$(BIN)/asgo

bench-quick: build
	$(MAKE) -C bench quick ASGO=$(BIN)/asgo

clean:
	rm -rf $(BIN)
