package server_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/cairn-s3/cairn/internal/server"
	"github.com/cairn-s3/cairn/internal/server/servertest"
)

// TestTenantMetricsDoNotNameTopics: GET /metrics is served unauthenticated
// on the S3 listener, and the queue gauges label each persistent topic
// "tenant:name": there they are left out, so another tenant or an anonymous
// client cannot learn every tenant's name, its topics' names and how busy
// they are. The operator's metrics listener still has them.
func TestTenantMetricsDoNotNameTopics(t *testing.T) {
	us := startTenantUsersWith(t, servertest.Options{Metrics: server.MetricsConfig{Address: "127.0.0.1:0"}}, "t2$alice")
	u := us["t2$alice"]
	// An endpoint nothing listens on keeps the event queued.
	arn := u.topic(t, "secret-project", map[string]string{"push-endpoint": "http://127.0.0.1:1/x", "persistent": "true"})
	u.mkbucket(t, "bkt")
	ok(t, "bind", u.bind("bkt", "n", arn))
	u.put(t, "bkt", "k")
	resp, err := http.Get(u.srv.URL + "/metrics")
	ok(t, "anonymous GET /metrics", err)
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	ok(t, "read", err)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "cairn_s3_requests_total") {
		t.Fatalf("anonymous GET /metrics = %d without the request counters", resp.StatusCode)
	}
	for _, line := range strings.Split(string(body), "\n") {
		if strings.Contains(line, "secret-project") || strings.Contains(line, "127.0.0.1:1") {
			t.Errorf("anonymous GET /metrics names t2's topic or endpoint: %s", line)
		}
	}
	status, private := httpGet(t, "http://"+u.srv.Server.MetricsAddr().String()+"/metrics")
	if want := `cairn_queue_depth{topic="t2:secret-project"} 1`; status != http.StatusOK || !strings.Contains(private, want) {
		t.Errorf("metrics listener = %d, missing %s", status, want)
	}
}
