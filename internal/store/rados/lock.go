//go:build rados

package rados

import (
	"context"
	"fmt"
	"syscall"
	"time"
)

// TryLock takes the pool-wide exclusive lock name for ttl, for work that
// one gateway at a time must do (a lifecycle step: two gateways walking one
// bucket at once would add two delete markers for one expiration). ok is
// false while another holder has it; a dead holder's lock lapses after its
// ttl. It is a cls_lock lock on the store's meta object, apart from every
// other lock by its name.
func (s *Store) TryLock(ctx context.Context, name string, ttl time.Duration) (unlock func(), ok bool, err error) {
	if err := ctx.Err(); err != nil {
		return nil, false, err
	}
	lock, cookie := "cairn."+name, newID()
	ret, err := s.io.LockExclusive(metaOID, lock, cookie, "cairn "+name, ttl, nil)
	if err != nil {
		return nil, false, fmt.Errorf("rados: lock %s: %w", name, err)
	}
	if ret == -int(syscall.EBUSY) || ret == -int(syscall.EEXIST) {
		return nil, false, nil
	}
	return func() {
		if _, err := s.io.Unlock(metaOID, lock, cookie); err != nil && !isNotFound(err) {
			s.log.Warn("rados: unlock", "lock", name, "err", err)
		}
	}, true, nil
}
