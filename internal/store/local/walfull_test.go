package local

import (
	"bytes"
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/cockroachdb/pebble/vfs"

	"github.com/cairn-s3/cairn/internal/store"
)

// walFullFS fails Pebble's WAL writes with ENOSPC once the file named by
// trigger exists.
type walFullFS struct {
	vfs.FS
	trigger string
}

func (f walFullFS) wrap(name string, file vfs.File, err error) (vfs.File, error) {
	if err != nil || !strings.HasSuffix(name, ".log") {
		return file, err
	}
	return walFullFile{File: file, trigger: f.trigger}, nil
}

func (f walFullFS) Create(name string) (vfs.File, error) {
	file, err := f.FS.Create(name)
	return f.wrap(name, file, err)
}

func (f walFullFS) ReuseForWrite(oldname, newname string) (vfs.File, error) {
	file, err := f.FS.ReuseForWrite(oldname, newname)
	return f.wrap(newname, file, err)
}

type walFullFile struct {
	vfs.File
	trigger string
}

func (f walFullFile) Write(p []byte) (int, error) {
	if _, err := os.Stat(f.trigger); err == nil {
		return 0, &os.PathError{Op: "write", Path: "wal", Err: syscall.ENOSPC}
	}
	return f.File.Write(p)
}

const walChildEnv = "CAIRN_TEST_WAL_ENOSPC_DIR"

// TestWALENOSPC records what Pebble v1 does when a WAL write meets ENOSPC
// (which the reserve exists to prevent): the commit fails, Pebble calls
// Logger.Fatalf ("pebble: fatal commit error") and the process exits; a
// restart recovers every acknowledged write. The failing store runs in a
// child process, since it exits.
func TestWALENOSPC(t *testing.T) {
	if dir := os.Getenv(walChildEnv); dir != "" {
		walChild(t, dir)
		return
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestWALENOSPC$", "-test.count=1")
	cmd.Env = append(os.Environ(), walChildEnv+"="+dir)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 || !strings.Contains(stderr.String(), "pebble: fatal commit error") {
		t.Fatalf("child: %v, stderr:\n%s\nwant exit status 1 after pebble: fatal commit error", err, stderr.String())
	}
	s, err := Open(dir, Options{BallastSize: -1})
	if err != nil {
		t.Fatalf("Open after the WAL failure: %v", err)
	}
	defer s.Close()
	if _, err := s.HeadObject(t.Context(), "b", "acknowledged", store.GetOptions{}); err != nil {
		t.Fatalf("acknowledged object after restart: %v", err)
	}
}

func walChild(t *testing.T, dir string) {
	trigger := filepath.Join(t.TempDir(), "wal-full")
	s, err := Open(dir, Options{
		BallastSize: -1,
		Logger:      slog.New(slog.NewTextHandler(os.Stderr, nil)),
		pebbleFS:    walFullFS{FS: vfs.Default, trigger: trigger},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateBucket(t.Context(), store.Bucket{Name: "b"}); err != nil {
		t.Fatal(err)
	}
	if err := putSmall(t, s, "acknowledged"); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(trigger, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	err = putSmall(t, s, "refused")
	t.Fatalf("PUT with a failing WAL returned (%v): want the process to exit", err)
}
