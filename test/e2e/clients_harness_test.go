package e2e

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// The client matrix: every client uploads the same tree (one object larger
// than 100 MiB, which every client sends in parts, and a few small ones),
// reads it back with its own default validation and the files are compared
// by SHA-256 here.

// bigObjectSize is just over 100 MiB and not a multiple of any part size,
// so the last part of every multipart upload is short.
const bigObjectSize = 100<<20 + 4321

// binDirEnv names the folder where install-clients.sh puts the clients
// built from Go modules (mc, s5cmd); unset, it is the user's cache folder's
// cairn-e2e/bin, the script's default too. PATH is searched after it.
const binDirEnv = "CAIRN_E2E_BIN_DIR"

func binDir() string {
	if dir := os.Getenv(binDirEnv); dir != "" {
		return dir
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(cache, "cairn-e2e", "bin")
}

// toolTimeout bounds one client command; the big uploads on a loaded
// two-core machine take seconds, so this is only a guard against a hang.
const toolTimeout = 5 * time.Minute

// sourceTree is a folder of files to upload, with their SHA-256 sums.
type sourceTree struct {
	dir  string
	sums map[string]string // slash-separated relative path → hex SHA-256
}

// bigKey is the tree's large file.
const bigKey = "big.bin"

// makeSourceTree writes the matrix's files into a new temporary folder:
// the big random file, small files in nested folders and an empty one.
func makeSourceTree(t *testing.T) sourceTree {
	t.Helper()
	tree := sourceTree{dir: t.TempDir(), sums: map[string]string{}}
	sizes := map[string]int64{
		bigKey:              bigObjectSize,
		"small/a.txt":       1,
		"small/b.bin":       64<<10 + 7,
		"nested/deep/c.bin": 3<<20 + 11,
		"small/empty":       0,
	}
	for rel, size := range sizes {
		tree.sums[rel] = writeRandomFile(t, filepath.Join(tree.dir, filepath.FromSlash(rel)), size)
	}
	return tree
}

// path is the local file of a relative key.
func (tr sourceTree) path(rel string) string { return filepath.Join(tr.dir, filepath.FromSlash(rel)) }

// keys are the tree's relative paths, sorted.
func (tr sourceTree) keys() []string {
	keys := make([]string, 0, len(tr.sums))
	for k := range tr.sums {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// without is a copy of the tree in a new folder lacking one file, for the
// sync-with-deletion steps.
func (tr sourceTree) without(t *testing.T, rel string) sourceTree {
	t.Helper()
	cp := sourceTree{dir: t.TempDir(), sums: map[string]string{}}
	for k, sum := range tr.sums {
		if k == rel {
			continue
		}
		dst := cp.path(k)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		// A hard link keeps the copy cheap; the clients only read it.
		if err := os.Link(tr.path(k), dst); err != nil {
			t.Fatal(err)
		}
		cp.sums[k] = sum
	}
	return cp
}

// verifyDir checks that dir holds exactly the tree's files, byte for byte.
func (tr sourceTree) verifyDir(t *testing.T, dir string) {
	t.Helper()
	got := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		got[filepath.ToSlash(rel)] = sha256File(t, p)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range tr.sums {
		if got[k] != want {
			t.Errorf("%s: downloaded SHA-256 %q, uploaded %q", k, got[k], want)
		}
	}
	for k := range got {
		if _, ok := tr.sums[k]; !ok {
			t.Errorf("%s was downloaded but is not in the source tree", k)
		}
	}
}

// expectSum checks what a client read back as key against the upload.
func (tr sourceTree) expectSum(t *testing.T, what, key, got string) {
	t.Helper()
	if got != tr.sums[key] {
		t.Errorf("%s %s: SHA-256 %s, uploaded %s", what, key, got, tr.sums[key])
	}
}

// writeRandomFile streams size random bytes into path and returns their
// SHA-256; memory stays at one buffer whatever the size.
func writeRandomFile(t *testing.T, path string, size int64) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.CopyN(io.MultiWriter(f, h), rand.Reader, size); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func sha256File(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return sha256Reader(t, f)
}

func sha256Reader(t *testing.T, r io.Reader) string {
	t.Helper()
	h := sha256.New()
	if _, err := io.Copy(h, r); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// fetchPresigned GETs a presigned URL with net/http, as a browser or curl
// would, and checks the body against the tree's file of that key.
func fetchPresigned(t *testing.T, tree sourceTree, key, rawURL string) {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil || u.Hostname() != "127.0.0.1" {
		t.Fatalf("presigned URL of %s does not point at the loopback server: %q (%v)", key, rawURL, err)
	}
	resp, err := http.Get(rawURL)
	if err != nil {
		t.Fatalf("GET presigned %s: %v", key, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		t.Fatalf("GET presigned %s: %s\n%s", key, resp.Status, body)
	}
	tree.expectSum(t, "GET presigned", key, sha256Reader(t, resp.Body))
}

// requireBin finds a client installed by install-clients.sh (in binDir)
// or on PATH; missing, it skips — except under CI, where it fails.
func requireBin(t *testing.T, name, how string) string {
	t.Helper()
	if dir := binDir(); dir != "" {
		p := filepath.Join(dir, name)
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	missingDependency(t, "%s is missing from $%s and PATH (%s)", name, binDirEnv, how)
	return ""
}

// requireRuns checks that a client's libraries are there by running a
// command that only loads them (import boto3, node's import of the SDK).
func requireRuns(t *testing.T, how string, c tool, args ...string) {
	t.Helper()
	if out, err := c.run(args...); err != nil {
		missingDependency(t, "%s %s failed (%s): %v\n%s", c.path, strings.Join(args, " "), how, err, out)
	}
}

// tool is one external client with its environment and leading arguments.
type tool struct {
	t    *testing.T
	path string
	env  []string // added to the test's environment
	drop []string // variable names removed from it
	args []string // given before every call's own arguments
	dir  string   // working directory, when it matters
}

// command builds the client's process; ctx bounds it.
func (c tool) command(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, c.path, append(slices.Clone(c.args), args...)...)
	cmd.Dir = c.dir
	for _, kv := range os.Environ() {
		if !slices.Contains(c.drop, strings.SplitN(kv, "=", 2)[0]) {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, c.env...)
	return cmd
}

// run executes one call with a bounded time and returns its combined output.
func (c tool) run(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), toolTimeout)
	defer cancel()
	out, err := c.command(ctx, args...).CombinedOutput()
	return string(out), err
}

// must runs one call, fails the test on a non-zero exit and returns the
// call's stdout alone (clients print notices on stderr).
func (c tool) must(args ...string) string {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), toolTimeout)
	defer cancel()
	cmd := c.command(ctx, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		c.t.Fatalf("%s %s: %v\n%s%s", filepath.Base(c.path), strings.Join(args, " "), err, out, stderr.String())
	}
	return string(out)
}

// sha256Stdout runs one call and returns the SHA-256 of what it wrote to
// stdout (a client's cat), streamed.
func (c tool) sha256Stdout(args ...string) string {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), toolTimeout)
	defer cancel()
	cmd := c.command(ctx, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		c.t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	sum := sha256Reader(c.t, stdout)
	if err := cmd.Wait(); err != nil {
		c.t.Fatalf("%s %s: %v\n%s", filepath.Base(c.path), strings.Join(args, " "), err, stderr.String())
	}
	return sum
}

// scriptLines returns the values of an SDK script's output lines that
// start with prefix ("presigned KEY URL" → KEY → URL).
func scriptLines(out, prefix string) map[string]string {
	found := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 3 && f[0] == prefix {
			found[f[1]] = f[2]
		}
	}
	return found
}

