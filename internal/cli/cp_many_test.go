package cli

import (
	"context"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cairn-s3/cairn/internal/syncbuf"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/cairn-s3/cairn/internal/server/servertest"
)

var tree = map[string]string{
	"a.txt":         "alpha\n",
	"b.log":         "bravo log\n",
	"sub/c.txt":     "charlie\n",
	"sub/deep/d.gz": "delta gz",
}

func TestCpRecursiveRoundTrip(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	vars := s3Env(srv)
	c := testClient(t, vars)
	src := t.TempDir()
	writeTree(t, src, tree)
	ok(t, vars, "mb", "s3://rbkt")

	out := ok(t, vars, "cp", "-r", src, "s3://rbkt/up/")
	sameKeys(t, "cp -r dir", keysUnder(t, c, "rbkt", ""), "up/a.txt", "up/b.log", "up/sub/c.txt", "up/sub/deep/d.gz")
	if !strings.Contains(out, "upload: "+filepath.Join(src, "sub/c.txt")+" to s3://rbkt/up/sub/c.txt") || !strings.Contains(out, "4 files, 32 B in ") {
		t.Errorf("cp -r output: %q", out)
	}
	// Download into a directory that does not exist yet: it and the
	// subdirectories are created.
	dst := filepath.Join(t.TempDir(), "new", "dir")
	ok(t, vars, "cp", "--recursive", "s3://rbkt/up", dst)
	if got := readTree(t, dst); !maps.Equal(got, tree) {
		t.Errorf("downloaded tree %v, want %v", got, tree)
	}
	// s3→s3, server-side.
	ok(t, vars, "cp", "-r", "s3://rbkt/up/", "s3://rbkt/copy")
	sameKeys(t, "cp -r s3→s3", keysUnder(t, c, "rbkt", "copy/"), "copy/a.txt", "copy/b.log", "copy/sub/c.txt", "copy/sub/deep/d.gz")
	if got := objectBody(t, c, "rbkt", "copy/sub/deep/d.gz"); got != tree["sub/deep/d.gz"] {
		t.Errorf("copied body %q", got)
	}
	// Without -r a prefix or a directory is an error that names the fix.
	mustFail(t, vars, "s3://rbkt/up/ is a prefix (a directory), not an object: add --recursive", "cp", "s3://rbkt/up/", t.TempDir())
	mustFail(t, vars, "s3://rbkt/up is a prefix", "cp", "s3://rbkt/up", t.TempDir())
	mustFail(t, vars, "is a directory: add --recursive", "cp", src, "s3://rbkt/x/")
	mustFail(t, vars, "s3://rbkt/nope: no such object", "cp", "s3://rbkt/nope", t.TempDir())
}

func TestCpWildcardsAndSeveralSources(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	vars := s3Env(srv)
	c := testClient(t, vars)
	src := t.TempDir()
	writeTree(t, src, tree)
	ok(t, vars, "mb", "s3://wbkt")
	ok(t, vars, "cp", "-r", src, "s3://wbkt/logs/")

	// An S3 wildcard: * crosses "/", names stay relative to the prefix's
	// directory.
	dst := t.TempDir()
	ok(t, vars, "cp", "s3://wbkt/logs/*.txt", dst)
	want := map[string]string{"a.txt": tree["a.txt"], "sub/c.txt": tree["sub/c.txt"]}
	if got := readTree(t, dst); !maps.Equal(got, want) {
		t.Errorf("wildcard download %v, want %v", got, want)
	}
	ok(t, vars, "cp", "s3://wbkt/logs/sub/*", "s3://wbkt/flat/")
	sameKeys(t, "s3 wildcard copy", keysUnder(t, c, "wbkt", "flat/"), "flat/c.txt", "flat/deep/d.gz")

	// A local glob the shell did not expand, and several sources (the last
	// argument is the destination).
	ok(t, vars, "cp", filepath.Join(src, "*.log"), "s3://wbkt/glob/")
	sameKeys(t, "local glob", keysUnder(t, c, "wbkt", "glob/"), "glob/b.log")
	ok(t, vars, "cp", filepath.Join(src, "a.txt"), filepath.Join(src, "sub/c.txt"), "s3://wbkt/multi")
	sameKeys(t, "several sources", keysUnder(t, c, "wbkt", "multi/"), "multi/a.txt", "multi/c.txt")
	mustFail(t, vars, "no match", "cp", filepath.Join(src, "*.none"), "s3://wbkt/x/")
}

