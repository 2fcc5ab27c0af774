// Package brokertest coordinates tests that share the loopback RabbitMQ
// broker: `go test ./...` runs packages in parallel, and a test that stops
// the broker (to prove recovery) must not do so under another package's
// feet.
package brokertest

import (
	"os"
	"sync"
	"syscall"
	"testing"
)

// lockPath is the file whose flock every cooperating test process takes.
const lockPath = "/tmp/cairn-rabbitmq-test.lock"

var (
	mu        sync.Mutex
	exclusive bool // this process holds the exclusive lock
)

// LockRabbitMQ holds the broker lock until the test ends: shared for tests
// that use the broker, exclusive for one that stops it. Tests of one
// package run one at a time, so a test under an exclusive holder in the
// same process needs nothing more.
func LockRabbitMQ(t testing.TB, wantExclusive bool) {
	t.Helper()
	mu.Lock()
	held := exclusive
	mu.Unlock()
	if held {
		return
	}
	f, err := os.OpenFile(lockPath, os.O_CREATE|os.O_RDWR, 0o666)
	if err != nil {
		t.Fatalf("broker lock: %v", err)
	}
	how := syscall.LOCK_SH
	if wantExclusive {
		how = syscall.LOCK_EX
	}
	if err := syscall.Flock(int(f.Fd()), how); err != nil {
		f.Close()
		t.Fatalf("broker lock: %v", err)
	}
	mu.Lock()
	exclusive = wantExclusive
	mu.Unlock()
	t.Cleanup(func() {
		mu.Lock()
		exclusive = false
		mu.Unlock()
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	})
}
