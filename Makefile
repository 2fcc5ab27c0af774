# The two commands of the README: `make run` and `make test`.
GO ?= go
# staticcheck at a pinned version, fetched through the Go module proxy.
STATICCHECK ?= $(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2

# 0 leaves the RADOS tests out of `make test` (refused under CI=true).
RADOS ?= 1

.PHONY: run test build rados fuzz bench

build:
	$(GO) build -o bin/cairn ./cmd/cairn

# The binary with the RADOS store (cgo against Debian's librados-dev); the
# default build above stays pure Go.
rados:
	CGO_ENABLED=1 $(GO) build -tags rados -o bin/cairn-rados ./cmd/cairn

run: build
	./bin/cairn server

# Every test: unit, integration (real server on loopback, real clients and
# brokers) and end-to-end (the built binary driven by boto3, awscli, s3cmd);
# then, with the `rados` build tag, vet, staticcheck and the tests of the
# packages it changes, against a Ceph cluster started for the run
# (test/ceph/test-rados.sh; `make test RADOS=0` leaves that out, not under CI).
test:
	$(GO) vet ./...
	$(STATICCHECK) ./...
	$(GO) test -count=1 -timeout 45m ./...
	GO='$(GO)' STATICCHECK='$(STATICCHECK)' RADOS='$(RADOS)' test/ceph/test-rados.sh

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

