package local

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cairn-s3/cairn/internal/store"
	"github.com/cockroachdb/pebble/vfs"
)

// The power-loss test runs writers against a store whose metadata and data
// files live on one strict memory filesystem, cuts the power at a random
// moment (everything not synced is forgotten), reopens the store and checks
// that every acknowledged write survived, that nothing half-written is
// visible and that nothing orphaned stays.
//
// CAIRN_POWERLOSS_ITERS sets the number of crashes (default plIters),
// CAIRN_POWERLOSS_SEED the first seed (default: from the clock); a failure
// names its seed, and CAIRN_POWERLOSS_SEED=<seed> CAIRN_POWERLOSS_ITERS=1
// replays it (the interleaving of the writers differs, the operations not).
const (
	plIters    = 120
	plWorkers  = 3
	plKeys     = 4 // keys per worker in each bucket
	plMaxOps   = 60
	plPlain    = "plain"
	plVersions = "versioned"
)

func TestPowerLoss(t *testing.T) {
	iters := envInt(t, "CAIRN_POWERLOSS_ITERS", plIters)
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv("CAIRN_POWERLOSS_SEED"); v != "" {
		seed = uint64(envInt(t, "CAIRN_POWERLOSS_SEED", 0))
	}
	start := time.Now()
	var total plStats
	for s := seed; total.crashes < iters; s++ {
		if !t.Run(fmt.Sprintf("seed=%d", s), func(t *testing.T) { total.add(powerLossRound(t, s)) }) {
			t.Fatalf("reproduce with CAIRN_POWERLOSS_SEED=%d CAIRN_POWERLOSS_ITERS=1", s)
		}
	}
	t.Logf("%d power losses (%d at a sync) in %v: %d writes acknowledged, %d in flight at the crash",
		total.crashes, total.atSync, time.Since(start).Round(time.Millisecond), total.acked, total.inFlight)
}

type plStats struct{ crashes, atSync, acked, inFlight int }

func (s *plStats) add(o plStats) {
	s.crashes += o.crashes
	s.atSync += o.atSync
	s.acked += o.acked
	s.inFlight += o.inFlight
}

func envInt(t *testing.T, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		t.Fatalf("%s=%q: %v", name, v, err)
	}
	return n
}

// plRun is one round: a store and its writers, powered off one to three
// times. Each crash comes either a random delay after the crashAt-th
// operation started or exactly at the syncAt-th sync of a file or
// directory (of the metadata store or a data file); after each the store is reopened and checked, and what it
// shows becomes what the writers build on.
type plRun struct {
	t       *testing.T
	ctx     context.Context
	s       *Store
	fsys    *vfs.MemFS
	workers []*plWorker
	stats   plStats
	statsMu sync.Mutex

	// Set by armCrash while no writer runs.
	crashAt int64
	due     chan struct{} // closed when the crashAt-th operation starts
	dueOnce sync.Once
	down    chan struct{} // closed at the crash
	crash   sync.Once

	syncAt  atomic.Int64
	syncs   atomic.Int64
	ops     atomic.Int64
	crashed atomic.Bool
}

