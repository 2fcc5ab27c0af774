package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"

	"github.com/cairn-s3/cairn/internal/cephstatus"
	"github.com/cairn-s3/cairn/internal/kv"
	"github.com/cairn-s3/cairn/internal/live"
	"github.com/cairn-s3/cairn/internal/sse"
	"github.com/cairn-s3/cairn/internal/store"
	"github.com/cairn-s3/cairn/internal/store/local"
)

// Backend is what the server needs of a store: the store contract and the
// kv namespace (accounts, topics, queues, scripts) in the same store.
type Backend interface {
	store.Backend
	KV() kv.Store
}

// scrubber is a store whose data the background scrub verifies (local).
type scrubber interface {
	Scrub(ctx context.Context, opts local.ScrubOptions) (local.ScrubReport, error)
}

// OpenedStore is an open backend and what comes with it.
type OpenedStore struct {
	Backend
	// Keys is the SSE master keyring, shared by every gateway of the store.
	Keys *sse.Keyring
	// Where describes the store for the log: a directory or a pool.
	Where string
	// Peers, if not nil, reaches the other gateways sharing the store.
	Peers Peers
	// Live, if not nil, carries live events between the gateways sharing
	// the store.
	Live LiveRelay
	// Cluster, if not nil, reads the status of the store's Ceph cluster
	// (GET /admin/cluster and the cairn_ceph_* metrics).
	Cluster ClusterStatus
	// Drainer, if not nil, delivers queued events per shard (several
	// gateways share the store): the server runs a shared queue on each
	// shard whose lease it holds instead of one queue over the whole kv.
	Drainer Drainer
}

// Drainer hands each shard this gateway holds the lease of to run, until
// the lease is lost or ctx ends (RADOS: rados.Store.Drain).
type Drainer interface {
	Drain(ctx context.Context, run func(ctx context.Context, sh DrainedShard)) error
}

// DrainedShard is one shard a Drainer holds.
type DrainedShard struct {
	// Name names the shard in logs.
	Name string
	// KV holds the shard's records; its writes fail once the lease is lost.
	KV kv.Store
	// Shares is how many shards split a topic's capacity.
	Shares int
	// Wake receives when a commit wrote to the shard (this gateway's, or
	// another's while Watched).
	Wake <-chan struct{}
	// Watched, if set, tells whether every commit that writes to the shard
	// wakes it: an idle shard is then polled seldom (see drainShard).
	Watched func() bool
	// SyncFull marks the key prefixes whose share of capacity is used.
	SyncFull func(ctx context.Context, full map[string]bool) error
}

// ClusterStatus reads the status of a store's cluster (the RADOS
// opener's, over its connection: cephstatus.Fetch).
type ClusterStatus func(ctx context.Context) (cephstatus.Status, error)

// Peers tells the other gateways sharing a store to drop cached account
// lookups, and hears them tell this one.
type Peers interface {
	// Changed reports access keys a write changed (account.Options.OnChange).
	Changed(ctx context.Context, accessKeys []string)
	// Listen calls forget with the access keys another gateway changed,
	// none meaning all of them (the channel was lost and is back).
	Listen(forget func(accessKeys ...string))
}

// LiveRelay is a live.Relay that delivers what it receives to a hub.
type LiveRelay interface {
	live.Relay
	// Attach sets the hub relayed events go to (before serving).
	Attach(h *live.Hub)
}

// StoreOpener opens a store other than the local one. The RADOS opener
// (package radosopen) is cgo, built only with the rados tag: binaries built
// with it set Config.RadosOpener, so this package stays pure Go.
type StoreOpener func(ctx context.Context, p StoreParams) (*OpenedStore, error)

// StoreParams is what a StoreOpener gets.
type StoreParams struct {
	Ceph   CephConfig
	Logger *slog.Logger
	// Hook must run inside the commit of every object change.
	Hook store.ChangeHook
}

// errNoRados answers --store rados in a binary built without the tag.
var errNoRados = errors.New("this cairn binary has no RADOS store: build it with `make rados` (go build -tags rados)")

// storeOpen is what openStore gets: the hook runs inside every commit.
type storeOpen struct {
	cfg       Config
	log       *slog.Logger
	hook      store.ChangeHook
	onCorrupt func(*local.CorruptError)
}

// openStore opens the backend cfg.Store names.
func openStore(ctx context.Context, o storeOpen) (*OpenedStore, error) {
	if o.cfg.Store != StoreRados {
		return openLocal(o)
	}
	if o.cfg.RadosOpener == nil {
		return nil, errNoRados
	}
	return o.cfg.RadosOpener(ctx, StoreParams{Ceph: o.cfg.Ceph, Logger: o.log, Hook: o.hook})
}

// openLocal opens the embedded store in the data directory; the SSE master
// key lives there too (created at first start, mode 0600).
func openLocal(o storeOpen) (*OpenedStore, error) {
	cfg := o.cfg
	st, err := local.Open(cfg.DataDir, local.Options{
		Logger: o.log.With("component", "store"), Hook: o.hook, OnCorrupt: o.onCorrupt,
		BallastSize: cfg.BallastSize, BallastPercent: cfg.BallastPercent,
	})
	if err != nil {
		return nil, fmt.Errorf("open store in %s: %w", cfg.DataDir, err)
	}
	keys, err := sse.LoadOrCreateKeyring(filepath.Join(cfg.DataDir, sseKeyFile))
	if err != nil {
		_ = st.Close()
		return nil, err
	}
	return &OpenedStore{Backend: st, Keys: keys, Where: cfg.DataDir}, nil
}
