// Package rados is Cairn's RADOS storage backend: the store contract on a
// Ceph cluster through librados (go-ceph), built only with the build tag
// `rados` (`make rados`) so that the default binary stays pure Go.
// Any number of gateways may share one pool: every decision a write rests
// on is re-checked by the cluster inside the write (guards), never held in
// a gateway's memory.
//
// # Layout (one pool, optionally one RADOS namespace)
//
//	cairn.meta      omap: "b/<bucket>" bucket records, "k/<key>" the kv
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
// the leases no one holds, renews its own and runs a consumer on each
// (the server: a shared queue.Queue over ShardLease.KV), woken by this
// gateway's commits and, through a watch on the shard, by the RADOS
// notifications other gateways send after theirs. The metadata
// object is drained the same way (records kv writes queued). A commit
// numbers its records from its change's sequence and reads the shard's
// full marks under a guard (txn.RecordSequence, RecordsFull: the
// queue.SharedWriter of the commit). Pull subscriptions' commits write
// drafts ("e/psubq/...") that the holder moves into the logs (package
// pubsub, shared.go) with KV's CompareAndApply.
//
// # Garbage
//
// A body's intent row is written before its first stripe and removed by
// the commit that takes the body over; bodies a commit replaces become
// garbage rows of that commit. CollectGarbage removes garbage after a
// grace period (reads under way finish) and the bodies of intents older
// than their lifetime (a gateway died mid-write).
package rados
