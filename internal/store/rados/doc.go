// Package rados is Cairn's RADOS storage backend: the store contract on a
// Ceph cluster through librados (go-ceph), built only with the build tag
// `rados` (`make rados`) so that the default binary stays pure Go.
// Any number of gateways may share one pool: every decision a write rests
// on is re-checked by the cluster inside the write (guards), never held in
// a gateway's memory.
//
// # Layout (one pool, optionally one RADOS namespace)
//
//	cairn.meta      omap: "b/<bucket>" bucket records, "n/<bid>" the
//	                index of Evented buckets (evented.go), "k/<key>" the kv
//	                namespace (users, keys, topics, configs, subscriptions),
//	                "s/seq" the sequence counter, leased in blocks
//	cairn.buckets   no data: watched by every gateway, notified with the
//	                names of bucket records a write changed (bucketcache.go)
//	idx.<bid>.<n>   index shard n of bucket id bid; shard = fnv(key) mod N,
//	                N fixed at creation (a new id per creation). omap:
//	                "c/<key>"             key head: latest version (without
//	                                      inline bytes) and last sequence
//	                "v/<key>␁␁<^seq>"     versions, newest first; small
//	                                      bodies inline (InlineThreshold)
//	                "u/<key>␁␁<upload>"   uploads; "p/<upload>/<n>" parts;
//	                                      "m/<upload>" what a completion made
//	                "e/<key>"             records of the ChangeHook (events)
//	                "w/<time>/<id>"       write intents; "g/<time>/<id>"
//	                                      bodies a commit unreferenced
//	                "x/closed"            set while a bucket deletion runs
//	                "l/epoch"             fencing epoch of the drain lease
//	d.<id>.<n>      stripe n of one body (object or part), 4 MiB each
//	cairn.drainers  the draining gateways: a shared cls_lock "cairn.drainers"
//	                (one locker per gateway); omap "h/<shard>" → the cookie
//	                of the gateway recorded as holding the shard's lease
//
// Keys are escaped (0x00, 0x01) so that omap names carry no NUL and sort
// in key order; "␁␁" is the separator that sorts before every key byte.
//
// # Guards
//
// Every commit to an index shard is one librados write operation whose
// first steps are guards: the shard exists and is open, and each row the
// decision rests on (the key's head row, the version row removed or
// rewritten, the upload and part rows consumed, the body's intent row)
// holds the bytes read (absent compares as empty; stored values never are).
// Every change of a key rewrites its head, so a guard on the head
// serialises the key's writers across gateways. A failed guard cancels the
// whole operation (ECANCELED) and the method retries from its reads, a
// bounded number of times. go-ceph's WriteOp has no omap comparison, so
// writeop.go is a thin cgo shim over librados' C write operation.
//
// # Events
//
// Records the ChangeHook writes (store.RecordWriter.Put) are rows "e/<key>"
// of the same index shard, set by the same write operation as the version:
// a record exists iff its change does. KV merges them with the metadata
// object's rows. Each shard is drained by the holder of its lease
// (lease.go): a cls_lock lock with an expiry and a fencing epoch that
// guards every removal. Every gateway runs Drain (drain.go), which takes
// its share of the leases no live gateway holds, renews its own and runs a
// consumer on each (the server: a shared queue.Queue over ShardLease.KV)
// until the lease is lost, or left unrenewed for 5/6 of its time (a pass
// held up must not let a consumer deliver beside its successor),
// woken by this gateway's commits and, through a watch on the shard, by
// the RADOS notifications other gateways send after theirs (so the server
// polls an idle watched shard less and less often, up to every 30 s). The
// metadata object is drained the same way (records kv writes queued; they
// notify no one, so it is polled at the normal pace). A commit
// numbers its records from its change's sequence and reads the shard's
// full marks under a guard (txn.RecordSequence, RecordsFull: the
// queue.SharedWriter of the commit). Pull subscriptions' commits write
// drafts ("e/psubq/...") that the holder moves into the logs (package
// pubsub, shared.go) with KV's CompareAndApply.
//
// # Draining at scale
//
// With S shards and G gateways, trying every lease not held at every pass
// would cost O(S×G) operations per pass, each failing EBUSY, and the first
// gateway would keep every shard. Instead the gateways meet in the
// drainers' directory (drainers.go, drainpass.go):
//
//   - Liveness without clocks: each draining gateway holds a shared
//     cls_lock on cairn.drainers with its own cookie, an expiry of the
//     drain TTL, renewed every pass (TTL/3). cls_lock's get_info drops
//     expired lockers by the OSD's clock before answering, so one read per
//     pass (get_info and the holder rows, in one read operation) gives the
//     live set G. A stopping gateway unlocks; a dead one lapses.
//   - Holdings: a gateway records "h/<shard>" → its cookie when it takes a
//     shard and removes the row when it gives the shard up (guarded by the
//     row being its own): a write per change, none per pass. A pass probes
//     (AcquireShardLease: a read and a write) only shards whose row is
//     missing or names a gateway not in G. Each gateway repairs its own
//     rows at every pass (rewrites a missing or foreign row of a shard it
//     holds, removes its row of one it does not), and the rows of dead
//     gateways count as absent, so a stale row lasts at most one pass of a
//     live holder: this replaces a periodic probe of every shard as a
//     safety net.
//   - Fair share: a gateway takes free shards up to ceil(S/|G|); holding
//     more than that + 1 it releases the excess, shards without records
//     first (release: stop the consumer, unlock, remove the row), and the
//     others take them at their next pass. Past its share it takes only
//     shards it has seen free for a whole TTL (orphans: a live gateway
//     that cannot take them must not leave them undrained), and then stops
//     shedding until G changes, so they are not handed back and forth.
//   - Every draining gateway watches the directory: a gateway that marks
//     a bucket Evented, hands shards over or stops notifies it, and the
//     others run a pass at once rather than at their next (TTL/3 later).
//   - A dead gateway's shard leases and membership lapse together (renewed
//     in the same pass); the survivors then see its rows as stale, their
//     share grow, and take its shards within the lease time, as before.
//
// In steady state a pass costs the lease renewals of the shards held (the
// fencing needs them), one write and one read of the directory, and the
// read of the Evented index (every bucket record is walked only at a
// gateway's first pass and every 5 minutes: evented.go); no probe
// (DrainProbes, cairn_rados_drain_probes_total). If the directory cannot be read, a pass
// falls back to probing every shard not held, with no share.
//
// # Garbage
//
// A body's intent row is written before its first stripe and removed by
// the commit that takes the body over; bodies a commit replaces become
// garbage rows of that commit. CollectGarbage removes garbage after a
// grace period (reads under way finish) and the bodies of intents older
// than their lifetime (a gateway died mid-write).
package rados
