package s3api

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// requireCurrentBoto3 returns the first python3 on PATH (the image's, with
// botocore 1.43) if it has boto3 with default integrity checks (botocore
// >= 1.36). It skips otherwise, except under CI=true, where it fails.
func requireCurrentBoto3(t *testing.T) string {
	t.Helper()
	fail := t.Skipf
	if os.Getenv("CI") == "true" {
		fail = t.Fatalf
	}
	py, err := exec.LookPath("python3")
	if err != nil {
		fail("python3 is missing: %v", err)
		return ""
	}
	out, err := exec.Command(py, "-c", "import boto3, botocore; print(botocore.__version__)").Output()
	if err != nil {
		fail("%s has no boto3: %v", py, err)
		return ""
	}
	v := strings.Split(strings.TrimSpace(string(out)), ".")
	major, _ := strconv.Atoi(v[0])
	minor := 0
	if len(v) > 1 {
		minor, _ = strconv.Atoi(v[1])
	}
	if major < 1 || major == 1 && minor < 36 {
		fail("%s has botocore %s; default checksums need >= 1.36", py, strings.TrimSpace(string(out)))
	}
	return py
}

// TestBoto3MultipartChecksums runs current boto3 with its default
// checksum settings against the gateway: upload_file in parts (CRC32),
// get_object and download_file with response validation, and a CRC32
// FULL_OBJECT upload completed with the object's checksum.
func TestBoto3MultipartChecksums(t *testing.T) {
	py := requireCurrentBoto3(t)
	ts := newTestServer(t)
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, py, "testdata/checksum_boto3.py", ts.URL, userRoot.AccessKey, userRoot.SecretKey, "boto3-checksums", dir)
	// Defaults only: no configuration file or variable may change them.
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + dir,
		"AWS_CONFIG_FILE=" + filepath.Join(dir, "none"), "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(dir, "none"),
	}
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "OK botocore") {
		t.Fatalf("boto3: %v\n%s", err, out)
	}
	t.Logf("%s", out)
}
