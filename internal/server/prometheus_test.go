package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cairn-s3/cairn/internal/syncbuf"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cairn-s3/cairn/internal/probe"
	"github.com/cairn-s3/cairn/internal/server"
	"github.com/cairn-s3/cairn/internal/server/servertest"
)

// dashboardQueries returns the Prometheus queries of the Grafana dashboard.
func dashboardQueries(t *testing.T) []string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "deploy", "grafana", "cairn.json"))
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatalf("dashboard JSON: %v", err)
	}
	var qs []string
	for _, p := range dash.Panels {
		for _, tg := range p.Targets {
			qs = append(qs, tg.Expr)
		}
	}
	if len(qs) == 0 {
		t.Fatal("no queries in the dashboard")
	}
	return qs
}

// startProbe runs a prober of the gateway every second, serving its
// metrics on a loopback listener whose address it returns.
func startProbe(t *testing.T, g *gateway) string {
	t.Helper()
	p, err := probe.New(probe.Config{
		Endpoints: []string{g.srv.URL},
		Interval:  time.Second,
		Objects:   2,
		AWS: aws.Config{
			Region:      "us-east-1",
			Credentials: credentials.NewStaticCredentialsProvider(g.srv.RootAccessKey, g.srv.RootSecretKey, ""),
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(p.Handler()) // 127.0.0.1
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = p.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
		hs.Close()
		_ = p.Close()
	})
	return strings.TrimPrefix(hs.URL, "http://")
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// TestDashboardQueriesWithPrometheus runs a real Prometheus scraping the
// gateway and a `cairn probe` of it every second, and checks that every
// query of the Grafana dashboard returns data. Skipped without the
// prometheus binary, but under CI=true.
func TestDashboardQueriesWithPrometheus(t *testing.T) {
	bin, err := exec.LookPath("prometheus")
	if err != nil {
		if required() {
			t.Fatal("prometheus binary not found (CI=true)")
		}
		t.Skip("prometheus binary not found")
	}
	queries := dashboardQueries(t)

	// A gateway with a persistent topic delivering to an HTTP sink, so the
	// event and queue series exist.
	// The operator's metrics listener: only it serves the per-topic and
	// per-endpoint series the dashboard charts.
	g := startGatewayWith(t, servertest.Options{Notifications: fastRetries,
		Metrics: server.MetricsConfig{Address: "127.0.0.1:0"}})
	sink := newHTTPSink(t) // its buffer holds every event of the test
	bucket := newName("prom")
	g.bucket(t, bucket, g.topic(t, newName("t"), sink.topicAttrs(true)))
	ctx := context.Background()
	traffic := func(i int) {
		key := aws.String(fmt.Sprintf("k-%d", i))
		_, _ = g.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: key, Body: strings.NewReader("data")})
		if out, err := g.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: key}); err == nil {
			out.Body.Close()
		}
		_, _ = g.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("missing")})
	}
	traffic(0)
	probeAddr := startProbe(t, g)

	dir := t.TempDir()
	cfg := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(`global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: cairn
    metrics_path: /metrics
    static_configs:
      - targets: ["%s"]
  - job_name: cairn-probe
    static_configs:
      - targets: ["%s"]
`, g.srv.Server.MetricsAddr(), probeAddr)), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	pctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(pctx, bin, "--config.file="+cfg, "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr, "--log.level=warn")
	var logs syncbuf.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
	})

	pending := map[string]bool{}
	for _, q := range queries {
		pending[q] = true
	}
	client := &http.Client{Timeout: 5 * time.Second}
	deadline := time.Now().Add(90 * time.Second)
	for i := 1; len(pending) > 0 && time.Now().Before(deadline); i++ {
		traffic(i)
		time.Sleep(500 * time.Millisecond)
		for q := range pending {
			if hasData(client, addr, q) {
				delete(pending, q)
			}
		}
	}
	for q := range pending {
		t.Errorf("dashboard query returned no data: %s", q)
	}
	if t.Failed() {
		t.Logf("prometheus log:\n%s", logs.String())
	}
}

// hasData reports whether an instant query returns at least one sample.
func hasData(c *http.Client, addr, q string) bool {
	resp, err := c.Get("http://" + addr + "/api/v1/query?query=" + url.QueryEscape(q))
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	var r struct {
		Status string `json:"status"`
		Data   struct {
			Result []json.RawMessage `json:"result"`
		} `json:"data"`
	}
	if json.NewDecoder(resp.Body).Decode(&r) != nil {
		return false
	}
	return r.Status == "success" && len(r.Data.Result) > 0
}
