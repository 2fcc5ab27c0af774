package server_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/cairn-s3/cairn/internal/server"
)

// TestTenantMetricsDoNotNameTopics (design question, fails today): GET
// /metrics is served unauthenticated on the S3 listener, and the queue
// gauges label each persistent topic "tenant:name", so anyone (another
// tenant, an anonymous client) learns every tenant's name, its topics'
// names and how busy they are.
func TestTenantMetricsDoNotNameTopics(t *testing.T) {
	us := startTenantUsers(t, server.NotificationConfig{}, "t2$alice")
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
	for _, line := range strings.Split(string(body), "\n") {
		if strings.Contains(line, "secret-project") {
			t.Errorf("anonymous GET /metrics (%d) names t2's topic: %s", resp.StatusCode, line)
		}
	}
}
