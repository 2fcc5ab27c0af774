//go:build rados

package rados

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/ceph/go-ceph/rados"

	"github.com/cairn-s3/cairn/internal/kv"
	"github.com/cairn-s3/cairn/internal/store"
	"github.com/cairn-s3/cairn/internal/store/rados/radostest"
	"github.com/cairn-s3/cairn/internal/store/storetest"
)

// The tests need a running cluster: CAIRN_CEPH_CONF names its ceph.conf
// (test/ceph/cluster.sh start prints it); without one they fail, saying how
// to start it (radostest.ConfPath). One connection serves every test, as a
// gateway's does.
var (
	connOnce sync.Once
	conn     *rados.Conn
	connErr  error
)

func testConn(t testing.TB) *rados.Conn {
	t.Helper()
	conf := radostest.ConfPath(t)
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

// Records committed into index shards are read, rewritten and deleted
// through KV like any key, and a key is never yielded twice.
func TestKVRecordsInShards(t *testing.T) {
	hook := func(_ context.Context, c store.Change, w store.RecordWriter) error {
		return w.Put([]byte("q/"+c.Object.Key), []byte("v1"))
	}
	s := openFresh(t, hook)
	ctx := context.Background()
	if err := s.CreateBucket(ctx, store.Bucket{Name: "b"}); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"a", "b", "c", "d"} {
		if _, err := s.PutObject(ctx, "b", k, strings.NewReader("x"), store.PutOptions{Size: 1}); err != nil {
			t.Fatal(err)
		}
	}
	kvs := s.KV()
	var batch kv.Batch
	batch.Put([]byte("q/b"), []byte("v2"))
	batch.Delete([]byte("q/c"))
	if err := kvs.Apply(ctx, &batch); err != nil {
		t.Fatal(err)
	}
	var got []string
	for p, err := range kvs.Scan(ctx, []byte("q/"), []byte("q/b")) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, string(p.Key)+"="+string(p.Value))
	}
	if want := "q/b=v2 q/d=v1"; strings.Join(got, " ") != want {
		t.Errorf("Scan from q/b = %q, want %q", got, want)
	}
	if v, err := kvs.Get(ctx, []byte("q/a")); err != nil || string(v) != "v1" {
		t.Errorf("Get(q/a) = %q, %v", v, err)
	}
	if _, err := kvs.Get(ctx, []byte("q/c")); !errors.Is(err, kv.ErrNotFound) {
		t.Errorf("Get(q/c) after its delete: %v", err)
	}
}
