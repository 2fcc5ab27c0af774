// Package pubsub is the durable core of pull-mode subscriptions (the legacy
// RGW "pubsub" API, spec pubsub.md §5, §7, §9): a per-subscription event log
// written inside the commit of the object change that caused each event,
// pulled with opaque markers, and removed only on a positive ack or by
// retention. It knows nothing of HTTP.
//
// # Key schema
//
// Every key lives under the package's prefix of the kv namespace; <sub> is
// url.PathEscape(sub), so it holds no '/':
//
//	psub/<sub>/e/<seq:16 hex>   an event (record, see record.go)
//	psub/<sub>/i/<id>           index: event id → seq (16 hex), for Ack/Nack
//	psub/<sub>/m                meta: high-water sequence and the highest
//	                            sequence removed by retention
//
// Sequences are per subscription, allocated at Append under a mutex together
// with the event time (so seq order is time order), from an in-memory
// counter initialised at New from max(meta high-water, largest stored event
// key). Every batch that removes events (Ack, Expire) also writes the meta
// record with the current counter, so sequences stay monotonic across
// restarts even when the log was emptied.
//
// # Guarantees
//
//   - An event exists iff the commit that wrote it does (design invariant
//     2): Append only adds records to the caller's RecordWriter and counts
//     and wakes waiters in AfterCommit; a failed commit leaves nothing.
//   - An event is pullable only once committed, i.e. once the object change
//     is readable (invariant 3): it is read back from the KV.
//   - An event leaves the log only by Ack (a synced batch), by Expire
//     (retention), or by Delete of the subscription (invariant 4). A pull
//     makes an event invisible for VisibilityTimeout and counts a delivery;
//     if not acked it becomes visible again (Nack makes it visible now).
//   - A marker is the sequence of the last event returned; Pull starts
//     strictly after it. If retention removed an event after the marker,
//     Pull fails with ErrGap rather than silently skipping it (the meta
//     record keeps the highest expired sequence, which makes this exact).
//   - Memory is bounded: Pull, Expire, Delete and New page through the KV;
//     per subscription only counters are kept.
//
// # Known limit
//
// Sequences are allocated at Append, before the commit; commits of
// different objects can land out of sequence order, so a reader paging
// with a marker can pass a sequence whose commit lands just after. Such an
// event is not lost (it stays until acked or expired) and a pull from the
// empty marker returns it; a live stream that must not miss one re-pulls
// from the empty marker periodically.
package pubsub
