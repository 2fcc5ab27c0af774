//go:build rados

package radosopen

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/ceph/go-ceph/rados"

	"github.com/cairn-s3/cairn/internal/cephstatus"
	"github.com/cairn-s3/cairn/internal/server"
	"github.com/cairn-s3/cairn/internal/sse"
	radosstore "github.com/cairn-s3/cairn/internal/store/rados"
)

// radosGCInterval is how often each gateway collects the stripes of writes
// that died and of replaced bodies (passes are idempotent, so every
// gateway may run them).
const radosGCInterval = 10 * time.Minute

// connectTimeout bounds the wait for a monitor at start.
const connectTimeout = "30"

// Open connects to the cluster of p.Ceph, creates the store's pool if
// missing (with the cluster's defaults) and opens the RADOS store in it,
// with the SSE master key and the cache invalidation channel beside it.
// It is a server.StoreOpener.
func Open(ctx context.Context, p server.StoreParams) (*server.OpenedStore, error) {
	c := p.Ceph
	log := p.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	conn, err := connectCeph(c)
	if err != nil {
		return nil, err
	}
	pool := c.Pool()
	if err := ensurePool(conn, pool); err != nil {
		conn.Shutdown()
		return nil, err
	}
	st, err := radosstore.Open(ctx, radosstore.Options{
		Conn: conn, Pool: pool, Hook: p.Hook, Logger: log.With("component", "store"), GCInterval: radosGCInterval,
	})
	if err != nil {
		conn.Shutdown()
		return nil, err
	}
	rs := &radosBackend{Store: st, conn: conn}
	if rs.io, err = conn.OpenIOContext(pool); err != nil {
		_ = rs.Close()
		return nil, fmt.Errorf("rados: open pool %s: %w", pool, err)
	}
	keys, err := radosKeyring(rs.io)
	if err != nil {
		_ = rs.Close()
		return nil, err
	}
	if rs.peers, err = newRadosPeers(rs.io, log.With("component", "peers")); err != nil {
		_ = rs.Close()
		return nil, err
	}
	if rs.live, err = newLiveRelay(rs.io, conn.GetInstanceID(), log.With("component", "live-relay")); err != nil {
		_ = rs.Close()
		return nil, err
	}
	return &server.OpenedStore{Backend: rs, Keys: keys, Where: "pool " + pool, Peers: rs.peers, Live: rs.live,
		Drainer: shardDrainer{st: st, ttl: c.DrainLease},
		Cluster: func(ctx context.Context) (cephstatus.Status, error) { return cephstatus.Fetch(ctx, conn) }}, nil
}

// connectCeph connects as c.User with c.ConfFile (or librados' defaults).
func connectCeph(c server.CephConfig) (*rados.Conn, error) {
	conn, err := rados.NewConnWithUser(strings.TrimPrefix(c.User, "client."))
	if err != nil {
		return nil, fmt.Errorf("rados: new connection: %w", err)
	}
	if c.ConfFile != "" {
		err = conn.ReadConfigFile(c.ConfFile)
	} else {
		err = conn.ReadDefaultConfigFile()
	}
	if err != nil {
		conn.Shutdown()
		return nil, fmt.Errorf("rados: read ceph.conf %q: %w", c.ConfFile, err)
	}
	// Without bounds, librados waits forever for a monitor or an OSD that
	// is not there: at connect, in mon commands, in object operations.
	for _, o := range []struct{ name, value string }{
		{"client_mount_timeout", connectTimeout},
		{"rados_mon_op_timeout", seconds(c.MonTimeout)},
		{"rados_osd_op_timeout", seconds(c.OSDTimeout)},
	} {
		if err := conn.SetConfigOption(o.name, o.value); err != nil {
			conn.Shutdown()
			return nil, fmt.Errorf("rados: set %s=%s: %w", o.name, o.value, err)
		}
	}
	if err := conn.Connect(); err != nil {
		conn.Shutdown()
		return nil, fmt.Errorf("rados: connect as %s: %w", c.User, err)
	}
	return conn, nil
}

// seconds formats d as librados' timeouts take it, whole seconds (at
// least 1; 0 would mean no bound at all).
func seconds(d time.Duration) string {
	return strconv.FormatInt(max(int64((d+time.Second-1)/time.Second), 1), 10)
}

// ensurePool creates pool with the cluster's defaults unless it exists
// (another gateway may create it at the same moment).
func ensurePool(conn *rados.Conn, pool string) error {
	if _, err := conn.GetPoolByName(pool); err == nil {
		return nil
	}
	// EEXIST: another gateway created it meanwhile, which the lookup sees.
	if err := conn.MakePool(pool); err != nil {
		if _, lerr := conn.GetPoolByName(pool); lerr != nil {
			return fmt.Errorf("rados: create pool %s: %w", pool, err)
		}
	}
	// Tag the pool, or Ceph's health warns POOL_APP_NOT_ENABLED. Best
	// effort: a user without mon write caps still gets a working store.
	cmd := fmt.Sprintf(`{"prefix":"osd pool application enable","pool":%q,"app":"cairn","yes_i_really_mean_it":true}`, pool)
	_, _, _ = conn.MonCommand([]byte(cmd))
	return nil
}

// sseKeyOID is the object holding the SSE master key, shared by every
// gateway of the pool (on the local store it is a file in the data dir).
const sseKeyOID = "cairn.sse-master"

// radosKeyring loads the SSE master key, creating it if missing: one write
// operation that creates the object exclusively, so two gateways starting
// at once agree on one key.
func radosKeyring(io *rados.IOContext) (*sse.Keyring, error) {
	op := rados.CreateWriteOp()
	op.Create(rados.CreateExclusive)
	op.WriteFull(sse.NewDataKey())
	err := op.Operate(io, sseKeyOID, rados.OperationNoFlag)
	op.Release()
	if oe, ok := errors.AsType[rados.OperationError](err); ok && errors.Is(oe.OpError, rados.ErrObjectExists) {
		err = nil // another gateway made it: use that one
	}
	if err != nil {
		return nil, fmt.Errorf("rados: create SSE master key: %w", err)
	}
	buf := make([]byte, sse.KeySize+1)
	n, err := io.Read(sseKeyOID, buf, 0)
	if err != nil {
		return nil, fmt.Errorf("rados: read SSE master key: %w", err)
	}
	if n != sse.KeySize {
		return nil, fmt.Errorf("rados: SSE master key %s is %d bytes, want %d", sseKeyOID, n, sse.KeySize)
	}
	return sse.NewKeyring(buf[:n])
}

// radosBackend is the RADOS store with the connection and pool handle the
// server opened for it, all released by Close.
type radosBackend struct {
	*radosstore.Store
	conn  *rados.Conn
	io    *rados.IOContext
	peers *radosPeers
	live  *liveRelay
}

func (r *radosBackend) Close() error {
	if r.live != nil {
		r.live.close()
	}
	if r.peers != nil {
		r.peers.close()
	}
	if r.io != nil {
		r.io.Destroy()
	}
	err := r.Store.Close()
	r.conn.Shutdown()
	return err
}
