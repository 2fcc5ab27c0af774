// Package kv is a small namespaced key-value contract for system metadata
// (users, topics, subscriptions, queues), so those subsystems work the same
// on every storage backend.
package kv

import (
	"context"
	"errors"
	"iter"
)

// ErrNotFound is returned by Get for a missing key.
var ErrNotFound = errors.New("kv: not found")

// Pair is one key and its value.
type Pair struct {
	Key   []byte
	Value []byte
}

// Store is a durable ordered key-value store. Writes are durable when they
// return. Keys are namespaced by their first path segment ("users/",
// "topics/", ...) and each subsystem owns its prefix.
type Store interface {
	Get(ctx context.Context, key []byte) ([]byte, error)
	// Scan yields the pairs whose keys start with prefix, in key order,
	// beginning at start (inclusive) if it is not empty.
	Scan(ctx context.Context, prefix, start []byte) iter.Seq2[Pair, error]
	// Apply commits the writes of b atomically and durably.
	Apply(ctx context.Context, b *Batch) error
}

// Batch collects writes for Apply.
type Batch struct {
	Ops []Op
}

// Op is one write: Value nil means delete.
type Op struct {
	Key   []byte
	Value []byte
}

// Put adds a write of key=value.
func (b *Batch) Put(key, value []byte) { b.Ops = append(b.Ops, Op{Key: key, Value: value}) }

// Delete adds a removal of key.
func (b *Batch) Delete(key []byte) { b.Ops = append(b.Ops, Op{Key: key}) }

// Put writes one key durably.
func Put(ctx context.Context, s Store, key, value []byte) error {
	var b Batch
	b.Put(key, value)
	return s.Apply(ctx, &b)
}

// Delete removes one key durably.
func Delete(ctx context.Context, s Store, key []byte) error {
	var b Batch
	b.Delete(key)
	return s.Apply(ctx, &b)
}
