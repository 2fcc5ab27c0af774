// Package pubsub is pull-mode subscriptions (the legacy RGW "pubsub" API,
// spec pubsub.md): subscriptions, their event logs, and the store change
// hook that writes each matching event into the logs inside the commit of
// the object change that caused it. It knows nothing of HTTP (package
// psapi serves it).
//
// # Key schema
//
// Every key lives in the kv namespace; segments are url.PathEscape'd:
//
//	psub/<log>/e/<pos:16 hex>                 an event (record, see record.go)
//	psub/<log>/m                              meta: the highest position
//	                                          allocated and the highest one
//	                                          retention removed
//	psub/<log>/h                              shared logs: the highest
//	                                          position moved in (shared.go)
//	psubfence/<shard>                         shared logs: the fencing epoch
//	                                          of the shard's last mover
//	                                          (shared_fence.go)
//	pssub/<owner>/<name>                      a subscription (JSON)
//	pstopic/<tenant>/<topic>/<owner>/<name>   a copy, found by topic
//
// A log is named "<owner>/<subscription>": users never share one.
//
// # Positions
//
// An event's position is its time in microseconds, made unique and
// increasing within its log (max(now, last+1)); its id is RGW's
// "<10-digit sec>.<6-digit usec>.<hash8>" of that time, so an id, a marker
// ("<oid prefix><id>") and a time all resolve to a position without an
// index.
//
// # Guarantees
//
//   - An event exists iff the commit that wrote it does (design invariant
//     2): Append only adds a record to the caller's RecordWriter; a failed
//     commit leaves nothing.
//   - Never early, never skipped: positions are allocated before the commit
//     and commits land in any order, so each log tracks the positions whose
//     commit has not settled (AfterCommit/AfterAbort); a pull never returns
//     or passes a position above the lowest unsettled one. A reader paging
//     with markers therefore cannot jump an event whose commit lands late.
//   - An event leaves its log only by Ack (a synced batch) or by retention;
//     a reader whose marker is before an expired event gets ErrGap, never a
//     silent skip (the meta record keeps the highest expired position, so
//     this survives restarts). On a shared store the gateway that pulls
//     reads that record after its scan, and retention only raises it under
//     a guard, so any gateway's retention counts (shared_meta.go).
//   - A pull with a visibility timeout hides returned events for that long
//     and counts their deliveries durably; Nack shows them again at once.
//     On a shared store both write only if the events are still as they
//     read them (shared_pull.go): an ack or expiry through another gateway
//     is never undone, and two gateways never hand out one event at once.
//   - On a store several gateways share (Options.Shared, RADOS), commits
//     write drafts that the holder of each index shard moves into the logs
//     under a guard on the log's high position (shared.go): positions are
//     allocated and visible at once, so readers on any gateway never skip.
//     Each pass reads its drafts in one atomic page from the shard's head,
//     so an object's events enter a log in its commits' order even when
//     its commits come through different gateways; a holder whose lease
//     lapsed cannot move them again behind its successor's (shard fence).
//   - Memory is bounded: pulls, expiry and startup page through the KV; per
//     log only counters and the unsettled positions (at most the commits in
//     flight) are kept.
package pubsub
