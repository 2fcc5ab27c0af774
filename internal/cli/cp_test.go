package cli

import (
	"bytes"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cairn-s3/cairn/internal/server/servertest"
)

// s3Env points the S3 client commands at srv as root.
func s3Env(srv *servertest.Running) map[string]string {
	return map[string]string{
		"AWS_ENDPOINT_URL":      srv.URL,
		"AWS_ACCESS_KEY_ID":     srv.RootAccessKey,
		"AWS_SECRET_ACCESS_KEY": srv.RootSecretKey,
		"AWS_REGION":            "us-east-1",
	}
}

func TestCp(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	vars := s3Env(srv)
	dir := t.TempDir()
	data := make([]byte, 12<<20+7) // three 5 MiB parts
	rand.Read(data)
	src := filepath.Join(dir, "data.bin")
	if err := os.WriteFile(src, data, 0o644); err != nil {
		t.Fatal(err)
	}
	ok(t, vars, "mb", "s3://cpb")
	ok(t, vars, "cp", "--parallel", "3", "--part-size", "5MiB", "--state-dir", t.TempDir(), src, "s3://cpb/in/")
	ok(t, vars, "cp", "s3://cpb/in/data.bin", "s3://cpb/copy.bin")
	out := filepath.Join(dir, "out")
	if err := os.Mkdir(out, 0o755); err != nil {
		t.Fatal(err)
	}
	ok(t, vars, "cp", "--quiet", "s3://cpb/copy.bin", out)
	got, err := os.ReadFile(filepath.Join(out, "copy.bin"))
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("downloaded copy differs (%v)", err)
	}
	fails(t, vars, "one side must be", "cp", src, out)
	fails(t, vars, "bad size", "cp", "--part-size", "5XB", src, "s3://cpb/x")
	// --endpoint wins over the environment.
	vars["AWS_ENDPOINT_URL"] = "http://127.0.0.1:1"
	ok(t, vars, "cp", "--endpoint", srv.URL, "s3://cpb/copy.bin", filepath.Join(dir, "again"))
}

func TestBucketCommands(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	vars := s3Env(srv)
	if got := ok(t, vars, "mb", "s3://bkt1"); got != "make_bucket: bkt1\n" {
		t.Errorf("mb: %q", got)
	}
	src := filepath.Join(t.TempDir(), "hello.txt")
	if err := os.WriteFile(src, []byte("hello, cairn\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ok(t, vars, "cp", src, "s3://bkt1/a/hello.txt")
	ok(t, vars, "cp", src, "s3://bkt1/top.txt")
	if got := ok(t, vars, "ls"); !strings.Contains(got, "s3://bkt1") {
		t.Errorf("ls: %q", got)
	}
	got := ok(t, vars, "ls", "s3://bkt1")
	if !strings.Contains(got, "PRE  a/") || !strings.Contains(got, " 13  top.txt") || strings.Contains(got, "hello") {
		t.Errorf("ls s3://bkt1: %q", got)
	}
	if got := ok(t, vars, "ls", "-r", "s3://bkt1"); !strings.Contains(got, "a/hello.txt") {
		t.Errorf("ls -r: %q", got)
	}
	if got := ok(t, vars, "cat", "s3://bkt1/a/hello.txt"); got != "hello, cairn\n" {
		t.Errorf("cat: %q", got)
	}
	fails(t, vars, "BucketNotEmpty", "rb", "s3://bkt1")
	ok(t, vars, "rm", "s3://bkt1/a/hello.txt", "s3://bkt1/top.txt")
	fails(t, vars, "NoSuchKey", "cat", "s3://bkt1/top.txt")
	if got := ok(t, vars, "rb", "s3://bkt1"); got != "remove_bucket: bkt1\n" {
		t.Errorf("rb: %q", got)
	}
	fails(t, vars, "expected s3://", "mb", "local")
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"": 0, "123": 123, "8MiB": 8 << 20, "8M": 8 << 20, "16mb": 16 << 20, "1G": 1 << 30, "64KiB": 64 << 10} {
		if got, err := parseSize(in); err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v", in, got, err)
		}
	}
	for _, in := range []string{"x", "5XB", "-1", "1.5M"} {
		if _, err := parseSize(in); err == nil {
			t.Errorf("parseSize(%q) accepted", in)
		}
	}
}
