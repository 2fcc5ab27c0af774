package snsapi_test

import (
	"os"
	"os/exec"
	"testing"

	"github.com/cairn-s3/cairn/internal/notify"
)

// debianPython is Debian's interpreter, which has python3-boto3; the first
// python3 on PATH may be another one.
const debianPython = "/usr/bin/python3"

// requireBoto3 skips when boto3 is missing, except under CI=true where a
// missing client is a failure.
func requireBoto3(t *testing.T) {
	t.Helper()
	if err := exec.Command(debianPython, "-c", "import boto3").Run(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s with boto3 (Debian python3-boto3) is required under CI: %v", debianPython, err)
		}
		t.Skipf("%s with boto3 not available: %v", debianPython, err)
	}
}

// TestBoto3 runs a boto3 SNS script with SigV2 (signature_version="s3", as
// RGW's own tests do) and with the default SigV4.
func TestBoto3(t *testing.T) {
	requireBoto3(t)
	h := newHarness(t, notify.Options{})
	for _, sig := range []string{"s3", "default"} {
		t.Run(sig, func(t *testing.T) {
			out, err := exec.Command(debianPython, "testdata/sns_boto3.py", h.url, "ALICEKEY", users["ALICEKEY"][1], sig, "boto3-"+sig).CombinedOutput()
			if err != nil || string(out) != "ALL OK\n" {
				t.Fatalf("boto3 (%s): %v\n%s", sig, err, out)
			}
		})
	}
}