// sdkMatrix drives one SDK through the matrix with a script of the
// contract of testdata/boto3_matrix.py and testdata/js/s3_matrix.mjs:
// the "put" phase uploads the tree into a new bucket, reads it back with
// the SDK's own validation, downloads it and prints presigned URLs; the
// "delete" phase removes every object and the bucket. sdk's leading
// arguments name the script; extra follows the contract's arguments.
func sdkMatrix(t *testing.T, srv *server, sdk tool, tree sourceTree, bucket string, extra ...string) {
	t.Helper()
	dst := t.TempDir()
	phase := func(name string) string {
		t.Helper()
		args := append([]string{name, srv.URL(), rootAccessKey, rootSecretKey, bucket, tree.dir, dst}, extra...)
		out, err := sdk.run(args...)
		if err != nil || !strings.Contains(out, "ALL OK") {
			t.Fatalf("%s phase: %v\n%s\nserver log (end):\n%s", name, err, out, srv.logTail(40))
		}
		return out
	}
	out := phase("put")
	t.Log(strings.SplitN(out, "\n", 2)[0])
	tree.verifyDir(t, dst)
	urls := scriptLines(out, "presigned")
	for _, key := range tree.keys() {
		if u, ok := urls[key]; ok {
			fetchPresigned(t, tree, key, u)
		} else {
			t.Errorf("the script printed no presigned URL for %s", key)
		}
	}
	phase("delete")
	assertBucketGone(t, srv, bucket)
}

// startMatrixServer starts a server whose log shows every request (the
// tail is printed when a client fails) and checks, once the test is over,
// that serving the clients logged no error and answered no 5xx: whatever
// a current client sends, the server knows what to answer.
func startMatrixServer(t *testing.T) *server {
	t.Helper()
	srv := startServer(t, t.TempDir(), "--access-log", "text")
	t.Cleanup(func() {
		for line := range strings.Lines(srv.log()) {
			if strings.Contains(line, "level=ERROR") || strings.Contains(line, " status=5") {
				t.Errorf("server log: %s", strings.TrimSpace(line))
			}
		}
	})
	return srv
}

// logTail is the end of the server's log, for failure messages.
func (s *server) logTail(lines int) string {
	all := strings.Split(strings.TrimRight(s.log(), "\n"), "\n")
	return strings.Join(all[max(0, len(all)-lines):], "\n")
}

// assertListed checks that a client's listing names every key.
func assertListed(t *testing.T, listing string, keys []string) {
	t.Helper()
	for _, key := range keys {
		if !strings.Contains(listing, key) {
			t.Errorf("listing lacks %s:\n%s", key, listing)
		}
	}
}

// lineValue is the rest of the output line that starts with label.
func lineValue(t *testing.T, out, label string) string {
	t.Helper()
	for line := range strings.Lines(out) {
		if v, ok := strings.CutPrefix(line, label); ok {
			return strings.TrimSpace(v)
		}
	}
	t.Fatalf("no %q line in:\n%s", label, out)
	return ""
}

// assertBucketGone checks that a client's bucket removal took.
func assertBucketGone(t *testing.T, srv *server, bucket string) {
	t.Helper()
	if _, err := srv.s3Client().HeadBucket(context.Background(), &s3.HeadBucketInput{Bucket: aws.String(bucket)}); err == nil {
		t.Errorf("bucket %s is still there", bucket)
	}
}