func TestCpFiltersAndDryrun(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	vars := s3Env(srv)
	c := testClient(t, vars)
	src := t.TempDir()
	writeTree(t, src, tree)
	ok(t, vars, "mb", "s3://fbkt")

	// Order matters: the last matching rule decides.
	ok(t, vars, "cp", "-r", src, "s3://fbkt/txt/", "--exclude", "*", "--include", "*.txt")
	sameKeys(t, "exclude * include *.txt", keysUnder(t, c, "fbkt", "txt/"), "txt/a.txt", "txt/sub/c.txt")
	if out := ok(t, vars, "cp", "-r", src, "s3://fbkt/none/", "--include", "*.txt", "--exclude", "*"); !strings.HasPrefix(out, "0 files, 0 B in ") {
		t.Errorf("everything excluded: %q", out)
	}
	sameKeys(t, "include *.txt exclude *", keysUnder(t, c, "fbkt", "none/"))
	ok(t, vars, "cp", "-r", src, "s3://fbkt/nosub/", "--exclude", "sub/*", "--include", "sub/deep/*")
	sameKeys(t, "exclude sub/* include sub/deep/*", keysUnder(t, c, "fbkt", "nosub/"), "nosub/a.txt", "nosub/b.log", "nosub/sub/deep/d.gz")

	out := ok(t, vars, "cp", "-r", "--dryrun", src, "s3://fbkt/dry/")
	if !strings.Contains(out, "(dryrun) upload: "+filepath.Join(src, "a.txt")+" to s3://fbkt/dry/a.txt") || !strings.Contains(out, "(dryrun) 4 files, 32 B") {
		t.Errorf("dryrun output %q", out)
	}
	sameKeys(t, "dryrun", keysUnder(t, c, "fbkt", "dry/"))
	dst := t.TempDir()
	ok(t, vars, "cp", "-r", "--dryrun", "s3://fbkt/txt/", dst)
	if got := readTree(t, dst); len(got) != 0 {
		t.Errorf("dryrun download wrote %v", got)
	}
}

func TestCpObjectOptions(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	vars := s3Env(srv)
	c := testClient(t, vars)
	ctx := context.Background()
	src := filepath.Join(t.TempDir(), "page.html")
	writeTree(t, filepath.Dir(src), map[string]string{"page.html": "<p>hi</p>"})
	ok(t, vars, "mb", "s3://obkt")

	ok(t, vars, "cp", "--content-type", "text/html", "--metadata", "owner=ann,team=web", "--acl", "public-read", "--sse", "AES256", src, "s3://obkt/page.html")
	h, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("obkt"), Key: aws.String("page.html")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(h.ContentType) != "text/html" || h.Metadata["owner"] != "ann" || h.Metadata["team"] != "web" || h.ServerSideEncryption != types.ServerSideEncryptionAes256 {
		t.Errorf("head: type %q meta %v sse %q", aws.ToString(h.ContentType), h.Metadata, h.ServerSideEncryption)
	}
	if h.Metadata["mtime"] == "" {
		t.Errorf("no mtime metadata: %v", h.Metadata)
	}
	acl, err := c.GetObjectAcl(ctx, &s3.GetObjectAclInput{Bucket: aws.String("obkt"), Key: aws.String("page.html")})
	if err != nil {
		t.Fatal(err)
	}
	public := false
	for _, g := range acl.Grants {
		public = public || (g.Grantee != nil && strings.HasSuffix(aws.ToString(g.Grantee.URI), "/global/AllUsers") && g.Permission == types.PermissionRead)
	}
	if !public {
		t.Errorf("--acl public-read: grants %+v", acl.Grants)
	}

	// A copy keeps the source's metadata unless it is given.
	ok(t, vars, "cp", "s3://obkt/page.html", "s3://obkt/kept.html")
	ok(t, vars, "cp", "--metadata", "owner=bob", "--content-type", "text/plain", "s3://obkt/page.html", "s3://obkt/replaced.html")
	kept, _ := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("obkt"), Key: aws.String("kept.html")})
	repl, _ := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("obkt"), Key: aws.String("replaced.html")})
	if kept == nil || repl == nil || kept.Metadata["owner"] != "ann" || aws.ToString(kept.ContentType) != "text/html" ||
		repl.Metadata["owner"] != "bob" || aws.ToString(repl.ContentType) != "text/plain" {
		t.Errorf("copy metadata: kept %+v, replaced %+v", kept, repl)
	}

	ok(t, vars, "cp", "--sse", "aws:kms", "--sse-kms-key-id", "test-key", src, "s3://obkt/kms.html")
	if h, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("obkt"), Key: aws.String("kms.html")}); err != nil || h.ServerSideEncryption != types.ServerSideEncryptionAwsKms {
		t.Errorf("--sse aws:kms: %v %+v", err, h)
	}
	mustFail(t, vars, `--sse "DES": want AES256 or aws:kms`, "cp", "--sse", "DES", src, "s3://obkt/x")
	mustFail(t, vars, `--acl "everyone" is not a canned ACL`, "cp", "--acl", "everyone", src, "s3://obkt/x")
	mustFail(t, vars, "--sse-kms-key-id needs --sse aws:kms", "cp", "--sse-kms-key-id", "k", src, "s3://obkt/x")
	sameKeys(t, "refused flags change nothing", keysUnder(t, c, "obkt", "x"))
}

