package cli

import (
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cairn-s3/cairn/internal/server/servertest"
)

// summaryFiles is the file count of a run's summary line.
func summaryFiles(t *testing.T, out string) string {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	last := lines[len(lines)-1]
	n, _, found := strings.Cut(last, " files, ")
	if !found {
		t.Fatalf("no summary line in %q", out)
	}
	return strings.TrimPrefix(n, "(dryrun) ")
}

func TestSyncLocalS3RoundTrip(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	vars := s3Env(srv)
	c := testClient(t, vars)
	src := t.TempDir()
	writeTree(t, src, tree)
	ok(t, vars, "mb", "s3://sync")

	if n := summaryFiles(t, ok(t, vars, "sync", src, "s3://sync/s")); n != "4" {
		t.Fatalf("first sync copied %s files", n)
	}
	if out := ok(t, vars, "sync", src, "s3://sync/s"); summaryFiles(t, out) != "0" {
		t.Fatalf("second sync copied: %q", out)
	}
	// Same size, new content and a new mtime: copied (size alone would
	// miss it).
	a := filepath.Join(src, "a.txt")
	writeTree(t, src, map[string]string{"a.txt": "ALPHA\n"})
	future := time.Now().Add(time.Hour)
	if err := os.Chtimes(a, future, future); err != nil {
		t.Fatal(err)
	}
	out := ok(t, vars, "sync", src, "s3://sync/s/")
	if summaryFiles(t, out) != "1" || !strings.Contains(out, "upload: "+a+" to s3://sync/s/a.txt") {
		t.Fatalf("sync after change: %q", out)
	}
	// --delete removes what the source no longer has, except excluded names.
	if err := os.Remove(filepath.Join(src, "sub/c.txt")); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(src, "b.log")); err != nil {
		t.Fatal(err)
	}
	out = ok(t, vars, "sync", "--delete", "--dryrun", src, "s3://sync/s")
	if !strings.Contains(out, "(dryrun) delete: s3://sync/s/sub/c.txt") {
		t.Errorf("dryrun delete: %q", out)
	}
	sameKeys(t, "after --dryrun", keysUnder(t, c, "sync", "s/"), "s/a.txt", "s/b.log", "s/sub/c.txt", "s/sub/deep/d.gz")
	ok(t, vars, "sync", "--delete", "--exclude", "*.log", src, "s3://sync/s")
	sameKeys(t, "after --delete", keysUnder(t, c, "sync", "s/"), "s/a.txt", "s/b.log", "s/sub/deep/d.gz")

	// Back down: a fresh directory gets everything with the objects'
	// mtimes, so the next sync in either direction has nothing to do.
	dst := filepath.Join(t.TempDir(), "down")
	ok(t, vars, "sync", "s3://sync/s", dst)
	want := map[string]string{"a.txt": "ALPHA\n", "b.log": tree["b.log"], "sub/deep/d.gz": tree["sub/deep/d.gz"]}
	if got := readTree(t, dst); !maps.Equal(got, want) {
		t.Fatalf("downloaded %v, want %v", got, want)
	}
	if fi, err := os.Stat(filepath.Join(dst, "a.txt")); err != nil || !fi.ModTime().Equal(future) {
		t.Errorf("downloaded mtime %v, want %v (%v)", fi.ModTime(), future, err)
	}
	if n := summaryFiles(t, ok(t, vars, "sync", "s3://sync/s", dst)); n != "0" {
		t.Errorf("s3→local again copied %s", n)
	}
	if n := summaryFiles(t, ok(t, vars, "sync", dst, "s3://sync/s")); n != "0" {
		t.Errorf("local→s3 of the download copied %s", n)
	}
	// --delete locally: extra local files go.
	writeTree(t, dst, map[string]string{"extra/x.txt": "x"})
	ok(t, vars, "sync", "--delete", "s3://sync/s/", dst)
	if got := readTree(t, dst); !maps.Equal(got, want) {
		t.Errorf("after local --delete %v, want %v", got, want)
	}
	mustFail(t, vars, "SRC must be a directory or a prefix", "sync", a, "s3://sync/s")
}

func TestSyncS3ToS3(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	vars := s3Env(srv)
	c := testClient(t, vars)
	src := t.TempDir()
	writeTree(t, src, tree)
	ok(t, vars, "mb", "s3://sync1")
	ok(t, vars, "mb", "s3://sync2")
	ok(t, vars, "sync", src, "s3://sync1/p")

	if n := summaryFiles(t, ok(t, vars, "sync", "s3://sync1/p", "s3://sync2/q")); n != "4" {
		t.Fatalf("s3→s3 copied %s", n)
	}
	if n := summaryFiles(t, ok(t, vars, "sync", "s3://sync1/p", "s3://sync2/q")); n != "0" {
		t.Fatalf("s3→s3 again copied %s", n)
	}
	ok(t, vars, "rm", "s3://sync1/p/b.log")
	ok(t, vars, "cp", "s3://sync1/p/a.txt", "s3://sync2/q/stray.txt")
	out := ok(t, vars, "sync", "--delete", "s3://sync1/p/", "s3://sync2/q/")
	if !strings.Contains(out, "delete: s3://sync2/q/stray.txt") || !strings.Contains(out, "2 deleted") {
		t.Errorf("s3→s3 --delete: %q", out)
	}
	sameKeys(t, "s3→s3 --delete", keysUnder(t, c, "sync2", ""), "q/a.txt", "q/sub/c.txt", "q/sub/deep/d.gz")
}
