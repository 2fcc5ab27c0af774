package tlsload

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cairn-s3/cairn/internal/notify/endpoint/internal/base"
	"github.com/cairn-s3/cairn/internal/notify/endpoint/internal/testcert"
)

func TestCAPoolReloadsChangedFile(t *testing.T) {
	a, b := testcert.New(t), testcert.New(t)
	path := filepath.Join(t.TempDir(), "ca.pem")
	copyFile(t, a.CAFile, path, time.Now())

	ca := NewCAPool(path)
	p1, err := ca.Pool()
	if err != nil {
		t.Fatal(err)
	}
	if p2, _ := ca.Pool(); p2 != p1 {
		t.Error("unchanged file was re-read")
	}
	copyFile(t, b.CAFile, path, time.Now().Add(time.Minute))
	p3, err := ca.Pool()
	if err != nil {
		t.Fatal(err)
	}
	if p3 == p1 || p3.Equal(p1) {
		t.Error("changed file was not re-read")
	}
}

func TestCAPoolBadFilesArePermanent(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.pem")
	if err := os.WriteFile(garbage, []byte("not pem"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{filepath.Join(dir, "missing.pem"), garbage} {
		if _, err := NewCAPool(p).Pool(); !base.IsPermanent(err) {
			t.Errorf("Pool(%s) error = %v, want permanent", p, err)
		}
	}
}

func TestConfig(t *testing.T) {
	if NewCAPool("") != nil {
		t.Error("empty path must mean system roots (nil pool)")
	}
	c, err := Config("h", false, NewCAPool("/does/not/matter"))
	if err != nil || !c.InsecureSkipVerify {
		t.Errorf("verify=false: %+v, %v; want InsecureSkipVerify", c, err)
	}
	c, err = Config("h", true, nil)
	if err != nil || c.InsecureSkipVerify || c.RootCAs != nil || c.ServerName != "h" {
		t.Errorf("verify=true without CA: %+v, %v; want system roots for h", c, err)
	}
}

func copyFile(t *testing.T, from, to string, mtime time.Time) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(to, mtime, mtime); err != nil {
		t.Fatal(err)
	}
}
