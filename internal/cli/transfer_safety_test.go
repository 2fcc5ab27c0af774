package cli

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cairn-s3/cairn/internal/server/servertest"
)

func putKey(t *testing.T, c *s3.Client, bucket, key, body string) {
	t.Helper()
	if _, err := c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: strings.NewReader(body)}); err != nil {
		t.Fatal(err)
	}
}

// An object moved onto itself is refused and stays, also with new
// metadata (which makes the server accept the copy onto itself).
func TestMvOntoItselfKeepsTheObject(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	vars := s3Env(srv)
	c := testClient(t, vars)
	ok(t, vars, "mb", "s3://self")
	putKey(t, c, "self", "d/k", "precious")
	mustFail(t, vars, "is its own destination", "mv", "s3://self/d/k", "s3://self/d/k")
	mustFail(t, vars, "is its own destination", "mv", "-r", "s3://self/d/", "s3://self/d/")
	sameKeys(t, "mv onto itself", keysUnder(t, c, "self", ""), "d/k")
	// With new metadata the server takes the copy onto itself; the move
	// must not then remove the object it just rewrote.
	mustFail(t, vars, "is its own destination", "mv", "--metadata", "a=b", "s3://self/d/k", "s3://self/d/k")
	mustFail(t, vars, "is its own destination", "mv", "-r", "--content-type", "text/plain", "s3://self/d/", "s3://self/d/")
	sameKeys(t, "mv onto itself with metadata", keysUnder(t, c, "self", ""), "d/k")
}

// Two sources with one destination are refused before anything is copied
// or removed: mv used to remove both while one copy survived.
func TestMvCollidingTargetsRefused(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	vars := s3Env(srv)
	c := testClient(t, vars)
	ok(t, vars, "mb", "s3://col")
	putKey(t, c, "col", "p/a/../b", "one")
	putKey(t, c, "col", "p/b", "two")
	putKey(t, c, "col", "x/f", "one")
	putKey(t, c, "col", "y/f", "two")
	all := []string{"p/a/../b", "p/b", "x/f", "y/f"}
	dst := t.TempDir()
	mustFail(t, vars, "would both be written to "+dst+"/b", "mv", "-r", "s3://col/p/", dst)
	if got := readTree(t, dst); len(got) != 0 {
		t.Errorf("refused mv wrote %v", got)
	}
	mustFail(t, vars, "would both be written to s3://col/z/f", "mv", "s3://col/x/f", "s3://col/y/f", "s3://col/z/")
	mustFail(t, vars, "would both be written", "sync", "s3://col/p/", dst)
	sameKeys(t, "refused mv", keysUnder(t, c, "col", ""), all...)
}

// sync --delete removes only below the destination prefix, even when the
// prefix holds wildcard characters.
func TestSyncDeleteStaysInAWildcardLookingPrefix(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	vars := s3Env(srv)
	c := testClient(t, vars)
	ok(t, vars, "mb", "s3://swd")
	putKey(t, c, "swd", "backup-old/keep", "keep")
	putKey(t, c, "swd", "backup*/stale", "stale")
	src := t.TempDir()
	writeTree(t, src, map[string]string{"f": "x"})
	ok(t, vars, "sync", "--delete", src, "s3://swd/backup*")
	sameKeys(t, "sync --delete", keysUnder(t, c, "swd", ""), "backup*/f", "backup-old/keep")
}

// sync --delete into a local file (not a directory) deletes nothing: the
// file is not a tree that SRC mirrors.
func TestSyncDeleteIntoAFileRefused(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	vars := s3Env(srv)
	ok(t, vars, "mb", "s3://sdf")
	file := filepath.Join(t.TempDir(), "notes.txt")
	if err := os.WriteFile(file, []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	mustFail(t, vars, "is a file, not a directory", "sync", "--delete", "s3://sdf/empty/", file)
	if _, err := os.Stat(file); err != nil {
		t.Errorf("sync --delete into a file removed it: %v", err)
	}
}

// A standard input that fails after some parts leaves no object and no
// multipart upload behind.
func TestCpStdinFailingInputAborts(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	vars := s3Env(srv)
	c := testClient(t, vars)
	ok(t, vars, "mb", "s3://stdfail")
	in := io.MultiReader(bytes.NewReader(make([]byte, 12<<20)), iotest.ErrReader(errors.New("disk on fire")))
	r := runStdin(vars, in, "cp", "--part-size", "5MiB", "-", "s3://stdfail/k")
	if r.code == 0 || !strings.Contains(r.stderr, "disk on fire") {
		t.Fatalf("cp - with a failing input: %+v", r)
	}
	sameKeys(t, "after a failed stdin upload", keysUnder(t, c, "stdfail", ""))
	ups, err := c.ListMultipartUploads(context.Background(), &s3.ListMultipartUploadsInput{Bucket: aws.String("stdfail")})
	if err != nil || len(ups.Uploads) != 0 {
		t.Errorf("uploads left: %+v, %v", ups, err)
	}
}

// rm -r removes the directory marker objects ("dir/") under the prefix,
// as aws s3 rm --recursive does, and nothing outside "p/".
func TestRmRecursiveRemovesDirectoryMarkers(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	vars := s3Env(srv)
	c := testClient(t, vars)
	ok(t, vars, "mb", "s3://rmm")
	for _, k := range []string{"p/", "p/sub/", "p/sub/x", "px", "p-other/y"} {
		putKey(t, c, "rmm", k, "")
	}
	ok(t, vars, "rm", "-r", "s3://rmm/p")
	sameKeys(t, "rm -r", keysUnder(t, c, "rmm", ""), "p-other/y", "px")
}

// A download's partial file is created afresh: a symlink planted under
// its name (in a directory others can write) does not redirect the
// write outside the destination.
func TestDownloadIgnoresPlantedPartialSymlink(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	vars := s3Env(srv)
	c := testClient(t, vars)
	ok(t, vars, "mb", "s3://plant")
	putKey(t, c, "plant", "f", "from the bucket")
	victim := filepath.Join(t.TempDir(), "victim")
	if err := os.WriteFile(victim, []byte("untouched"), 0o644); err != nil {
		t.Fatal(err)
	}
	dst := t.TempDir()
	if err := os.Symlink(victim, filepath.Join(dst, "f"+downloadSuffix)); err != nil {
		t.Fatal(err)
	}
	ok(t, vars, "cp", "s3://plant/f", filepath.Join(dst, "f"))
	if b, _ := os.ReadFile(victim); string(b) != "untouched" {
		t.Errorf("the planted link's target was written: %q", b)
	}
	if b, _ := os.ReadFile(filepath.Join(dst, "f")); string(b) != "from the bucket" {
		t.Errorf("download: %q", b)
	}
}

// A symbolic link loop in a local tree ends the walk: links to
// directories are not followed (links to files are).
func TestCpRecursiveSymlinkLoop(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	vars := s3Env(srv)
	c := testClient(t, vars)
	ok(t, vars, "mb", "s3://loop")
	src := t.TempDir()
	writeTree(t, src, map[string]string{"d/f": "x"})
	for link, to := range map[string]string{"d/self": ".", "d/up": "..", "d/alias": "f"} {
		if err := os.Symlink(to, filepath.Join(src, link)); err != nil {
			t.Fatal(err)
		}
	}
	ok(t, vars, "cp", "-r", src, "s3://loop/p/")
	sameKeys(t, "cp -r with link loops", keysUnder(t, c, "loop", ""), "p/d/alias", "p/d/f")
}
