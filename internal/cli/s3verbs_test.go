package cli

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/cairn-s3/cairn/internal/server/servertest"
)

// upTree uploads tree under s3://bucket/prefix.
func upTree(t *testing.T, vars map[string]string, bucket, prefix string) {
	t.Helper()
	src := t.TempDir()
	writeTree(t, src, tree)
	ok(t, vars, "cp", "-r", src, "s3://"+bucket+"/"+prefix)
}

func TestRm(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	vars := s3Env(srv)
	c := testClient(t, vars)
	ok(t, vars, "mb", "s3://rmb")
	upTree(t, vars, "rmb", "p/")
	all := []string{"p/a.txt", "p/b.log", "p/sub/c.txt", "p/sub/deep/d.gz"}

	// A prefix without --recursive is an error, and deletes nothing.
	mustFail(t, vars, "s3://rmb/p/ is a prefix (a directory), not an object: add --recursive", "rm", "s3://rmb/p/")
	mustFail(t, vars, "s3://rmb/p/sub is a prefix", "rm", "s3://rmb/p/sub")
	mustFail(t, vars, "s3://rmb/p/none: no such object", "rm", "s3://rmb/p/none")
	sameKeys(t, "refused rm", keysUnder(t, c, "rmb", ""), all...)

	if out := ok(t, vars, "rm", "--dryrun", "-r", "s3://rmb/p/"); !strings.Contains(out, "(dryrun) delete: s3://rmb/p/a.txt") {
		t.Errorf("rm --dryrun: %q", out)
	}
	sameKeys(t, "rm --dryrun", keysUnder(t, c, "rmb", ""), all...)
	ok(t, vars, "rm", "s3://rmb/p/*.txt") // a wildcard: * crosses "/"
	sameKeys(t, "rm wildcard", keysUnder(t, c, "rmb", ""), "p/b.log", "p/sub/deep/d.gz")
	out := ok(t, vars, "rm", "-r", "--exclude", "*.gz", "s3://rmb/p")
	if out != "delete: s3://rmb/p/b.log\n" {
		t.Errorf("rm -r --exclude: %q", out)
	}
	ok(t, vars, "rm", "--recursive", "s3://rmb/p/")
	sameKeys(t, "rm -r", keysUnder(t, c, "rmb", ""))
	ok(t, vars, "rb", "s3://rmb")
}

func TestRbForce(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	vars := s3Env(srv)
	c := testClient(t, vars)
	ctx := context.Background()
	ok(t, vars, "mb", "s3://rbf")
	if _, err := c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String("rbf"),
		VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}}); err != nil {
		t.Fatal(err)
	}
	upTree(t, vars, "rbf", "")
	upTree(t, vars, "rbf", "") // second versions
	if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("rbf"), Key: aws.String("a.txt")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("rbf"), Key: aws.String("pending")}); err != nil {
		t.Fatal(err)
	}
	mustFail(t, vars, "BucketNotEmpty", "rb", "s3://rbf")
	mustFail(t, vars, "rb takes a bucket, not a key", "rb", "--force", "s3://rbf/a.txt")
	out := ok(t, vars, "rb", "--force", "s3://rbf")
	if !strings.HasSuffix(out, "remove_bucket: rbf\n") || strings.Count(out, "delete: ") != 9 {
		t.Errorf("rb --force: %q", out)
	}
	if _, err := c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("rbf")}); err == nil {
		t.Error("bucket still exists")
	}
}

func TestMv(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	vars := s3Env(srv)
	c := testClient(t, vars)
	ok(t, vars, "mb", "s3://mvb")
	src := t.TempDir()
	writeTree(t, src, tree)

	out := ok(t, vars, "mv", filepath.Join(src, "a.txt"), "s3://mvb/a.txt")
	if !strings.Contains(out, "move: ") {
		t.Errorf("mv output %q", out)
	}
	if _, err := os.Stat(filepath.Join(src, "a.txt")); !os.IsNotExist(err) {
		t.Errorf("moved file still there: %v", err)
	}
	ok(t, vars, "mv", "-r", src, "s3://mvb/d/")
	if got := readTree(t, src); len(got) != 0 {
		t.Errorf("mv -r left %v", got)
	}
	ok(t, vars, "mv", "-r", "s3://mvb/d/", "s3://mvb/e/")
	sameKeys(t, "mv -r s3→s3", keysUnder(t, c, "mvb", ""), "a.txt", "e/b.log", "e/sub/c.txt", "e/sub/deep/d.gz")
	dst := t.TempDir()
	ok(t, vars, "mv", "s3://mvb/a.txt", dst)
	if b, err := os.ReadFile(filepath.Join(dst, "a.txt")); err != nil || string(b) != tree["a.txt"] {
		t.Errorf("mv s3→local: %q %v", b, err)
	}
	sameKeys(t, "mv s3→local", keysUnder(t, c, "mvb", "a"))
	mustFail(t, vars, "cannot be moved", "mv", "-", "s3://mvb/x")
}

