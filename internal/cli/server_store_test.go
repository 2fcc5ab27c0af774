package cli

import (
	"strings"
	"testing"
)

// A binary without the RADOS extension (the default, pure Go) answers --store rados with how to get one
// that has it, and creates nothing.
func TestServerStoreRadosNeedsTheTag(t *testing.T) {
	dir := t.TempDir() + "/data"
	r := runCLI(t, map[string]string{EnvData: dir}, "server", "--address", "127.0.0.1:0", "--store", "rados", "--ceph-conf", "/nonexistent/ceph.conf")
	if r.code == 0 || !strings.Contains(r.stderr, "make rados") {
		t.Fatalf("exit %d, stderr %q: want a failure naming `make rados`", r.code, r.stderr)
	}
}

// An unknown --store is refused with the choices.
func TestServerStoreUnknown(t *testing.T) {
	r := runCLI(t, map[string]string{EnvData: t.TempDir()}, "server", "--address", "127.0.0.1:0", "--store", "s3fs")
	if r.code == 0 || !strings.Contains(r.stderr, `store "s3fs": want local or rados`) {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
}

// --ceph-user must name a client, as Ceph's tools spell it.
func TestServerStoreCephUser(t *testing.T) {
	r := runCLI(t, map[string]string{EnvData: t.TempDir()}, "server", "--address", "127.0.0.1:0", "--store", "rados", "--ceph-user", "admin")
	if r.code == 0 || !strings.Contains(r.stderr, `ceph user "admin": want client.NAME`) {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
}
