//go:build rados

package radosopen

import (
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ceph/go-ceph/rados"

	"github.com/cairn-s3/cairn/internal/live"
	"github.com/cairn-s3/cairn/internal/notify"
)

// The live event stream across gateways, by RADOS watch/notify:
//
//   - A gateway with listeners of bucket B watches object liveBucketOID(B)
//     and registers that watch as an omap row of liveRegistryOID
//     ("B\n<instance id>\n<watch cookie>", valued liveReadsMark while a
//     listener there asked for s3:ObjectAccessed events), announcing the
//     row by a notify on the registry, which every gateway watches.
//   - Each gateway keeps the registry in memory, so a change to a bucket
//     nobody else watches costs one map lookup and nothing on the cluster,
//     and so does a read of a bucket nobody else watches for reads.
//   - Changes to a watched bucket (and reads of a bucket watched for reads)
//     are queued (bounded, reads to half the queue: overflow is counted
//     and reported to the listeners as a gap, at the latest once the
//     sender is idle) and sent by one goroutine, in commit order, in
//     batches of at most liveBatchBytes per notify on liveBucketOID(B); the
//     watching gateways fan them out to their listeners.
//   - A row whose watch no longer exists (its gateway died) is removed by
//     the first sender whose notify it did not reach.
const (
	liveRegistryOID   = "cairn.live"
	liveBucketPrefix  = "cairn.live."
	liveQueue         = 4096
	liveBatchBytes    = 64 << 10
	liveBatchCount    = 256
	liveNotifyTimeout = time.Second
	// liveReadsMark is the value of a registry row whose gateway has
	// listeners of reads (the others' is empty).
	liveReadsMark = "reads"
)

func liveBucketOID(bucket string) string { return liveBucketPrefix + bucket }

// liveRow is one registered watch of a bucket: the gateway's RADOS
// instance id (a notify acknowledgement's NotifierID) and the watch's cookie.
type liveRow struct {
	bucket string
	gid    uint64
	cookie uint64
}

func (r liveRow) key() string {
	return r.bucket + "\n" + strconv.FormatUint(r.gid, 10) + "\n" + strconv.FormatUint(r.cookie, 10)
}

func parseLiveRow(key string) (liveRow, bool) {
	b, rest, ok1 := strings.Cut(key, "\n")
	g, c, ok2 := strings.Cut(rest, "\n")
	gid, err1 := strconv.ParseUint(g, 10, 64)
	cookie, err2 := strconv.ParseUint(c, 10, 64)
	return liveRow{bucket: b, gid: gid, cookie: cookie}, ok1 && ok2 && err1 == nil && err2 == nil
}

// liveEvent is one change waiting to be sent.
type liveEvent struct {
	bucket string
	owner  string // the bucket's
	ev     notify.EventType
	key    string
	record []byte
}

// liveRelay is this gateway's end of the live event relay (a live.Relay).
type liveRelay struct {
	io  *rados.IOContext
	log *slog.Logger
	gid uint64 // this gateway's RADOS instance id
	hub atomic.Pointer[live.Hub]

	regMu  sync.Mutex
	rows   map[string]map[liveRow]bool // other gateways' rows by bucket (true: wants reads), under regMu
	remote atomic.Pointer[liveView]    // made from rows, replaced on change

	syncMu   sync.Mutex
	watching map[string]*bucketWatch // under syncMu
	closed   bool                    // under syncMu

	q      chan liveEvent
	dropMu sync.Mutex
	drops  map[string]lost // events lost per bucket, not yet reported

	stop chan struct{}
	wg   sync.WaitGroup
}

var _ live.Relay = (*liveRelay)(nil)

