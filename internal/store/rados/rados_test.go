//go:build rados

package rados

import (
	"context"
	"os"
	"sync"
	"testing"

	"github.com/ceph/go-ceph/rados"

	"github.com/cairn-s3/cairn/internal/kv"
	"github.com/cairn-s3/cairn/internal/store"
	"github.com/cairn-s3/cairn/internal/store/storetest"
)

// The tests need a running cluster: CAIRN_CEPH_CONF names its ceph.conf
// (test/ceph/cluster.sh start prints it). Under CI a missing cluster fails.
var (
	connOnce sync.Once
	conn     *rados.Conn
	connErr  error
)

func testConn(t testing.TB) *rados.Conn {
	t.Helper()
	conf := os.Getenv("CAIRN_CEPH_CONF")
	if conf == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("CAIRN_CEPH_CONF is not set: start a cluster with test/ceph/cluster.sh start")
		}
		t.Skip("NO CEPH CLUSTER: set CAIRN_CEPH_CONF (test/ceph/cluster.sh start) to run the RADOS store tests")
	}
	connOnce.Do(func() {
		c, err := rados.NewConn()
		if err == nil {
			err = c.ReadConfigFile(conf)
		}
		if err == nil {
			err = c.Connect()
		}
		conn, connErr = c, err
	})
	if connErr != nil {
		t.Fatalf("connect to the cluster of %s: %v", conf, connErr)
	}
	return conn
}

// openFresh opens a store in a pool of its own, deleted when the test ends.
func openFresh(t *testing.T, hook store.ChangeHook) *Store { return openFreshTB(t, hook) }

func openFreshTB(t testing.TB, hook store.ChangeHook) *Store {
	t.Helper()
	c := testConn(t)
	pool := "cairn-test-" + newID()[:12]
	if err := c.MakePool(pool); err != nil {
		t.Fatalf("create pool %s: %v", pool, err)
	}
	// Small shard counts make multi-shard merges common in small tests.
	s, err := Open(context.Background(), Options{Conn: c, Pool: pool, Shards: 3, Hook: hook})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.Close()
		if err := c.DeletePool(pool); err != nil {
			t.Errorf("delete pool %s: %v", pool, err)
		}
	})
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Backend { return openFresh(t, nil) })
}

func TestHooks(t *testing.T) {
	storetest.RunHooks(t, func(t *testing.T, h store.ChangeHook) (store.Backend, kv.Store) {
		s := openFresh(t, h)
		return s, s.KV()
	})
}

func TestKV(t *testing.T) {
	storetest.RunKV(t, func(t *testing.T) kv.Store { return openFresh(t, nil).KV() })
}

func TestEscapeKeepsOrder(t *testing.T) {
	keys := []string{"", "\x00", "\x00\x00", "\x01", "\x01\x00", "\x02", "a", "a\x00", "a\x01", "a\x01b", "a\x02", "ab"}
	for i := 1; i < len(keys); i++ {
		a, b := esc(keys[i-1])+sep, esc(keys[i])+sep
		if a >= b {
			t.Errorf("esc(%q) >= esc(%q)", keys[i-1], keys[i])
		}
		if unesc(esc(keys[i])) != keys[i] {
			t.Errorf("unesc(esc(%q)) = %q", keys[i], unesc(esc(keys[i])))
		}
	}
}
