package e2e

import (
	"os/exec"
	"strings"
	"testing"
)

// debianPython carries Debian's boto3 1.26 (python3-boto3), from before
// the SDKs computed checksums by default.
const debianPython = "/usr/bin/python3"

// requireBoto3 returns a tool running python with boto3 importable.
func requireBoto3(t *testing.T, python, how string) tool {
	t.Helper()
	py := tool{t: t, path: python}
	requireRuns(t, how, py, "-c", "import boto3")
	return py
}

// imagePython is the first python3 on PATH: the image's own, whose boto3
// is the newest this machine offers (botocore 1.43: CRC32 on uploads and
// response validation by default, no awscrt).
func imagePython(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("python3")
	if err != nil {
		missingDependency(t, "no python3 on PATH")
	}
	return p
}

// TestBoto3 runs a Ceph-style boto3 script against the binary with both
// signature versions RGW users use: s3v4 and the legacy "s3" (SigV2).
func TestBoto3(t *testing.T) {
	py := requireBoto3(t, requireTool(t, debianPython, "python3"), "apt-get install python3-boto3")
	srv := startServer(t, t.TempDir())
	for _, sig := range []string{"s3v4", "s3"} {
		t.Run(sig, func(t *testing.T) {
			out, err := py.run("testdata/boto3_client.py", srv.URL(), rootAccessKey, rootSecretKey, sig, "boto3-"+strings.ReplaceAll(sig, "3", "three"))
			if err != nil || !strings.Contains(out, "ALL OK") {
				t.Fatalf("boto3 %s failed: %v\n%s\nserver log:\n%s", sig, err, out, srv.log())
			}
		})
	}
}

// TestBoto3Matrix drives the binary with the newest boto3 of this machine
// and with Debian's, each with its default settings: upload_file of a file
// over 100 MiB (multipart) and of small ones, get_object with botocore's
// default response validation, download_file, the list_objects_v2
// paginator, presigned GETs fetched with net/http, delete_objects.
func TestBoto3Matrix(t *testing.T) {
	t.Parallel()
	srv := startMatrixServer(t)
	tree := makeSourceTree(t)
	pythons := []struct{ name, path, how string }{
		{"newest", "", "the image's python3 with boto3"},
		{"debian", debianPython, "apt-get install python3-boto3"},
	}
	for _, p := range pythons {
		t.Run(p.name, func(t *testing.T) {
			t.Parallel()
			path := p.path
			if path == "" {
				path = imagePython(t)
			}
			py := requireBoto3(t, requireTool(t, path, "python3"), p.how)
			if p.name == "newest" {
				requireDefaultIntegrity(t, py)
			}
			py.args = []string{"testdata/boto3_matrix.py"}
			sdkMatrix(t, srv, py, tree, "boto3-matrix-"+p.name)
		})
	}
}

// requireDefaultIntegrity makes sure the "newest" boto3 really is one with
// default request checksums and response validation (botocore 1.36 or
// later), so that a PATH without the image's python3 cannot quietly test
// Debian's old one twice.
func requireDefaultIntegrity(t *testing.T, py tool) {
	t.Helper()
	out, err := py.run("-c", "import botocore; v = botocore.__version__.split('.'); print('ok' if (int(v[0]), int(v[1])) >= (1, 36) else botocore.__version__)")
	if err != nil || strings.TrimSpace(out) != "ok" {
		missingDependency(t, "%s has botocore %s (%v); the newest client needs 1.36 or later", py.path, strings.TrimSpace(out), err)
	}
}