func TestStatPresignDu(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	vars := s3Env(srv)
	ok(t, vars, "mb", "s3://spd")
	upTree(t, vars, "spd", "p/")

	out := ok(t, vars, "stat", "s3://spd/p/a.txt")
	for _, want := range []string{"Name:          s3://spd/p/a.txt", "Size:          6 (6 B)", "ETag:", "FileModified:", "Meta mtime:"} {
		if !strings.Contains(out, want) {
			t.Errorf("stat: %q lacks %q", out, want)
		}
	}
	if out := ok(t, vars, "stat", "s3://spd"); !strings.Contains(out, "Versioning:    Unversioned") {
		t.Errorf("stat bucket: %q", out)
	}
	mustFail(t, vars, "s3://spd/p/none: no such object", "stat", "s3://spd/p/none")
	mustFail(t, vars, "s3://spd/p/sub is a prefix", "stat", "s3://spd/p/sub")
	mustFail(t, vars, "s3://nobucket: no such bucket", "stat", "s3://nobucket")

	url := strings.TrimSpace(ok(t, vars, "presign", "--expires", "10m", "s3://spd/p/sub/c.txt"))
	if !strings.HasPrefix(url, srv.URL+"/spd/p/sub/c.txt?") || !strings.Contains(url, "X-Amz-Expires=600") {
		t.Fatalf("presign: %q", url)
	}
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != tree["sub/c.txt"] {
		t.Errorf("GET presigned: %d %q", resp.StatusCode, body)
	}
	putURL := strings.TrimSpace(ok(t, vars, "presign", "--put", "s3://spd/uploaded"))
	req, _ := http.NewRequest(http.MethodPut, putURL, strings.NewReader("via url"))
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 200 {
		t.Errorf("PUT presigned: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	mustFail(t, vars, "--expires 200h0m0s: must be between 1s and 168h0m0s", "presign", "--expires", "200h", "s3://spd/p/a.txt")

	if out := ok(t, vars, "du", "s3://spd/p/"); out != "32\t4 objects\ts3://spd/p/\n" {
		t.Errorf("du: %q", out)
	}
	if out := ok(t, vars, "du", "-H", "s3://spd/p/sub/"); out != "16 B\t2 objects\ts3://spd/p/sub/\n" {
		t.Errorf("du -H: %q", out)
	}
}

func TestLsRelativeAndVersions(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	vars := s3Env(srv)
	c := testClient(t, vars)
	ctx := context.Background()
	ok(t, vars, "mb", "s3://lsb")
	upTree(t, vars, "lsb", "p/")

	out := ok(t, vars, "ls", "s3://lsb/p/sub/")
	if !strings.Contains(out, "PRE  deep/") || !strings.Contains(out, " 8  c.txt\n") || strings.Contains(out, "p/sub/") {
		t.Errorf("ls s3://lsb/p/sub/: %q", out)
	}
	if out := ok(t, vars, "ls", "s3://lsb/p/su"); !strings.Contains(out, "PRE  sub/") {
		t.Errorf("ls partial prefix: %q", out)
	}
	if out := ok(t, vars, "ls", "-r", "s3://lsb/p/"); !strings.Contains(out, "  sub/deep/d.gz\n") || strings.Contains(out, "p/sub") {
		t.Errorf("ls -r: %q", out)
	}

	if _, err := c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String("lsb"),
		VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}}); err != nil {
		t.Fatal(err)
	}
	r := runStdin(vars, strings.NewReader("v2"), "cp", "-", "s3://lsb/p/a.txt")
	if r.code != 0 {
		t.Fatal(r.stderr)
	}
	ok(t, vars, "rm", "s3://lsb/p/b.log")
	out = ok(t, vars, "ls", "--versions", "s3://lsb/p/")
	if strings.Count(out, "  a.txt  ") != 2 || !strings.Contains(out, "latest") || !strings.Contains(out, "DELETE  b.log") {
		t.Errorf("ls --versions: %q", out)
	}
	// By key, newest first: the delete marker (latest) before b.log's data.
	if marker, data := strings.Index(out, "DELETE  b.log"), strings.Index(out, "10  b.log"); marker < 0 || data < marker {
		t.Errorf("ls --versions order: %q", out)
	}
}

func TestErrorsAreOneReadableLine(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	vars := s3Env(srv)
	r := mustFail(t, vars, "GetObject: NoSuchBucket: ", "cat", "s3://nobucket/key")
	if !strings.Contains(r.stderr, "(HTTP 404)") || strings.Contains(r.stderr, "RequestID") || strings.Contains(r.stderr, "operation error") {
		t.Errorf("stderr %q", r.stderr)
	}
	down := s3Env(srv)
	down["AWS_ENDPOINT_URL"] = "http://127.0.0.1:1"
	mustFail(t, down, "ListBuckets: cannot reach http://127.0.0.1:1: connect: connection refused", "ls")
	bad := s3Env(srv)
	bad["AWS_SECRET_ACCESS_KEY"] = "wrong"
	mustFail(t, bad, "ListBuckets: SignatureDoesNotMatch: ", "ls")
}
