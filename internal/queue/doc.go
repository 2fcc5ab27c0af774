// Package queue is Cairn's durable, at-least-once delivery of opaque events
// for persistent topics. It knows nothing of S3 or endpoints: events are
// written into the system-metadata KV (kv.Store) inside the commit of the
// change that caused them (Enqueue through a store.RecordWriter), and
// per-topic workers hand them to a Sender until it acknowledges them.
//
// # Key schema
//
// Every key lives under the queue's own prefixes of the kv namespace:
//
//	queue/<topic>/<seq:16 hex>   an event waiting for delivery (record, see record.go)
//	dlq/<topic>/<seq:16 hex>     a dead letter: the same record, moved by TTL or MaxRetries
//
// <topic> is url.PathEscape(topic), so it holds no '/'. <seq> is a queue-wide
// sequence number in fixed-width hex, so key order is sequence order. It is
// allocated from an in-memory atomic counter at Enqueue time, initialised at
// New from the largest stored sequence, so concurrent commits never collide.
// Sequences of events already acknowledged may be reused after a restart;
// nothing refers to them once deleted. Event.ID, not the sequence, is the
// stable identity consumers dedupe on.
//
// Depth and byte counters are kept in memory: New recomputes them with one
// scan of both prefixes (memory does not grow with depth), Enqueue adds to
// them when its commit is durable (AfterCommit) and the worker subtracts when
// a removal is durable.
//
// # Guarantees
//
//   - An event exists iff the commit that wrote it does: Enqueue only adds
//     records to the caller's RecordWriter, and registers AfterCommit to wake
//     the worker; a failed commit leaves nothing behind and nothing to undo.
//   - An event leaves queue/ only in a synced batch after Sender.Send
//     returned nil, or when TTL or MaxRetries moves it to dlq/ (put and delete
//     in one batch), or when the DropOldest overflow policy drops it (counted)
//     or DeleteQueue removes the topic's queue. A Send that fails, times out
//     or is cancelled leaves it queued; delivery is therefore at least once
//     (a crash between a positive ack and its synced delete re-sends).
//   - Events with the same Key are sent in Enqueue order, one at a time: an
//     event is not sent while an earlier one with its Key is unacknowledged.
//     Different keys are in flight concurrently, up to Config.Window per topic.
//   - Memory is bounded per topic: at most Config.Buffer events are loaded
//     (paged in key order from KV), plus the ones whose removal is being
//     synced; deep queues stay on disk.
//   - Retries back off exponentially with jitter between Config.BackoffMin
//     and Config.BackoffMax, and never sooner than Policy.RetrySleep, so an
//     endpoint outage does not spin.
//
// # What the ordering relies on
//
// Per-Key order needs two properties of the store that calls Enqueue, both
// kept by store/local (commits of one object serialise on its key lock, and
// AfterCommit runs before that lock is released):
//
//  1. Enqueue calls for one ordering Key happen in commit order, and a commit
//     is durable before the next Enqueue for the same Key is made.
//  2. The AfterCommit callbacks of a commit run before the next Enqueue for
//     the same Key.
//
// Commits of different keys may finish out of sequence order (a "late"
// commit lands below the worker's scan cursor). Each AfterCommit reports its
// sequence; one below the cursor, or made while a scan runs, is read back by
// key, and no event with a higher sequence is sent until those reads are done.
// With (1) and (2) this proves that when an event is sent every earlier event
// of its Key is already loaded, hence sent first. A fallback poll rescans the
// queue, so an event whose AfterCommit never ran is still delivered (but,
// without (2), possibly out of order); a restart rescans everything.
//
// Events put back by Replay get new sequences: they are ordered after the
// events already queued.
//
// # Shared stores
//
// On a store several gateways share (RADOS) the commit's RecordWriter is
// a SharedWriter: it numbers the records (from the commit sequence, unique
// in the cluster and growing per object) and reports the shard's full
// mark, and Enqueue accounts nothing. Each shard is delivered by the
// gateway holding its lease, with a Queue of Config.Shared over that
// shard's records: its workers load each topic from the head in one atomic
// read (PageScanner), which holds every earlier pending event of an object
// whenever it holds a later one, so per-object order needs no commit
// notice; Refresh recounts and starts workers for events other gateways
// committed.
//
// # Locks
//
// Lock order: topic.admin → Queue.mu → topic.mu. Worker state is owned by the
// worker goroutine and takes no lock.
package queue