func powerLossRound(t *testing.T, seed uint64) plStats {
	rng := rand.New(rand.NewPCG(seed, 0))
	r := &plRun{t: t, ctx: context.Background(), fsys: vfs.NewStrictMem()}
	r.s = r.open()
	for _, b := range []store.Bucket{{Name: plPlain}, {Name: plVersions, Versioning: store.Enabled}} {
		if err := r.s.CreateBucket(r.ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	for i := range plWorkers {
		r.workers = append(r.workers, newPLWorker(i, rand.New(rand.NewPCG(seed, uint64(i+1)))))
	}
	for range 1 + rng.IntN(3) {
		r.armCrash(rng)
		r.runUntilCrash(time.Duration(rng.IntN(2000)) * time.Microsecond)
		r.powerOff()
		r.reopen(rng)
		r.check()
		r.stats.crashes++
		if t.Failed() {
			break
		}
	}
	r.s.Close()
	return r.stats
}

// armCrash picks the next crash point.
func (r *plRun) armCrash(rng *rand.Rand) {
	r.ops.Store(0)
	r.crashed.Store(false)
	r.due, r.down = make(chan struct{}), make(chan struct{})
	r.dueOnce, r.crash = sync.Once{}, sync.Once{}
	r.crashAt = 1 + rng.Int64N(plMaxOps)
	if rng.IntN(2) == 0 {
		r.crashAt = 2 * plMaxOps
		r.syncAt.Store(r.syncs.Load() + 1 + rng.Int64N(4*plMaxOps))
		r.stats.atSync++
	}
	for _, w := range r.workers {
		w.pending = plEffect{}
	}
}

// reopen opens the store after a crash; one time in three the power fails
// again at one of the first syncs of the start (recovery, Pebble's new log
// and MANIFEST) and the store is opened once more.
func (r *plRun) reopen(rng *rand.Rand) {
	if rng.IntN(3) > 0 {
		r.s = r.open()
		return
	}
	r.crashed.Store(false)
	r.down, r.crash = make(chan struct{}), sync.Once{}
	r.syncAt.Store(r.syncs.Load() + 1 + rng.Int64N(8))
	r.s = r.open()
	if r.crashed.Load() {
		r.stats.crashes++
		r.stats.atSync++
	}
	r.powerOff()
	r.s = r.open()
}

// beforeSync cuts the power at the syncAt-th sync.
func (r *plRun) beforeSync() {
	if r.syncs.Add(1) == r.syncAt.Load() {
		r.powerCut()
	}
}

func (r *plRun) open() *Store {
	r.t.Helper()
	s, err := openStrict("/store", r.fsys, Options{
		Hook:     plEventHook,
		FS:       vfsDataFS{fs: r.fsys, beforeSync: r.beforeSync},
		pebbleFS: hookedVFS{FS: r.fsys, beforeSync: r.beforeSync},
	})
	if err != nil {
		r.t.Fatalf("Open: %v", err)
	}
	return s
}

// runUntilCrash runs the writers until the power is cut. A write that
// returned before the crash flag was set is acknowledged: the flag is set
// before syncs stop, so all of its syncs took effect.
func (r *plRun) runUntilCrash(delay time.Duration) {
	var wg sync.WaitGroup
	for _, w := range r.workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.work(w)
		}()
	}
	select {
	case <-r.due:
		time.Sleep(delay) // so the crash lands inside some operations
	case <-r.down:
	case <-r.allDone(&wg):
	}
	r.powerCut()
	wg.Wait()
}

// powerCut stops syncs from reaching the "disk".
func (r *plRun) powerCut() {
	r.crash.Do(func() {
		r.crashed.Store(true)
		r.fsys.SetIgnoreSyncs(true)
		close(r.down)
	})
}

func (r *plRun) allDone(wg *sync.WaitGroup) <-chan struct{} {
	c := make(chan struct{})
	go func() { wg.Wait(); close(c) }()
	return c
}

// powerOff abandons the store: it is closed with syncs ignored, so nothing
// it writes on the way out survives, and the filesystem forgets whatever
// was not synced before the crash (Pebble's own crash tests do the same).
func (r *plRun) powerOff() {
	r.syncAt.Store(0)
	r.s.Close()
	r.fsys.ResetToSyncedState()
	r.fsys.SetIgnoreSyncs(false)
}

// work issues random operations until the crash. Before it, every
// operation must succeed; the one in flight at the crash may or may not
// have taken effect.
func (r *plRun) work(w *plWorker) {
	for !r.crashed.Load() {
		if n := r.ops.Add(1); n == r.crashAt {
			r.dueOnce.Do(func() { close(r.due) })
		} else if n > plMaxOps*2 {
			return // the crash is due; nothing more to start
		}
		name, eff, err := w.step(r.ctx, r.s)
		if r.crashed.Load() {
			w.pending = eff
			r.count(func(s *plStats) { s.inFlight++ })
			return
		}
		if err != nil {
			r.t.Errorf("worker %d: %s before the crash: %v", w.id, name, err)
			return
		}
		w.acked.apply(eff)
		r.count(func(s *plStats) { s.acked++ })
	}
}

func (r *plRun) count(f func(*plStats)) {
	r.statsMu.Lock()
	f(&r.stats)
	r.statsMu.Unlock()
}
