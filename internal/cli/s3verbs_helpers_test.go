package cli

import (
	"context"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cairn-s3/cairn/internal/syncbuf"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// runStdin runs cairn with stdin as its standard input.
func runStdin(vars map[string]string, stdin io.Reader, args ...string) result {
	var stdout, stderr syncbuf.Buffer
	code := run(context.Background(), args, env{
		stdin: stdin, stdout: &stdout, stderr: &stderr,
		lookup: func(k string) (string, bool) { v, ok := vars[k]; return v, ok },
	})
	return result{code, stdout.String(), stderr.String()}
}

// mustFail is fails, stopping the test, and checks that the error is
// one readable line that does not say https (the endpoints are http).
func mustFail(t *testing.T, vars map[string]string, wantErr string, args ...string) result {
	t.Helper()
	r := runCLI(t, vars, args...)
	if r.code == 0 || !strings.Contains(r.stderr, wantErr) {
		t.Fatalf("cairn %s: exit %d, stderr %q; want failure mentioning %q", strings.Join(args, " "), r.code, r.stderr, wantErr)
	}
	if strings.Contains(r.stderr, "https") || strings.Count(strings.TrimSpace(r.stderr), "\n") > 0 {
		t.Errorf("cairn %s: error is not one readable line: %q", strings.Join(args, " "), r.stderr)
	}
	return r
}

// writeTree creates the files (relative path → content) under dir.
func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// readTree returns the regular files under dir (relative path → content).
func readTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	got := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		got[filepath.ToSlash(rel)] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// testClient is an S3 client for checking what the commands did.
func testClient(t *testing.T, vars map[string]string) *s3.Client {
	t.Helper()
	var f s3Flags
	c, err := f.client(context.Background(), env{lookup: func(k string) (string, bool) { v, ok := vars[k]; return v, ok }})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// keysUnder lists the keys under prefix, sorted.
func keysUnder(t *testing.T, c *s3.Client, bucket, prefix string) []string {
	t.Helper()
	var keys []string
	if err := listObjects(context.Background(), c, bucket, prefix, func(o types.Object) error {
		keys = append(keys, aws.ToString(o.Key))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	slices.Sort(keys)
	return keys
}

// objectBody returns an object's content.
func objectBody(t *testing.T, c *s3.Client, bucket, key string) string {
	t.Helper()
	out, err := c.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("get %s/%s: %v", bucket, key, err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func sameKeys(t *testing.T, what string, got []string, want ...string) {
	t.Helper()
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("%s: keys %q, want %q", what, got, want)
	}
}