// newLiveRelay watches the registry (created if missing), loads it and
// starts the sender.
func newLiveRelay(io *rados.IOContext, gid uint64, log *slog.Logger) (*liveRelay, error) {
	r := &liveRelay{io: io, log: log, gid: gid, rows: map[string]map[liveRow]bool{},
		watching: map[string]*bucketWatch{}, q: make(chan liveEvent, liveQueue),
		drops: map[string]lost{}, stop: make(chan struct{})}
	if err := forceOp(io, liveRegistryOID, func(op *rados.WriteOp) { op.Create(rados.CreateIdempotent) }); err != nil {
		return nil, fmt.Errorf("rados: create %s: %w", liveRegistryOID, err)
	}
	w, err := io.Watch(liveRegistryOID)
	if err != nil {
		return nil, fmt.Errorf("rados: watch %s: %w", liveRegistryOID, err)
	}
	if err := r.reload(); err != nil {
		_ = w.Delete()
		return nil, err
	}
	r.wg.Add(2)
	go r.registryLoop(w)
	go r.sendLoop()
	return r, nil
}

// Attach sets the hub relayed changes are delivered to.
func (r *liveRelay) Attach(h *live.Hub) { r.hub.Store(h) }

// liveView is the registry as the senders read it, without a lock.
type liveView struct {
	rows  map[string]map[liveRow]bool // as liveRelay.rows
	reads map[string]bool             // the buckets some row of which wants reads
}

// Wanted implements live.Relay.
func (r *liveRelay) Wanted(bucket string) bool {
	v := r.remote.Load()
	return v != nil && len(v.rows[bucket]) > 0
}

// WantsAccess implements live.Relay.
func (r *liveRelay) WantsAccess(bucket string) bool {
	v := r.remote.Load()
	return v != nil && v.reads[bucket]
}

// Send implements live.Relay: it queues the event, or counts it lost.
func (r *liveRelay) Send(bucket, owner string, ev notify.EventType, key string, record []byte) {
	if ev&notify.ObjectAccessed != 0 && len(r.q) >= liveQueue/2 {
		// Reads come far more often than changes: they may not take the
		// room every watched bucket's changes need.
		r.addDrops(bucket, lostOf(ev, 1))
		return
	}
	select {
	case r.q <- liveEvent{bucket: bucket, owner: owner, ev: ev, key: key, record: record}:
	default:
		r.addDrops(bucket, lostOf(ev, 1))
	}
}

// lost counts a bucket's events the relay lost: changes (a gap for every
// listener of the bucket) and reads (a gap only for listeners of reads).
type lost struct{ changes, reads int64 }

func lostOf(ev notify.EventType, n int64) lost {
	if ev&notify.ObjectAccessed != 0 {
		return lost{reads: n}
	}
	return lost{changes: n}
}

func (l lost) plus(o lost) lost {
	return lost{changes: l.changes + o.changes, reads: l.reads + o.reads}
}

func (r *liveRelay) takeDrops(bucket string) lost {
	r.dropMu.Lock()
	defer r.dropMu.Unlock()
	n := r.drops[bucket]
	delete(r.drops, bucket)
	return n
}

func (r *liveRelay) addDrops(bucket string, n lost) {
	r.dropMu.Lock()
	r.drops[bucket] = r.drops[bucket].plus(n)
	r.dropMu.Unlock()
}

// remoteRows returns the other gateways' rows of bucket.
func (r *liveRelay) remoteRows(bucket string) []liveRow {
	v := r.remote.Load()
	if v == nil {
		return nil
	}
	rows := make([]liveRow, 0, len(v.rows[bucket]))
	for row := range v.rows[bucket] {
		rows = append(rows, row)
	}
	return rows
}

// close stops everything and unregisters this gateway's watches.
func (r *liveRelay) close() {
	// Unregister while the registry watch still acknowledges our own
	// announcements (or each would wait out liveNotifyTimeout).
	r.syncMu.Lock()
	r.closed = true
	for b, bw := range r.watching {
		r.unwatch(b, bw)
	}
	r.syncMu.Unlock()
	close(r.stop)
	r.wg.Wait()
}

// forceOp runs a small write on oid that must work on a full pool too (it
// only registers or unregisters a watch).
func forceOp(io *rados.IOContext, oid string, steps func(op *rados.WriteOp)) error {
	op := rados.CreateWriteOp()
	defer op.Release()
	steps(op)
	return op.Operate(io, oid, rados.OperationFullForce)
}
