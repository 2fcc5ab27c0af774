//go:build rados

package radostest

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/ceph/go-ceph/rados"
)

// ConfEnv names the environment variable holding the test cluster's ceph.conf.
const ConfEnv = "CAIRN_CEPH_CONF"

// startHint tells a developer how to get a cluster; a missing one fails the
// test everywhere, not only under CI, since building with the rados tag is
// itself the request to test against Ceph.
const startHint = "start one with `test/ceph/cluster.sh start DIR` and set " +
	ConfEnv + "=DIR/ceph.conf (`make test` does both); the packages: " +
	"apt-get install ceph-mon ceph-mgr ceph-osd ceph-common librados-dev"

// ConfPath returns the test cluster's ceph.conf, failing the test when none
// is configured.
func ConfPath(t testing.TB) string {
	t.Helper()
	path := os.Getenv(ConfEnv)
	if path == "" {
		t.Fatalf("no Ceph cluster for the RADOS tests: %s is unset; %s", ConfEnv, startHint)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("no Ceph cluster for the RADOS tests: %s=%s: %v; %s", ConfEnv, path, err, startHint)
	}
	return path
}

// Conn returns a connection to the test cluster, shut down when the test ends.
func Conn(t testing.TB) *rados.Conn {
	t.Helper()
	path := ConfPath(t)
	conn, err := rados.NewConn()
	if err != nil {
		t.Fatalf("rados: new connection: %v", err)
	}
	if err := conn.ReadConfigFile(path); err != nil {
		conn.Shutdown()
		t.Fatalf("rados: read %s: %v", path, err)
	}
	// Without a bound, Connect waits forever for a monitor that is not there.
	if err := conn.SetConfigOption("client_mount_timeout", "15"); err != nil {
		conn.Shutdown()
		t.Fatalf("rados: set client_mount_timeout: %v", err)
	}
	if err := conn.Connect(); err != nil {
		conn.Shutdown()
		t.Fatalf("rados: connect to the cluster of %s: %v (is it running? %s)", path, err, startHint)
	}
	t.Cleanup(conn.Shutdown)
	return conn
}

// Pool creates a pool with the cluster's defaults (size 3, min_size 2) under
// a name no other test uses, and deletes it with everything in it when the
// test ends.
func Pool(t testing.TB, conn *rados.Conn) string {
	t.Helper()
	name := PoolName(t)
	if err := conn.MakePool(name); err != nil {
		t.Fatalf("rados: create pool %s: %v", name, err)
	}
	t.Cleanup(func() {
		if err := conn.DeletePool(name); err != nil {
			t.Errorf("rados: delete pool %s: %v", name, err)
		}
	})
	return name
}

// IOContext connects, creates a fresh pool and opens it: the usual start of
// a test that reads and writes objects.
func IOContext(t testing.TB) (*rados.Conn, *rados.IOContext) {
	t.Helper()
	conn := Conn(t)
	pool := Pool(t, conn)
	ioctx, err := conn.OpenIOContext(pool)
	if err != nil {
		t.Fatalf("rados: open pool %s: %v", pool, err)
	}
	t.Cleanup(ioctx.Destroy)
	return conn, ioctx
}

// PoolPrefix returns a fresh pool-name prefix for a store (or gateway) that
// creates its own pools, and deletes every pool under it when the test ends.
func PoolPrefix(t testing.TB, conn *rados.Conn) string {
	t.Helper()
	prefix := PoolName(t) + "-"
	t.Cleanup(func() {
		// The pools were created through other connections (the
		// gateways'): without the latest OSD map this one lists none.
		if err := conn.WaitForLatestOSDMap(); err != nil {
			t.Errorf("rados: wait for the OSD map: %v", err)
		}
		pools, err := conn.ListPools()
		if err != nil {
			t.Errorf("rados: list pools: %v", err)
			return
		}
		for _, name := range pools {
			if !strings.HasPrefix(name, prefix) {
				continue
			}
			if err := conn.DeletePool(name); err != nil {
				t.Errorf("rados: delete pool %s: %v", name, err)
			}
		}
	})
	return prefix
}

var unsafePoolChars = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)

// PoolName returns a fresh pool name carrying the test's name (to find a
// leftover's owner) and a random suffix (parallel tests, repeated runs).
// It creates nothing, for tests that want a gateway to create its pools.
func PoolName(t testing.TB) string {
	t.Helper()
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatalf("random pool suffix: %v", err)
	}
	base := strings.Trim(unsafePoolChars.ReplaceAllString(t.Name(), "-"), "-.")
	if len(base) > 40 {
		base = base[:40]
	}
	return "cairn-test-" + base + "-" + hex.EncodeToString(b[:])
}
