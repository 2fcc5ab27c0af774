//go:build rados

package radostest

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/ceph/go-ceph/rados"
)

// TestClusterSmoke checks that the test cluster takes a write op, serves it
// back, and refuses an exclusive create of an existing object as a whole:
// the guard that RADOS-side conditional writes are built on.
func TestClusterSmoke(t *testing.T) {
	_, ioctx := IOContext(t)
	body := []byte("hello from cairn")

	write := rados.CreateWriteOp()
	defer write.Release()
	write.Create(rados.CreateExclusive)
	write.WriteFull(body)
	write.SetOmap(map[string][]byte{"entry": []byte("v1")})
	if err := write.Operate(ioctx, "obj", rados.OperationNoFlag); err != nil {
		t.Fatalf("first exclusive write: %v", err)
	}

	read := rados.CreateReadOp()
	defer read.Release()
	buf := make([]byte, 64)
	step := read.Read(0, buf)
	if err := read.Operate(ioctx, "obj", rados.OperationNoFlag); err != nil {
		t.Fatalf("read op: %v", err)
	}
	if got := buf[:step.BytesRead]; !bytes.Equal(got, body) {
		t.Fatalf("read back %q, want %q", got, body)
	}

	// The same guarded op again: the object exists, so nothing of it applies,
	// not even the omap step that comes after the guard.
	again := rados.CreateWriteOp()
	defer again.Release()
	again.Create(rados.CreateExclusive)
	again.WriteFull([]byte("overwritten"))
	again.SetOmap(map[string][]byte{"entry": []byte("v2")})
	// go-ceph's OperationError does not unwrap: the errno is in OpError.
	err := again.Operate(ioctx, "obj", rados.OperationNoFlag)
	var opErr rados.OperationError
	if !errors.As(err, &opErr) || !errors.Is(opErr.OpError, rados.ErrObjectExists) {
		t.Fatalf("second exclusive write: got %v, want an OperationError of %v", err, rados.ErrObjectExists)
	}
	omap, err := ioctx.GetAllOmapValues("obj", "", "", 16)
	if err != nil {
		t.Fatalf("read omap: %v", err)
	}
	if got := string(omap["entry"]); got != "v1" || len(omap) != 1 {
		t.Fatalf("omap after refused write: %q, want only entry=v1", omap)
	}
	n, err := ioctx.Read("obj", buf, 0)
	if err != nil || !bytes.Equal(buf[:n], body) {
		t.Fatalf("body after refused write: %q, %v; want %q", buf[:n], err, body)
	}
}

// TestMissingClusterSaysHow checks the message a run without a cluster gets.
func TestMissingClusterSaysHow(t *testing.T) {
	t.Setenv(ConfEnv, "")
	rec := &fatalRecorder{TB: t}
	func() {
		defer func() { _ = recover() }()
		ConfPath(rec)
	}()
	if !rec.failed || !bytes.Contains([]byte(rec.msg), []byte("test/ceph/cluster.sh start")) {
		t.Fatalf("missing cluster: failed=%v message %q, want a failure naming the start script", rec.failed, rec.msg)
	}
}

// fatalRecorder captures Fatalf instead of ending the test, by panicking
// out of the helper, which the caller recovers.
type fatalRecorder struct {
	testing.TB
	failed bool
	msg    string
}

func (r *fatalRecorder) Helper() {}

func (r *fatalRecorder) Fatalf(format string, args ...any) {
	r.failed = true
	r.msg = fmt.Sprintf(format, args...)
	panic(r)
}

// TestPoolPrefixCleanup checks that pools a store creates under its prefix
// are gone once the test that asked for the prefix ends.
func TestPoolPrefixCleanup(t *testing.T) {
	conn := Conn(t)
	var created string
	t.Run("store", func(t *testing.T) {
		created = PoolPrefix(t, conn) + "data"
		if err := conn.MakePool(created); err != nil {
			t.Fatalf("create %s: %v", created, err)
		}
	})
	pools, err := conn.ListPools()
	if err != nil {
		t.Fatalf("list pools: %v", err)
	}
	for _, name := range pools {
		if name == created {
			t.Fatalf("pool %s outlived its test", created)
		}
	}
}

// A pool a gateway created (through its own connection) under the prefix
// is deleted too: the cleanup's connection, idle since, first learns the
// cluster's current pools. Before, it listed the pools of its stale OSD map
// and left the gateways' pools behind (a shared test cluster ran out of
// placement groups).
func TestPoolPrefixCleanupOtherConnection(t *testing.T) {
	var created string
	t.Run("gateway", func(t *testing.T) {
		created = PoolPrefix(t, Conn(t)) + "data"
		gateway := Conn(t)
		if err := gateway.MakePool(created); err != nil {
			t.Fatalf("create %s: %v", created, err)
		}
	})
	check := Conn(t)
	if err := check.WaitForLatestOSDMap(); err != nil {
		t.Fatal(err)
	}
	pools, err := check.ListPools()
	if err != nil {
		t.Fatalf("list pools: %v", err)
	}
	for _, name := range pools {
		if name == created {
			_ = check.DeletePool(created)
			t.Fatalf("pool %s outlived its test", created)
		}
	}
}
