package pubsub

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/cairn-s3/cairn/internal/kv"
	"github.com/cairn-s3/cairn/internal/notify"
	"github.com/cairn-s3/cairn/internal/store"
)

// Logs on a store several gateways share (RADOS, Options.Shared). A log's
// positions must grow in the order readers can see events, and a gateway
// cannot know the commits another one has in flight. So a commit writes
// only a draft of each event, as a record of the changed object's index
// shard ("psubq/<log>/<commit number>"), and the gateway holding that
// shard's lease moves drafts into their logs (MoveShard): it allocates the
// positions, renders the events with their ids and writes them in one
// write guarded by the log's high position ("psub/<log>/h"), so every
// position is allocated and visible at once, never below one a reader
// could have passed. The drafts are removed afterwards under the shard's
// fencing epoch: a holder dying in between has its successor move them
// again (a duplicate under a new id, never a loss). Acks, pulls and
// retention work on the logs from any gateway.

const draftRoot = "psubq/"

// sharedWriter is the RecordWriter of a commit to a shared store: it
// numbers records uniquely in the cluster, growing with an object's
// commits (queue.SharedWriter has the same method).
type sharedWriter interface {
	store.RecordWriter
	RecordSequence() (uint64, error)
}

// compareApplier is a kv.Store that applies a batch only if a key holds
// the value read (nil: absent), reporting false if it does not.
type compareApplier interface {
	CompareAndApply(ctx context.Context, key, old []byte, b *kv.Batch) (bool, error)
}

// guardedApplier is a kv.Store that applies a batch only if every guard's
// key still holds the guard's value (nil: absent), reporting false if one
// does not: a write made from reads that another gateway may have
// changed meanwhile.
type guardedApplier interface {
	CompareEachAndApply(ctx context.Context, guards []kv.Pair, b *kv.Batch) (bool, error)
}

// draft is what an event is rendered from once its id and time are known.
type draft struct {
	Log    string                  `json:"log"`
	Hash   string                  `json:"hash"`
	Event  *pullEvent              `json:"event,omitempty"`  // PubSub's "events" format
	Record *notify.PullRecordInput `json:"record,omitempty"` // an S3 record
	Push   *draftPush              `json:"push,omitempty"`
}

// draftPush is the subscription endpoint an event is also pushed to.
type draftPush struct {
	Subscription string `json:"subscription"`
	Endpoint     string `json:"endpoint"`
	Args         string `json:"args"`
	Topic        string `json:"topic"`
}

func (p *draftPush) push(id string, body []byte) notify.Push {
	return notify.Push{Endpoint: p.Endpoint, Args: p.Args, Topic: p.Topic, ID: id, Body: body}
}

// render returns the event's body with its id and time.
func (d *draft) render(id string, at time.Time) ([]byte, error) {
	if d.Event != nil {
		ev := *d.Event
		ev.ID, ev.Timestamp = id, at.Format(pullTimeLayout)
		return notify.EncodeJSON(ev)
	}
	if d.Record == nil {
		return nil, errors.New("pubsub: empty event draft")
	}
	in := *d.Record
	in.EventID = id
	if in.EventTime.IsZero() {
		in.EventTime = at
	}
	return notify.BuildPullRecord(&in)
}

func draftKey(log string, seq uint64) []byte {
	return fmt.Appendf(nil, "%s%s/%016x", draftRoot, url.PathEscape(log), seq)
}

func highKey(sub string) []byte { return append(subPrefix(sub), 'h') }

// appendDraft writes d into the commit of w, as a record of its shard.
func (l *Log) appendDraft(w sharedWriter, d *draft) error {
	seq, err := w.RecordSequence()
	if err == nil {
		var val []byte
		if val, err = json.Marshal(d); err == nil {
			err = w.Put(draftKey(d.Log, seq), val)
		}
	}
	if err != nil {
		l.storeFail.Add(1)
		return fmt.Errorf("pubsub: append: %w", err)
	}
	return nil
}

// movePage bounds the drafts one pass of MoveShard reads.
const movePage = 512

// pageScanner is a shard's kv.Store that reads a page of keys in one
// atomic read (queue.PageScanner has the same method; RADOS: one omap
// read). A pass must see its drafts at one instant: drafts sort by log,
// then commit sequence, so an atomic page from the head that holds a
// draft holds every earlier pending draft of the same object too. A read
// in several pages is no such view: an object's early commit landing
// behind the first page and its later one landing before the next would
// be moved in the wrong order.
type pageScanner interface {
	ScanPage(ctx context.Context, prefix, after []byte, max int) ([]kv.Pair, error)
}

// MoveShard moves the drafts of one shard (its holder's kv.Store, whose
// writes fail once the lease is lost, and a pageScanner) into their logs,
// oldest first; the shard's drainer calls it when woken and periodically.
func (s *Service) MoveShard(ctx context.Context, shard kv.Store) error {
	ps, ok := shard.(pageScanner)
	if !ok {
		return fmt.Errorf("pubsub: move: the shard's store (%T) cannot read a page atomically", shard)
	}
	for range 64 {
		page, err := ps.ScanPage(ctx, []byte(draftRoot), nil, movePage)
		if err != nil {
			return fmt.Errorf("pubsub: move: %w", err)
		}
		if len(page) == 0 {
			return nil
		}
		keys, drafts := s.decodeDrafts(page)
		if err := s.moveDrafts(ctx, shard, fenceOf(shard), keys, drafts); err != nil {
			return err
		}
		if len(page) < movePage {
			return nil
		}
	}
	return nil
}

