package e2e

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestDebugAddressServesPprof: with --debug-address the built server
// answers pprof on that loopback listener, and only there (never on the S3
// listener).
func TestDebugAddressServesPprof(t *testing.T) {
	debugAddr := freeLoopbackAddr(t)
	srv := startServer(t, t.TempDir(), "--debug-address", debugAddr)

	status, body := httpGet(t, "http://"+debugAddr+"/debug/pprof/")
	if status != http.StatusOK || !strings.Contains(body, "goroutine") || !strings.Contains(body, "heap") {
		t.Fatalf("GET /debug/pprof/ on the debug listener: %d\n%s", status, body)
	}
	status, body = httpGet(t, "http://"+debugAddr+"/debug/pprof/goroutine?debug=1")
	if status != http.StatusOK || !strings.Contains(body, "goroutine profile:") {
		t.Errorf("goroutine profile: %d\n%.300s", status, body)
	}
	status, body = httpGet(t, "http://"+debugAddr+"/debug/pprof/profile?seconds=1")
	if status != http.StatusOK || len(body) == 0 {
		t.Errorf("CPU profile: %d, %d bytes", status, len(body))
	}
	// The S3 listener treats the path as a bucket, as before.
	status, body = httpGet(t, srv.URL()+"/debug/pprof/")
	if status == http.StatusOK || strings.Contains(body, "goroutine") {
		t.Errorf("S3 listener serves pprof: %d\n%.300s", status, body)
	}
}

// TestDebugAddressRefusesNonLoopback: an address other than loopback is
// refused at start, with a message saying why and what to do.
func TestDebugAddressRefusesNonLoopback(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", ":0", "192.0.2.1:6060", "example.com:6060"} {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		cmd := exec.CommandContext(ctx, cairnBin, "server", "--data", t.TempDir(), "--address", freeLoopbackAddr(t),
			"--debug-address", addr, "--console-address", "")
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		timedOut := ctx.Err() != nil
		cancel()
		if err == nil || timedOut {
			t.Errorf("--debug-address %s: err %v (timed out: %v), want a refusal\n%s", addr, err, timedOut, out.String())
			continue
		}
		if msg := out.String(); !strings.Contains(msg, "not a loopback address") || !strings.Contains(msg, "--debug-allow-remote") {
			t.Errorf("--debug-address %s: message does not say why or what to do:\n%s", addr, msg)
		}
	}
}

func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}
