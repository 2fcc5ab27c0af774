// Package live is the in-memory fan-out of committed bucket events to the
// clients that watch a bucket right now (ListenBucketNotification, SSE,
// `cairn watch`).
//
// It is deliberately not durable: a Hub publishes a change only from the
// commit's AfterCommit callback (never early: the object is readable by a
// GET by then), writes no record into the commit, and keeps nothing once a
// listener is gone. Durable, resumable consumption is the job of pull
// subscriptions. What the live stream guarantees instead is that a slow
// listener never slows a write and never loses events silently: each
// listener has a bounded buffer, and events that do not fit are counted and
// reported to it as a gap.
package live