// decodeDrafts returns the keys and drafts of page; a corrupt draft is nil
// (moveDrafts removes it).
func (s *Service) decodeDrafts(page []kv.Pair) ([][]byte, []*draft) {
	keys, drafts := make([][]byte, len(page)), make([]*draft, len(page))
	for i, p := range page {
		d := &draft{}
		if err := json.Unmarshal(p.Value, d); err != nil || d.Log == "" {
			s.logger.Error("pubsub: corrupt event draft removed", "key", string(p.Key))
			d = nil
		}
		keys[i], drafts[i] = p.Key, d
	}
	return keys, drafts
}

// moveDrafts moves drafts (keys sort them by log, then commit order) log by
// log, under fence if not nil, removing each log's drafts once they are in
// it.
func (s *Service) moveDrafts(ctx context.Context, shard kv.Store, fence *shardFence, keys [][]byte, drafts []*draft) error {
	for i := 0; i < len(keys); {
		j := i + 1
		for j < len(keys) && sameLog(drafts[i], drafts[j]) {
			j++
		}
		if drafts[i] != nil {
			moved, err := s.log.moveIn(ctx, drafts[i].Log, fence, drafts[i:j])
			if err != nil {
				return err
			}
			defer s.pushMoved(moved)
		}
		var b kv.Batch
		for _, k := range keys[i:j] {
			b.Delete(k)
		}
		if err := shard.Apply(ctx, &b); err != nil {
			return fmt.Errorf("pubsub: move: %w", err)
		}
		i = j
	}
	return nil
}

func sameLog(a, b *draft) bool { return a != nil && b != nil && a.Log == b.Log }

// movedEvent is an event moveIn stored.
type movedEvent struct {
	id   string
	body []byte
	push *draftPush
}

func (s *Service) pushMoved(moved []movedEvent) {
	for _, m := range moved {
		if m.push != nil {
			s.push(m.push.push(m.id, wrap("events", m.body)), m.push.Subscription)
		}
	}
}

// maxMoveAttempts bounds the retries of a move whose guard failed (another
// gateway moved events into the same log meanwhile).
const maxMoveAttempts = 64

// moveIn stores drafts in log sub at positions past its high one, in one
// write guarded by that high position, and by fence if not nil.
func (l *Log) moveIn(ctx context.Context, sub string, fence *shardFence, drafts []*draft) ([]movedEvent, error) {
	hk := highKey(sub)
	for range maxMoveAttempts {
		old, err := l.getOptional(ctx, hk)
		if err != nil {
			return nil, fmt.Errorf("pubsub: move: %w", err)
		}
		s := l.lookup(sub)
		l.mu.Lock()
		pos := s.last // positions a single gateway allocated before
		l.mu.Unlock()
		if len(old) == 8 {
			pos = max(pos, binary.BigEndian.Uint64(old))
		}
		b, moved, pos := l.moveBatch(sub, pos, drafts)
		b.Put(hk, binary.BigEndian.AppendUint64(nil, pos))
		done, err := l.applyMove(ctx, fence, hk, old, b)
		if err != nil {
			return nil, fmt.Errorf("pubsub: move: %w", err)
		}
		if !done {
			continue
		}
		l.storeOK.Add(uint64(len(moved)))
		s.depth.Add(int64(len(moved)))
		l.mu.Lock()
		s.last = max(s.last, pos)
		close(s.wake) // long-polls on this gateway look at once
		s.wake = make(chan struct{})
		l.mu.Unlock()
		return moved, nil
	}
	return nil, fmt.Errorf("pubsub: move into %q: the log's high position kept changing", sub)
}

// getOptional is Get with nil for an absent key.
func (l *Log) getOptional(ctx context.Context, key []byte) ([]byte, error) {
	v, err := l.kv.Get(ctx, key)
	if errors.Is(err, kv.ErrNotFound) {
		return nil, nil
	}
	return v, err
}

// moveBatch renders drafts as the events of log sub at the positions after
// pos, returning the batch that stores them, the events and the last
// position.
func (l *Log) moveBatch(sub string, pos uint64, drafts []*draft) (*kv.Batch, []movedEvent, uint64) {
	now := uint64(l.now().UnixMicro())
	b := &kv.Batch{}
	var moved []movedEvent
	for _, d := range drafts {
		pos = max(now, pos+1)
		id, at := formatID(pos, d.Hash), posTime(pos)
		body, err := d.render(id, at)
		if err != nil {
			l.storeFail.Add(1)
			continue
		}
		b.Put(eventKey(sub, pos), (&record{ID: id, Time: at, Body: body}).encode())
		moved = append(moved, movedEvent{id: id, body: body, push: d.Push})
	}
	return b, moved, pos
}

// sharedWait is how often a long-poll on a shared log looks for events
// another gateway moved in (it cannot be told).
const sharedWait = 200 * time.Millisecond

// changedShared is Changed on a shared log: closed when this gateway moved
// events in, or after sharedWait.
func (l *Log) changedShared(wake <-chan struct{}) <-chan struct{} {
	ch := make(chan struct{})
	go func() {
		t := time.NewTimer(sharedWait)
		defer t.Stop()
		select {
		case <-wake:
		case <-t.C:
		}
		close(ch)
	}()
	return ch
}
