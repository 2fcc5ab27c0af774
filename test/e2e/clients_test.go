package e2e

import (
	"bytes"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const (
	debianAWS   = "/usr/bin/aws"
	debianS3cmd = "/usr/bin/s3cmd"
)

// TestAWSCLI drives the binary with awscli's high-level and s3api commands.
func TestAWSCLI(t *testing.T) {
	aws := requireTool(t, debianAWS, "awscli")
	srv := startServer(t, t.TempDir())
	env := []string{
		"AWS_ACCESS_KEY_ID=" + rootAccessKey, "AWS_SECRET_ACCESS_KEY=" + rootSecretKey,
		"AWS_DEFAULT_REGION=us-east-1", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null",
		"AWS_PAGER=",
	}
	awsRun := func(args ...string) string {
		return mustRun(t, env, aws, append([]string{"--endpoint-url", srv.URL()}, args...)...)
	}
	src := t.TempDir()
	files := map[string][]byte{"a.txt": []byte("alpha"), "sub/b.bin": randomBytes(t, 3<<20), "big.bin": randomBytes(t, 20<<20)}
	for name, data := range files {
		p := filepath.Join(src, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	awsRun("s3", "mb", "s3://cli-bucket")
	awsRun("s3", "cp", filepath.Join(src, "a.txt"), "s3://cli-bucket/a.txt")
	awsRun("s3", "sync", src, "s3://cli-bucket/synced/")
	ls := awsRun("s3", "ls", "--recursive", "s3://cli-bucket/")
	for _, want := range []string{"a.txt", "synced/a.txt", "synced/sub/b.bin", "synced/big.bin"} {
		if !strings.Contains(ls, want) {
			t.Errorf("aws s3 ls lacks %s:\n%s", want, ls)
		}
	}
	dst := t.TempDir()
	awsRun("s3", "sync", "s3://cli-bucket/synced/", dst)
	for name, data := range files {
		got, err := os.ReadFile(filepath.Join(dst, name))
		if err != nil || !bytes.Equal(got, data) {
			t.Errorf("%s did not round-trip through aws s3 sync (err %v)", name, err)
		}
	}
	head := awsRun("s3api", "head-object", "--bucket", "cli-bucket", "--key", "a.txt")
	if !strings.Contains(head, `"ContentLength": 5`) {
		t.Errorf("head-object: %s", head)
	}
	out, err := run(t, env, aws, "--endpoint-url", srv.URL(), "s3api", "get-object", "--bucket", "cli-bucket", "--key", "nope", filepath.Join(dst, "nope"))
	if err == nil || !strings.Contains(out, "NoSuchKey") {
		t.Errorf("get-object of a missing key: err %v, output %s", err, out)
	}
	awsRun("s3", "rm", "--recursive", "s3://cli-bucket/")
	awsRun("s3", "rb", "s3://cli-bucket")
}

// TestS3cmd drives the binary with s3cmd, including its multipart upload,
// signing with SigV4 and with SigV2.
func TestS3cmd(t *testing.T) {
	s3cmd := requireTool(t, debianS3cmd, "s3cmd")
	srv := startServer(t, t.TempDir())
	for _, sigV2 := range []bool{false, true} {
		name := map[bool]string{false: "sigv4", true: "sigv2"}[sigV2]
		t.Run(name, func(t *testing.T) {
			cfg := filepath.Join(t.TempDir(), "s3cfg")
			host := strings.TrimPrefix(srv.URL(), "http://")
			conf := "[default]\naccess_key = " + rootAccessKey + "\nsecret_key = " + rootSecretKey +
				"\nhost_base = " + host + "\nhost_bucket = " + host + "\nuse_https = False\nsignature_v2 = " +
				map[bool]string{false: "False", true: "True"}[sigV2] + "\nbucket_location = us-east-1\n"
			if err := os.WriteFile(cfg, []byte(conf), 0o600); err != nil {
				t.Fatal(err)
			}
			s3 := func(args ...string) string {
				return mustRun(t, nil, s3cmd, append([]string{"-c", cfg}, args...)...)
			}
			bucket := "s3://s3cmd-" + name
			dir := t.TempDir()
			small, big := filepath.Join(dir, "small.txt"), filepath.Join(dir, "big.bin")
			bigData := randomBytes(t, 12<<20)
			_ = os.WriteFile(small, []byte("small object"), 0o644)
			_ = os.WriteFile(big, bigData, 0o644)
			s3("mb", bucket)
			s3("put", small, bucket+"/small.txt")
			s3("put", "--multipart-chunk-size-mb=5", big, bucket+"/big.bin")
			ls := s3("ls", bucket)
			if !strings.Contains(ls, "small.txt") || !strings.Contains(ls, "big.bin") {
				t.Fatalf("s3cmd ls: %s", ls)
			}
			got := filepath.Join(dir, "got.bin")
			s3("get", bucket+"/big.bin", got)
			if data, _ := os.ReadFile(got); !bytes.Equal(data, bigData) {
				t.Fatal("multipart object did not round-trip through s3cmd")
			}
			s3("del", bucket+"/small.txt", bucket+"/big.bin")
			s3("rb", bucket)
		})
	}
}

func randomBytes(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}