// An object above the multipart-copy threshold is copied with
// UploadPartCopy (S3's only way above 5 GiB) and keeps its metadata.
func TestCpMultipartCopy(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	vars := s3Env(srv)
	c := testClient(t, vars)
	data := strings.Repeat("0123456789abcdef", 12<<16) // 12 MiB
	src := filepath.Join(t.TempDir(), "big")
	if err := os.WriteFile(src, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	ok(t, vars, "mb", "s3://mckt")
	ok(t, vars, "cp", "--metadata", "k=v", "--state-dir", t.TempDir(), src, "s3://mckt/big")
	ok(t, vars, "cp", "--multipart-copy-threshold", "1", "--part-size", "5MiB", "s3://mckt/big", "s3://mckt/big-copy")
	h, err := c.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String("mckt"), Key: aws.String("big-copy")})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(aws.ToString(h.ETag), `-3"`) || h.Metadata["k"] != "v" || h.Metadata["mtime"] == "" {
		t.Errorf("multipart copy: ETag %s, metadata %v", aws.ToString(h.ETag), h.Metadata)
	}
	if objectBody(t, c, "mckt", "big-copy") != data {
		t.Error("multipart copy differs")
	}
}

func TestCpStandardStreams(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	vars := s3Env(srv)
	c := testClient(t, vars)
	ok(t, vars, "mb", "s3://sbkt")
	r := runStdin(vars, strings.NewReader("piped bytes\n"), "cp", "-", "s3://sbkt/in.txt")
	if r.code != 0 || objectBody(t, c, "sbkt", "in.txt") != "piped bytes\n" {
		t.Fatalf("cp - : %+v", r)
	}
	r = runStdin(vars, strings.NewReader(""), "cp", "s3://sbkt/in.txt", "-")
	if r.code != 0 || r.stdout != "piped bytes\n" || !strings.Contains(r.stderr, "1 files, 12 B") {
		t.Fatalf("cp to - : %+v", r)
	}
	if _, err := os.Stat("-"); err == nil {
		t.Error(`cp s3://… - wrote a file named "-"`)
	}
	// Input of several parts streams as a multipart upload.
	big := strings.Repeat("x", 11<<20+5)
	if r := runStdin(vars, strings.NewReader(big), "cp", "--part-size", "5MiB", "-", "s3://sbkt/big"); r.code != 0 {
		t.Fatalf("cp - (multipart): %+v", r)
	}
	if objectBody(t, c, "sbkt", "big") != big {
		t.Error("streamed multipart upload differs")
	}
	mustFail(t, vars, "standard input needs a full key", "cp", "-", "s3://sbkt/dir/")
	mustFail(t, vars, "(standard output) takes one object", "cp", "-r", "s3://sbkt/", "-")
}

func TestProgressStopsAtTotal(t *testing.T) {
	var buf syncbuf.Buffer
	p := &progress{w: &buf, total: 100}
	p.done.Store(150) // a retried part counted twice
	p.draw()
	if got := buf.String(); !strings.Contains(got, "100%") || !strings.Contains(got, "100 B / 100 B") {
		t.Errorf("progress %q", got)
	}
}

// One file that cannot be written does not stop the others; each failure
// is a line on stderr and the exit code is 1.
func TestCpPartialFailureAndConcurrency(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	vars := s3Env(srv)
	src := t.TempDir()
	writeTree(t, src, tree)
	ok(t, vars, "mb", "s3://pfkt")
	if out := ok(t, vars, "cp", "-r", "-q", "--concurrency", "1", src, "s3://pfkt/p/"); !strings.HasPrefix(out, "4 files, 32 B in ") {
		t.Errorf("--quiet: %q", out)
	}
	dst := t.TempDir()
	writeTree(t, dst, map[string]string{"sub": "a file where a directory is needed"})
	r := runCLI(t, vars, "cp", "-r", "--concurrency", "2", "s3://pfkt/p/", dst)
	if r.code != 1 || !strings.Contains(r.stderr, "cairn: download failed: s3://pfkt/p/sub/c.txt to "+filepath.Join(dst, "sub/c.txt")) ||
		!strings.HasSuffix(r.stderr, "cairn: 2 of 4 transfers failed\n") || !strings.Contains(r.stdout, "2 files, 16 B in ") || !strings.Contains(r.stdout, ", 2 failed") {
		t.Errorf("partial failure: %+v", r)
	}
	if got := readTree(t, dst); got["a.txt"] != tree["a.txt"] || got["b.log"] != tree["b.log"] {
		t.Errorf("the other files: %v", got)
	}
	mustFail(t, vars, "--concurrency and --parallel must be at least 1", "cp", "--concurrency", "0", "s3://pfkt/p/a.txt", dst)
}
