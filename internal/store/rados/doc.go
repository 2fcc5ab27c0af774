// Package rados is Cairn's RADOS storage backend: the store contract on a
// Ceph cluster through librados (go-ceph), built only with the build tag
// `rados` so that the default binary stays pure Go.
//
// # Layout (one pool, optionally one RADOS namespace)
//
//	cairn.meta           omap: "b/<bucket>" bucket records, "k/<key>" the kv
//	                     namespace (users, keys, topics, configs, subscriptions),
//	                     "s/seq" the sequence counter leased in blocks
//	idx.<bid>.<n>        index shard n of bucket id bid (n < the bucket's
//	                     shard count, fixed at creation; shard = fnv(key) mod N).
//	                     omap: "c/<key>" key head (latest version and the
//	                     key's last sequence), "v/<key><sep><^seq>" versions,
//	                     "u/<key><sep><upload>" uploads, "p/<upload>/<part>"
//	                     parts, "e/<record>" records of the ChangeHook (events)
//	d.<dataid>.<n>       stripe n of one body (object or part), 4 MiB each
//
// # Guards
//
// Every commit to an index shard is one librados write operation whose
// first steps are guards, so no decision rests on a read that a concurrent
// writer could invalidate: an omap comparison of the key's head row against
// the bytes the decision was made on (absent compares as empty; stored
// values are never empty), and the shard's "x/closed" row being absent
// (bucket deletion closes shards first). A failed guard cancels the whole
// operation (ECANCELED) and the method retries from its reads, a bounded
// number of times. go-ceph's WriteOp has no omap comparison, so writeop.go
// is a thin cgo shim over librados' C write operation.
//
// # Events
//
// Records the ChangeHook writes (store.RecordWriter.Put) are omap rows
// "e/<key>" of the same index shard, set by the same write operation as the
// index rows of the change: a record exists iff its change does. The
// kv.Store view (KV) merges them with the metadata object's rows.
package rados
