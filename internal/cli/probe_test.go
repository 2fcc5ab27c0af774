package cli

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cairn-s3/cairn/internal/server/servertest"
)

// probeEnv returns the AWS environment that gives `cairn probe` srv's
// root credentials.
func probeEnv(srv *servertest.Running) map[string]string {
	return map[string]string{
		"AWS_ACCESS_KEY_ID":     srv.RootAccessKey,
		"AWS_SECRET_ACCESS_KEY": srv.RootSecretKey,
		"AWS_REGION":            "us-east-1",
	}
}

func TestProbeOnce(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	out := ok(t, probeEnv(srv), "probe", "--once", "--endpoint", srv.URL, "--objects", "3", "--object-size", "512")
	if !strings.Contains(out, srv.URL+": ok") {
		t.Fatalf("stdout %q: want %q", out, srv.URL+": ok")
	}
}

// The endpoint comes from AWS_ENDPOINT_URL when --endpoint is absent, as
// for the other S3 verbs.
func TestProbeEndpointFromEnvironment(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	vars := probeEnv(srv)
	vars["AWS_ENDPOINT_URL"] = srv.URL
	out := ok(t, vars, "probe", "--once", "--objects", "1", "--object-size", "16")
	if !strings.Contains(out, srv.URL+": ok") {
		t.Fatalf("stdout %q: want %q", out, srv.URL+": ok")
	}
}

func TestProbeOnceFails(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	vars := probeEnv(srv)
	vars["AWS_SECRET_ACCESS_KEY"] = "not-the-secret"
	r := runCLI(t, vars, "probe", "--once", "--endpoint", srv.URL)
	if r.code == 0 || !strings.Contains(r.stdout, "FAIL create: SignatureDoesNotMatch") {
		t.Fatalf("exit %d, stdout %q: want a failure with SignatureDoesNotMatch", r.code, r.stdout)
	}

	srv.Stop()
	r = runCLI(t, probeEnv(srv), "probe", "--once", "--endpoint", srv.URL, "--request-timeout", "2s")
	if r.code == 0 || !strings.Contains(r.stdout, "FAIL create: connection") {
		t.Fatalf("exit %d, stdout %q: want a connection failure", r.code, r.stdout)
	}
}

func TestProbeFlags(t *testing.T) {
	fails(t, nil, "no endpoint: give --endpoint or set AWS_ENDPOINT_URL", "probe", "--once")
	fails(t, nil, "want http:// or https:// URL", "probe", "--once", "--endpoint", "127.0.0.1:1")
}

// Without --once the probe serves /metrics on --listen until its context
// ends.
func TestProbeServesMetrics(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan result, 1)
	go func() {
		done <- runCLIContext(ctx, probeEnv(srv), "probe", "--endpoint", srv.URL, "--listen", addr, "--interval", "1h", "--objects", "2")
	}()
	defer func() {
		cancel()
		select {
		case r := <-done:
			if r.code != 0 {
				t.Errorf("probe exit %d, stderr %q", r.code, r.stderr)
			}
		case <-time.After(10 * time.Second):
			t.Error("probe did not stop")
		}
	}()

	var body string
	eventually(t, 10*time.Second, "first cycle on /metrics", func() bool {
		resp, err := http.Get("http://" + addr + "/metrics")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		body = string(b)
		return strings.Contains(body, `s3_request_duration_seconds_count{target="`+srv.URL+`",task="remove"} 1`)
	})
	if !strings.Contains(body, `s3_requests_fails{target="`+srv.URL+`"} 0`) {
		t.Fatalf("/metrics: want s3_requests_fails 0:\n%s", body)
	}
}

func TestProbeOnceWithEvents(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	out := ok(t, probeEnv(srv), "probe", "--once", "--endpoint", srv.URL, "--objects", "1", "--event-listen", "127.0.0.1:0")
	if !strings.Contains(out, srv.URL+": ok") {
		t.Fatalf("stdout %q: want %q", out, srv.URL+": ok")
	}
}
