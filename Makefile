# The two commands of the README: `make run` and `make test`.
GO ?= go
# staticcheck at a pinned version, fetched through the Go module proxy.
STATICCHECK ?= $(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2

.PHONY: run test build fuzz bench

build:
	$(GO) build -o bin/cairn ./cmd/cairn

run: build
	./bin/cairn server

# Every test: unit, integration (real server on loopback, real clients and
# brokers) and end-to-end (the built binary driven by boto3, awscli, s3cmd).
test:
	$(GO) vet ./...
	$(STATICCHECK) ./...
	$(GO) test -count=1 -timeout 45m ./...

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

# The RADOS build: the rados store backend, cgo against librados (Debian's
# librados-dev); the default build above stays pure Go.
.PHONY: build-rados
build-rados:
	$(GO) build -tags rados -o bin/cairn-rados ./cmd/cairn
